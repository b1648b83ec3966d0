package server_test

// Calls switchd answers itself (service numbers): prompts from files,
// tones and text-to-speech, music on hold, and DTMF from real peers in all
// three ways (RFC 4733 from sipp, in-band and SIP INFO from the Go test
// phone), observed as call_dtmf events on the API's WebSocket.

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/sip/siptest"
	"github.com/switchd/switchd/tts"
)

// appToneWAV writes a WAV at rate (not 8 kHz, so switchd resamples it):
// 600 ms of f1, then 600 ms of f2.
func appToneWAV(t *testing.T, dir string, rate int, f1, f2 float64) string {
	t.Helper()
	n := rate * 6 / 10
	samples := make([]int16, 2*n)
	for i := range samples {
		f := f1
		if i >= n {
			f = f2
		}
		samples[i] = int16(8000 * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	path := filepath.Join(dir, "tones.wav")
	if err := audio.WriteWAV(path, rate, 1, samples); err != nil {
		t.Fatal(err)
	}
	return path
}

// appWindows splits audio into 100 ms windows and returns, per window, the
// Goertzel level (0…1 of the window's energy) at each frequency, and its RMS.
func appWindows(samples []int16, freqs ...float64) (levels [][]float64, rms []float64) {
	const w = 800
	for i := 0; i+w <= len(samples); i += w {
		win := samples[i : i+w]
		var e float64
		for _, x := range win {
			e += float64(x) * float64(x)
		}
		row := make([]float64, len(freqs))
		for k, f := range freqs {
			row[k] = siptest.ToneLevel(win, f)
		}
		levels = append(levels, row)
		rms = append(rms, math.Sqrt(e/w))
	}
	return levels, rms
}

// TestServicePlaysFileAndSpeech: extension 1001 (the Go test phone) dials
// a service number that plays a 16 kHz WAV of two tones (1100 Hz then
// 1700 Hz), then a sentence by text-to-speech. The phone hears the tones
// in that order, then speech lasting about as long as the synthesiser
// renders the sentence. A service that beeps and hangs up sends its BYE.
func TestServicePlaysFileAndSpeech(t *testing.T) {
	t.Parallel()
	wav := appToneWAV(t, t.TempDir(), 16000, 1100, 1700)
	const sentence = "Thank you for calling. This is a test."
	cs := startCallServer(t, func(c *server.Config) {
		c.Services = []server.ServiceConfig{
			{Number: "*97", Name: "test line", Play: []server.PromptItemConfig{{File: wav}, {Text: sentence, Language: "en"}}, Then: "wait"},
			{Number: "*96", Name: "beep", Play: []server.PromptItemConfig{{Tone: "beep"}}},
		}
	})
	// What the synthesiser makes of the sentence (the same engine switchd uses).
	r, err := tts.New(tts.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	clip, err := r.Synthesize(context.Background(), tts.Request{Text: sentence, Language: "en"})
	if err != nil {
		t.Fatalf("text-to-speech (Debian package espeak-ng): %v", err)
	}
	phone := cs.phone(ext1001, pw1001, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := phone.Dial(ctx, "*97", siptest.DialOptions{})
	if err != nil {
		t.Fatalf("dial *97: %v", err)
	}
	heard, err := c.Listen(ctx, 1200*time.Millisecond+clip.Duration()+600*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	levels, rms := appWindows(heard, 1100, 1700)
	first, second, speechStart := -1, -1, -1
	for i, l := range levels {
		switch {
		case first < 0 && l[0] > siptest.ToneDetected:
			first = i
		case first >= 0 && second < 0 && l[1] > siptest.ToneDetected:
			second = i
		case second >= 0 && speechStart < 0 && l[1] < siptest.ToneAbsent && rms[i] > 300:
			speechStart = i
		}
	}
	if first < 0 || second < 0 || second <= first {
		t.Fatalf("tones heard out of order or not at all: 1100 Hz from window %d, 1700 Hz from %d (levels %v)", first, second, levels)
	}
	if second-first < 4 || second-first > 8 {
		t.Fatalf("1100 Hz lasted %d00 ms, want ~600 ms", second-first)
	}
	if speechStart < 0 {
		t.Fatalf("no speech after the tones (RMS per 100 ms: %v)", rms)
	}
	speechEnd := speechStart
	for i := speechStart; i < len(rms); i++ {
		if rms[i] > 100 {
			speechEnd = i + 1
		}
	}
	got := time.Duration(speechEnd-speechStart) * 100 * time.Millisecond
	if want := clip.Duration(); got < want*7/10 || got > want*13/10+200*time.Millisecond {
		t.Fatalf("speech lasted %v, the synthesiser renders %v", got, want)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}

	// A service that plays and then hangs up (then: hangup, the default):
	// the 1 kHz beep is heard, then switchd's BYE.
	c, err = phone.Dial(ctx, "*96", siptest.DialOptions{})
	if err != nil {
		t.Fatalf("dial *96: %v", err)
	}
	beep, err := c.Listen(ctx, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if lv := siptest.ToneLevel(beep, 1000); lv < siptest.ToneDetected {
		t.Fatalf("the beep was heard at %.2f", lv)
	}
	select {
	case <-c.Done():
		if !c.EndedByPeer() {
			t.Fatal("call ended, but not by switchd's BYE")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("switchd did not hang up after the beep")
	}
}

// TestServiceMusicOnHold: a service number that plays music on hold from
// a folder: the phone hears the folder's music (a 900 Hz WAV at 44.1 kHz).
func TestServiceMusicOnHold(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appToneWAV(t, dir, 44100, 900, 900)
	cs := startCallServer(t, func(c *server.Config) {
		c.Services = []server.ServiceConfig{{Number: "*60", Then: "moh", MOH: dir}}
	})
	phone := cs.phone(ext1001, pw1001, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := phone.Dial(ctx, "*60", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 3 s: longer than the file (1.2 s), so the loop is heard too.
	heard, err := c.Listen(ctx, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	levels, _ := appWindows(heard, 900)
	on := 0
	for _, l := range levels {
		if l[0] > siptest.ToneDetected {
			on++
		}
	}
	if on < len(levels)*8/10 {
		t.Fatalf("900 Hz music in %d of %d windows (levels %v)", on, len(levels), levels)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// appEvents follows the API's event WebSocket and returns its events.
func (ts *testServer) appEvents(t *testing.T, ctx context.Context) <-chan call.Event {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.http, "http") + "/api/v1/events?token=" + ts.token
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("events WebSocket: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	out := make(chan call.Event, 256)
	go func() {
		defer close(out)
		defer conn.CloseNow()
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var e call.Event
			if json.Unmarshal(b, &e) == nil {
				out <- e
			}
		}
	}()
	return out
}

// appDigits collects the digits of call_dtmf events until n arrived.
func appDigits(t *testing.T, events <-chan call.Event, n int, within time.Duration) (digits string, sources []string) {
	t.Helper()
	deadline := time.After(within)
	for len(digits) < n {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("event stream ended after digits %q", digits)
			}
			if e.Type == call.EventCallDTMF {
				digits += e.Data[call.DataDigit]
				sources = append(sources, e.Data[call.DataDTMFSource])
			}
		case <-deadline:
			t.Fatalf("after %v: digits %q (%v), want %d", within, digits, sources, n)
		}
	}
	return digits, sources
}

// TestServiceDigitsEveryWay: digits reach switchd as the same call_dtmf
// events whether sipp sends them as RFC 4733 telephone-events, or the Go
// test phone sends them in-band in its audio or as SIP INFO
// (application/dtmf-relay and application/dtmf) — one event per key press.
func TestServiceDigitsEveryWay(t *testing.T) {
	t.Parallel()
	cs := startCallServer(t, func(c *server.Config) {
		c.Services = []server.ServiceConfig{{Number: "*98", Name: "digits", Then: "wait"}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := cs.appEvents(t, ctx)

	// In-band and SIP INFO from the Go phone.
	phone := cs.phone(ext1001, pw1001, 0)
	c, err := phone.Dial(ctx, "*98", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendDTMF("5*", 120*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	d, src := appDigits(t, events, 2, 5*time.Second)
	if d != "5*" || src[0] != "inband" || src[1] != "inband" {
		t.Fatalf("in-band digits arrived as %q from %v, want 5* in-band", d, src)
	}
	for _, info := range []struct{ ct, body string }{
		{"application/dtmf-relay", "Signal=7\r\nDuration=160\r\n"},
		{"application/dtmf", "9"},
	} {
		code, err := c.SendInfo(ctx, info.ct, []byte(info.body))
		if err != nil || code != 200 {
			t.Fatalf("INFO %s: %d %v", info.ct, code, err)
		}
	}
	d, src = appDigits(t, events, 2, 5*time.Second)
	if d != "79" || src[0] != "sip-info" || src[1] != "sip-info" {
		t.Fatalf("SIP INFO digits arrived as %q from %v, want 79", d, src)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}

	// RFC 4733 from sipp: 1, 2, 3, 4, # in a pcap (play_pcap_audio needs a raw socket: root).
	if os.Geteuid() != 0 {
		t.Fatal("sending RFC 4733 with sipp's play_pcap_audio needs root")
	}
	pcap, err := filepath.Abs(filepath.Join("testdata", "app", "pcma_dtmf_1234hash.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	scen := sipptest.MaterializeScenario(t, filepath.Join("testdata", "app", "uac_dtmf.xml"), t.TempDir(), "pcap/pcma_dtmf_1234hash.pcap", pcap)
	r := sipptest.Run(t, sipptest.Options{
		Scenario: scen, Remote: cs.udpAddr, Calls: 1, Timeout: 30 * time.Second,
		Users: []sipptest.User{{Name: ext1001, Password: pw1001}},
		Args:  []string{"-s", "*98", "-d", "500", "-mi", "127.0.0.1", "-mp", strconv.Itoa(sipptest.FreeMediaPort(t, "127.0.0.1"))},
	})
	requireSuccess(t, r, 1)
	d, src = appDigits(t, events, 5, 10*time.Second)
	quiet := time.After(500 * time.Millisecond) // one event per key: nothing more comes
	for done := false; !done; {
		select {
		case e := <-events:
			if e.Type == call.EventCallDTMF {
				t.Fatalf("a sixth digit event after 1234#: %+v", e)
			}
		case <-quiet:
			done = true
		}
	}
	if d != "1234#" {
		t.Fatalf("RFC 4733 digits arrived as %q from %v, want 1234#", d, src)
	}
	for _, s := range src {
		if s != "rfc4733" {
			t.Fatalf("RFC 4733 digits reported from %v: want every one from rfc4733 (and once: the pcap's tone is not a digit)", src)
		}
	}
}

// TestServiceTransferBridges: a service number plays an announcement and
// connects the caller to extension 1002: the caller hears the
// announcement (1100 Hz then 1700 Hz), then the two phones talk — each
// hears the other's tone through switchd — and the CDR names the route.
func TestServiceTransferBridges(t *testing.T) {
	t.Parallel()
	wav := appToneWAV(t, t.TempDir(), 8000, 1100, 1700)
	cs := startCallServer(t, func(c *server.Config) {
		c.Services = []server.ServiceConfig{{Number: "*20", Name: "sales", Play: []server.PromptItemConfig{{File: wav}},
			Then: "transfer", Transfer: ext1002}}
	})
	caller := cs.phone(ext1001, pw1001, toneA)
	callee := cs.phone(ext1002, pw1002, toneB)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	answered := answerNextCall(ctx, callee, siptest.AnswerOptions{})
	c, err := caller.Dial(ctx, "*20", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	heard, err := c.Listen(ctx, 1100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	levels, _ := appWindows(heard, 1100, 1700)
	if levels[2][0] < siptest.ToneDetected || levels[len(levels)-2][1] < siptest.ToneDetected {
		t.Fatalf("announcement not heard: %v", levels)
	}
	side := <-answered
	if side.err != nil {
		t.Fatalf("1002 did not get the call: %v", side.err)
	}
	time.Sleep(300 * time.Millisecond) // the relay starts on the answer
	lv, err := c.ToneLevels(ctx, time.Second, toneB, toneA)
	if err != nil {
		t.Fatal(err)
	}
	if lv[0] < siptest.ToneDetected || lv[1] > siptest.ToneAbsent {
		t.Fatalf("caller hears 1002's tone at %.2f and its own at %.2f", lv[0], lv[1])
	}
	lv, err = side.call.ToneLevels(ctx, time.Second, toneA, toneB)
	if err != nil {
		t.Fatal(err)
	}
	if lv[0] < siptest.ToneDetected || lv[1] > siptest.ToneAbsent {
		t.Fatalf("1002 hears the caller's tone at %.2f and its own at %.2f", lv[0], lv[1])
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-side.call.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("1002 got no BYE after the caller hung up")
	}
}
