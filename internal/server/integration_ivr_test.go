package server_test

// IVR flows end to end: callers hear the menu, press keys (RFC 4733 from
// sipp on a DID, in-band from the Go test phone), and end up at the right
// extension; hours with an injected clock; an http node asking a local
// CRM; a hot reload while 20 calls are in a flow.

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/routing"
	"github.com/switchd/switchd/sip/siptest"
)

// The menu flow of these tests: the prompt is prompts/menu.wav (1100 Hz
// then 1700 Hz); 1 → extension 1002, 2 → busy, nothing → normal clearing.
const ivrMenuFlow = `
start: menu
nodes:
  menu:
    type: menu
    prompt:
      - audio: menu
    options:
      "1": to_1002
      "2": busy
    timeout: 8s
    retries: 1
    invalid: bye
    no_input: bye
  to_1002:
    type: transfer
    extension: "1002"
  busy:
    type: hangup
    cause: busy
  bye:
    type: hangup
`

// ivrDirs writes flows (name → YAML) into a new flows folder and the menu
// prompt into a new prompts folder.
func ivrDirs(t *testing.T, flows map[string]string, prompts func(dir string)) (flowDir, promptDir string) {
	t.Helper()
	flowDir, promptDir = t.TempDir(), t.TempDir()
	for name, y := range flows {
		if err := os.WriteFile(filepath.Join(flowDir, name+".yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wav := appToneWAV(t, promptDir, 8000, 1100, 1700)
	if err := os.Rename(wav, filepath.Join(promptDir, "menu.wav")); err != nil {
		t.Fatal(err)
	}
	if prompts != nil {
		prompts(promptDir)
	}
	return flowDir, promptDir
}

// ivrTest is a switchd running flows from flowDir with prompts in promptDir.
type ivrTest struct {
	*callServer
	flowDir, promptDir string
}

// ivrServer starts switchd with the flows, service *500 running flow
// "menu" (more services may be given) and extensions 1001, 1002; srvOpts
// go to server.New (a clock).
func ivrServer(t *testing.T, flows map[string]string, srvOpts []server.Option, tune ...serverOpts) *ivrTest {
	t.Helper()
	return ivrServerPrompts(t, flows, nil, srvOpts, tune...)
}

// ivrServerPrompts is ivrServer with more recorded prompts written by prompts.
func ivrServerPrompts(t *testing.T, flows map[string]string, prompts func(dir string), srvOpts []server.Option, tune ...serverOpts) *ivrTest {
	t.Helper()
	flowDir, promptDir := ivrDirs(t, flows, prompts)
	cs := startCallServerWith(t, srvOpts, append([]serverOpts{func(c *server.Config) {
		c.IVR.Dir = flowDir
		c.Prompts.Dir = promptDir
		c.Services = append(c.Services, server.ServiceConfig{Number: "*500", Then: "flow", Flow: "menu"})
	}}, tune...)...)
	return &ivrTest{callServer: cs, flowDir: flowDir, promptDir: promptDir}
}

// ivrToneWAV writes seconds of a tone at freq into path (8 kHz).
func ivrToneWAV(t *testing.T, path string, freq float64, seconds float64) {
	t.Helper()
	samples := make([]int16, int(seconds*8000))
	for i := range samples {
		samples[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	if err := audio.WriteWAV(path, 8000, 1, samples); err != nil {
		t.Fatal(err)
	}
}

// ivrHearMenu checks that the caller hears the menu prompt: 1100 Hz, then 1700 Hz.
func ivrHearMenu(t *testing.T, ctx context.Context, c *siptest.Call) {
	t.Helper()
	heard, err := c.Listen(ctx, 1100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	levels, _ := appWindows(heard, 1100, 1700)
	if levels[2][0] < siptest.ToneDetected || levels[len(levels)-2][1] < siptest.ToneDetected {
		t.Fatalf("menu prompt not heard (1100 Hz then 1700 Hz): %v", levels)
	}
}

// ivrRequireTalk checks that the two phones hear each other's tone.
func ivrRequireTalk(t *testing.T, ctx context.Context, a *siptest.Call, aTone float64, b *siptest.Call, bTone float64) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	for _, x := range []struct {
		c          *siptest.Call
		want, self float64
	}{{a, bTone, aTone}, {b, aTone, bTone}} {
		lv, err := x.c.ToneLevels(ctx, time.Second, x.want, x.self)
		if err != nil {
			t.Fatal(err)
		}
		if lv[0] < siptest.ToneDetected || lv[1] > siptest.ToneAbsent {
			t.Fatalf("a phone hears the other's %v Hz at %.2f and its own %v Hz at %.2f", x.want, lv[0], x.self, lv[1])
		}
	}
}

// TestIVRMenuInBandToExtension: 1001 dials a number running the menu
// flow, hears the menu, presses 1 as in-band DTMF and is connected to
// 1002; the two phones hear each other through switchd.
func TestIVRMenuInBandToExtension(t *testing.T) {
	t.Parallel()
	cs := ivrServer(t, map[string]string{"menu": ivrMenuFlow}, nil)
	caller := cs.phone(ext1001, pw1001, toneA)
	callee := cs.phone(ext1002, pw1002, toneB)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answered := answerNextCall(ctx, callee, siptest.AnswerOptions{})
	c, err := caller.Dial(ctx, "*500", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ivrHearMenu(t, ctx, c)
	if err := c.SendDTMF("1", 120*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	side := <-answered
	if side.err != nil {
		t.Fatalf("1002 did not get the call after the caller pressed 1: %v", side.err)
	}
	ivrRequireTalk(t, ctx, c, toneA, side.call, toneB)
	c.Hangup(ctx)
}

// TestIVRDIDRFC4733FromCarrier: a carrier (sipp on 127.0.0.2) calls the
// DID routed to the menu flow and presses 1 2 3 4 # as RFC 4733 events;
// the first key takes the caller to extension 1002. The CDR says the call
// came in on the trunk and went through the flow to the extension.
func TestIVRDIDRFC4733FromCarrier(t *testing.T) {
	t.Parallel()
	carrier := trFreeCarrier(t, carrierA)
	cs := ivrServer(t, map[string]string{"menu": ivrMenuFlow}, nil, func(c *server.Config) {
		c.Numbering = routing.Numbering{CountryCode: "86", NationalPrefix: "0", InternationalPrefix: "00"}
		c.Trunks = []routing.TrunkConfig{{Name: "carrier-a", Host: carrier.ip, Port: carrier.port,
			Inbound: routing.TrunkInboundConfig{Addresses: []string{carrier.ip}}}}
		c.DIDs = []routing.DIDConfig{{Number: didMain, IVR: "menu"}}
	})
	callee := cs.phone(ext1002, pw1002, toneB)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	answered := answerNextCall(ctx, callee, siptest.AnswerOptions{})
	if os.Geteuid() != 0 {
		t.Fatal("sending RFC 4733 with sipp's play_pcap_audio needs root")
	}
	pcap, err := filepath.Abs(filepath.Join("testdata", "app", "pcma_dtmf_1234hash.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	scen := sipptest.MaterializeScenario(t, filepath.Join("testdata", "app", "uac_dtmf.xml"), t.TempDir(), "pcap/pcma_dtmf_1234hash.pcap", pcap)
	uac := sipptest.Start(t, sipptest.Options{
		Scenario: scen, Remote: cs.udpAddr, LocalIP: carrier.ip, LocalPort: carrier.port, Calls: 1, Timeout: 30 * time.Second,
		Users: []sipptest.User{{Name: "013912345678", Password: "unused"}},
		Args:  []string{"-s", "02155550100", "-d", "2000", "-mi", carrier.ip, "-mp", strconv.Itoa(sipptest.FreeMediaPort(t, carrier.ip))},
	})
	side := <-answered
	if side.err != nil {
		t.Fatalf("1002 did not get the call: %v", side.err)
	}
	if from := side.in.Request().From().Address.User; from != "+8613912345678" {
		t.Fatalf("1002 sees the caller as %q, want +8613912345678", from)
	}
	// The carrier's audio (the pcap's PCMA stream after the digits) reaches 1002.
	before := side.call.Stats().Received
	time.Sleep(600 * time.Millisecond)
	if got := side.call.Stats().Received - before; got < 10 {
		t.Fatalf("1002 received %d RTP packets in 600 ms from the carrier through switchd", got)
	}
	requireSuccess(t, uac.Wait(), 1)
	c := cs.trWaitCDR(t, 10*time.Second)
	if c.Direction != "inbound" || c.Trunk != "carrier-a" || !strings.Contains(c.Route, "ivr menu") || !strings.Contains(c.Route, "extension 1002") {
		t.Fatalf("CDR %+v: want inbound on carrier-a, routed through ivr menu to extension 1002", c)
	}
}

// TestIVRHoursClosedWithInjectedClock: the switch's clock says Sunday
// 03:00 in Shanghai: the hours node takes the closed branch (busy), seen
// in the flow's trace events and as the call's end.
func TestIVRHoursClosedWithInjectedClock(t *testing.T) {
	t.Parallel()
	const hours = `
timezone: Asia/Shanghai
start: check
nodes:
  check:
    type: hours
    schedule:
      - mon-fri 09:00-18:00
    open: open
    closed: closed
  open:
    type: transfer
    extension: "1002"
  closed:
    type: hangup
    cause: busy
`
	// The switch's clock: a Sunday at 03:00 in Shanghai, running on from there.
	sunday := time.Date(2026, 11, 22, 3, 0, 0, 0, time.FixedZone("CST", 8*3600))
	start := time.Now()
	clock := func() time.Time { return sunday.Add(time.Since(start)) }
	cs := ivrServer(t, map[string]string{"menu": ivrMenuFlow, "hours": hours}, []server.Option{server.WithClock(clock)}, func(c *server.Config) {
		c.Services = append(c.Services, server.ServiceConfig{Number: "*501", Then: "flow", Flow: "hours"})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := cs.appEvents(t, ctx)
	caller := cs.phone(ext1001, pw1001, 0)
	c, err := caller.Dial(ctx, "*501", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the closed branch did not hang up")
	}
	branch := ivrBranch(t, events, "check", 5*time.Second)
	if branch != "closed" {
		t.Fatalf("hours node branched to %q on a Sunday night, want closed", branch)
	}
}

// ivrBranch waits for the ivr_branch event of node and returns its branch.
func ivrBranch(t *testing.T, events <-chan call.Event, node string, within time.Duration) string {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			if e.Type == "ivr_branch" && e.Data["node"] == node {
				return e.Data["branch"]
			}
		case <-deadline:
			t.Fatalf("no ivr_branch event for node %s within %v", node, within)
		}
	}
}

// TestIVRHTTPNodeVIP: an http node asks a local CRM about the caller; a
// VIP answer sends the call to extension 1002, another caller (not VIP)
// gets busy.
func TestIVRHTTPNodeVIP(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		phone := r.URL.Query().Get("phone")
		mu.Lock()
		asked = append(asked, phone)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if phone == ext1001 {
			fmt.Fprint(w, `{"customer": {"vip": "yes", "name": "Ada"}}`)
			return
		}
		fmt.Fprint(w, `{"customer": {"vip": "no"}}`)
	}))
	defer crm.Close()
	vip := `
start: lookup
nodes:
  lookup:
    type: http
    method: GET
    url: ` + crm.URL + `/customers?phone=${caller}
    timeout: 2s
    map:
      vip: customer.vip
    next: route
    failure: busy
  route:
    type: branch
    cases:
      - if: vip == "yes"
        next: to_1002
    else: busy
  to_1002:
    type: transfer
    extension: "1002"
  busy:
    type: hangup
    cause: busy
`
	cs := ivrServer(t, map[string]string{"menu": ivrMenuFlow, "vip": vip}, nil, func(c *server.Config) {
		c.Services = append(c.Services, server.ServiceConfig{Number: "*502", Then: "flow", Flow: "vip"})
	})
	caller := cs.phone(ext1001, pw1001, 0)
	callee := cs.phone(ext1002, pw1002, toneB)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answered := answerNextCall(ctx, callee, siptest.AnswerOptions{})
	c, err := caller.Dial(ctx, "*502", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	side := <-answered
	if side.err != nil {
		t.Fatalf("the VIP was not connected to 1002: %v", side.err)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	// 1002 is no VIP: busy, switchd hangs up.
	c, err = callee.Dial(ctx, "*502", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
		if !c.EndedByPeer() {
			t.Fatal("the non-VIP call ended, but not by switchd")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the non-VIP call was not hung up")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 || asked[0] != ext1001 || asked[1] != ext1002 {
		t.Fatalf("CRM asked about %v, want [1001 1002]", asked)
	}
	if cdr := cs.trWaitCDR(t, 5*time.Second); cdr.Caller != ext1002 || cdr.Cause != "busy" {
		t.Fatalf("non-VIP CDR %+v: want caller 1002, cause busy", cdr)
	}
}

// TestIVRHotReloadDuring20Calls: 20 calls are in a flow playing a long
// prompt when the flow file changes and is reloaded; every one of them
// finishes on the version it started with (switchd hangs up after the
// prompt), none is lost, and a call after the reload runs the new version.
func TestIVRHotReloadDuring20Calls(t *testing.T) {
	t.Parallel()
	long := func(freq int) string {
		return fmt.Sprintf(`
start: play
nodes:
  play:
    type: play
    prompt:
      - audio: tone%d
    next: bye
  bye:
    type: hangup
`, freq)
	}
	// 4 s prompts: long enough to reload while all 20 calls play.
	prompts := func(dir string) {
		for _, f := range []float64{900, 1300} {
			ivrToneWAV(t, filepath.Join(dir, fmt.Sprintf("tone%.0f.wav", f)), f, 4)
		}
	}
	cs := ivrServerPrompts(t, map[string]string{"menu": ivrMenuFlow, "long": long(900)}, prompts, nil, func(c *server.Config) {
		c.Services = append(c.Services, server.ServiceConfig{Number: "*503", Then: "flow", Flow: "long"})
		c.IVR.ReloadInterval = 0 // reload by hand, as SIGHUP does
	})
	flowDir := cs.flowDir
	caller := cs.phone(ext1001, pw1001, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 20
	calls := make([]*siptest.Call, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := caller.Dial(ctx, "*503", siptest.DialOptions{})
			if err != nil {
				errs <- fmt.Errorf("call %d: %w", i, err)
				return
			}
			calls[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Change the flow (a different prompt) and reload while all 20 play.
	if err := os.WriteFile(filepath.Join(flowDir, "long.yaml"), []byte(long(1300)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cs.srv.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	// Calls in progress go on with the version they started with: 900 Hz.
	for _, c := range calls[:3] {
		heard, err := c.Listen(ctx, 400*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if old, nu := siptest.ToneLevel(heard, 900), siptest.ToneLevel(heard, 1300); old < siptest.ToneDetected || nu > siptest.ToneAbsent {
			t.Fatalf("a call in progress hears the old prompt at %.2f and the new one at %.2f after the reload", old, nu)
		}
	}
	for i, c := range calls {
		select {
		case <-c.Done():
			if !c.EndedByPeer() {
				t.Fatalf("call %d ended, but not by switchd after its prompt", i)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("call %d still up 15 s after the reload", i)
		}
	}
	// A new call plays the new version: 1300 Hz.
	c, err := caller.Dial(ctx, "*503", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	heard, err := c.Listen(ctx, 600*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if lv := siptest.ToneLevel(heard[800:], 1300); lv < siptest.ToneDetected {
		t.Fatalf("after the reload a new call hears 1300 Hz at %.2f", lv)
	}
	c.Hangup(ctx)
	cdrs := cs.trCDRs()
	normal := 0
	for _, r := range cdrs {
		if r.Cause == "normal_clearing" && r.HangupSide == "switch" {
			normal++
		}
	}
	if normal < n {
		t.Fatalf("%d of the %d calls through the reload ended normally by switchd (CDRs %+v)", normal, n, cdrs)
	}
}

// TestIVRVoicemail: a flow records a message after the beep; the caller
// (sending a 1000 Hz tone) speaks for about 1.5 s and presses #. The
// message is listed by the API with its call and caller, and its WAV holds
// the caller's tone for about that long.
func TestIVRVoicemail(t *testing.T) {
	t.Parallel()
	const vm = `
start: record
nodes:
  record:
    type: voicemail
    box: sales
    max_duration: 20s
    next: bye
    failure: bye
  bye:
    type: hangup
`
	cs := ivrServer(t, map[string]string{"menu": ivrMenuFlow, "vm": vm}, nil, func(c *server.Config) {
		c.Services = append(c.Services, server.ServiceConfig{Number: "*504", Then: "flow", Flow: "vm"})
	})
	caller := cs.phone(ext1001, pw1001, toneB) // not the 1 kHz beep
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := caller.Dial(ctx, "*504", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The beep (1 kHz in the eu plan) comes first; wait for it to end.
	time.Sleep(800 * time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // the message: our tone
	if err := c.SendDTMF("#", 120*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("switchd did not hang up after the message")
	}
	var out struct {
		Voicemails []struct {
			CallID     string `json:"call_id"`
			Caller     string `json:"caller"`
			Box        string `json:"box"`
			File       string `json:"file"`
			DurationMS int64  `json:"duration_ms"`
		} `json:"voicemails"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(out.Voicemails) == 0 && time.Now().Before(deadline) {
		if code := cs.api("GET", "/api/v1/voicemails?box=sales", nil, &out); code != http.StatusOK {
			t.Fatalf("GET /api/v1/voicemails: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(out.Voicemails) != 1 {
		t.Fatalf("voicemails: %+v", out.Voicemails)
	}
	v := out.Voicemails[0]
	if v.Caller != ext1001 || v.CallID == "" || v.DurationMS < 1200 || v.DurationMS > 2600 {
		t.Fatalf("voicemail %+v: want caller 1001, a call ID and 1.2-2.6 s (1.5 s spoken, then #)", v)
	}
	clip, err := audio.LoadWAV(v.File)
	if err != nil {
		t.Fatalf("the message's WAV: %v", err)
	}
	if d := clip.Duration() - time.Duration(v.DurationMS)*time.Millisecond; d < -40*time.Millisecond || d > 40*time.Millisecond {
		t.Fatalf("the WAV lasts %v, the row says %d ms", clip.Duration(), v.DurationMS)
	}
	// The caller's tone fills at least 1.2 s of it; switchd's own beep (1 kHz) is not in it.
	levels, _ := appWindows(clip.Samples, toneB, 1000)
	voiced := 0
	for _, l := range levels {
		if l[0] > siptest.ToneDetected {
			voiced++
		}
		if l[1] > siptest.ToneAbsent {
			t.Fatalf("the message holds the 1 kHz beep: %v", levels)
		}
	}
	if voiced < 12 {
		t.Fatalf("the caller's %v Hz tone in %d of %d 100 ms windows, want ≥ 12", toneB, voiced, len(levels))
	}
}
