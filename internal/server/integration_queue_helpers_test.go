package server_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/routing"
	"github.com/switchd/switchd/sip/siptest"
)

// The queue tests' numbers: DIDs routed to the entry flow and straight to
// queues, agents' extensions, callers.
const (
	didQueue  = "+862155550150" // → ivr entry → queue sales (VIP by caller)
	didGold   = "+862155550151" // → queue gold
	didSilver = "+862155550152" // → queue silver
	quVIP     = "013900000009"  // the entry flow gives this caller priority 50
	quAgentPW = "agent-secret-1"
	quMOHFreq = 440.0 // the music on hold of these tests: a tone
)

// quEntryFlow is the IVR of didQueue: a VIP caller (by number) gets
// priority 50, everyone else 0, in queue sales.
const quEntryFlow = `
start: route
nodes:
  route:
    type: branch
    cases:
      - if: caller == "+8613900000009"
        next: vip
    else: normal
  vip:
    type: enqueue
    queue: sales
    priority: 50
  normal:
    type: enqueue
    queue: sales
`

// quServer starts switchd with carrier A's trunk, the queue DIDs, the
// entry flow, the queues of queuesYAML and the agents (each with its
// extension), music on hold a 440 Hz tone.
func quServer(t *testing.T, queuesYAML string, agents []store.Agent, tune ...func(*server.Config)) (*testServer, trCarrier, *server.Config) {
	t.Helper()
	return quServerFlows(t, nil, queuesYAML, agents, tune...)
}

// quServerFlows is quServer with more IVR flows (name → YAML).
func quServerFlows(t *testing.T, flows map[string]string, queuesYAML string, agents []store.Agent, tune ...func(*server.Config)) (*testServer, trCarrier, *server.Config) {
	t.Helper()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	dir := t.TempDir()
	flowDir, queueDir, mohDir := filepath.Join(dir, "ivr"), filepath.Join(dir, "queues"), filepath.Join(dir, "moh")
	for _, d := range []string{flowDir, queueDir, mohDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(flowDir, "entry.yaml"), quEntryFlow)
	for name, text := range flows {
		write(filepath.Join(flowDir, name+".yaml"), text)
	}
	write(filepath.Join(queueDir, "queues.yaml"), queuesYAML)
	ivrToneWAV(t, filepath.Join(mohDir, "tone.wav"), quMOHFreq, 2)
	cfg := trConfig(t, a, b, func(c *server.Config) {
		c.DIDs = []routing.DIDConfig{
			{Number: didQueue, IVR: "entry"},
			{Number: didGold, Queue: "gold"},
			{Number: didSilver, Queue: "silver"},
		}
		c.IVR.Dir, c.ACD.Dir, c.Prompts.MOHDir = flowDir, queueDir, mohDir
		for _, f := range tune {
			f(c)
		}
	})
	quPutAgents(t, cfg, agents)
	ts := scStart(t, cfg)
	for _, ag := range agents {
		for _, d := range ag.Devices {
			ts.addExtension(d, quAgentPW)
		}
	}
	return ts, a, cfg
}

// quPutAgents writes agent profiles into the switch's database before it
// starts (as `switchd agent add` does).
func quPutAgents(t *testing.T, cfg *server.Config, agents []store.Agent) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, a := range agents {
		if err := st.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

// quAgent is a profile with one device, in the given queues.
func quAgent(id, ext string, queues ...store.AgentQueue) store.Agent {
	return store.Agent{ID: id, Name: "Agent " + id, Devices: []string{ext}, Queues: queues}
}

// quStartPhone registers ext from a fresh port and runs scenario scen as
// its phone for calls calls, media echoed (-rtp_echo) from a fresh port,
// -d talk.
func (ts *testServer) quStartPhone(t *testing.T, scen, ext string, calls int, talk time.Duration) *sipptest.Process {
	t.Helper()
	return ts.quStartPhoneKeys(t, scen, ext, calls, talk, nil)
}

// quStartPhoneKeys is quStartPhone with the scenario's keys.
func (ts *testServer) quStartPhoneKeys(t *testing.T, scen, ext string, calls int, talk time.Duration, keys map[string]string) *sipptest.Process {
	t.Helper()
	port := sipptest.FreePort(t, "127.0.0.1")
	reg := ts.sippRegister("register.xml", ext, quAgentPW, ext, "3600")
	reg.LocalPort = port
	requireSuccess(t, sipptest.Run(t, reg), 1)
	mp := sipptest.FreeMediaPort(t, "127.0.0.1")
	p := sipptest.Start(t, sipptest.Options{
		Scenario: scen, Remote: ts.udpAddr, LocalPort: port, Calls: calls, Timeout: 60 * time.Second, Keys: keys,
		Args: []string{"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp), "-rtp_echo", "-d", strconv.Itoa(int(talk.Milliseconds()))},
	})
	p.WaitListening("127.0.0.1", port, 5*time.Second)
	return p
}

// quSetState changes an agent's state through the API.
func (ts *testServer) quSetState(t *testing.T, agent, state, reason string) {
	t.Helper()
	body := map[string]string{"state": state}
	if reason != "" {
		body["reason"] = reason
	}
	if code := ts.api("POST", "/api/v1/agents/"+agent+"/state", body, nil); code/100 != 2 {
		t.Fatalf("POST /api/v1/agents/%s/state %s: status %d", agent, state, code)
	}
}

// quAgentState is an agent as GET /api/v1/agents/{id} shows it.
type quAgentState struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Reason string `json:"reason"`
	Misses int    `json:"misses"`
}

func (ts *testServer) quAgentState(t *testing.T, agent string) quAgentState {
	t.Helper()
	var out quAgentState
	if code := ts.api("GET", "/api/v1/agents/"+agent, nil, &out); code != http.StatusOK {
		t.Fatalf("GET /api/v1/agents/%s: %d", agent, code)
	}
	return out
}

// quEvent is a stored queue event (the routing trace).
type quEvent struct {
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	CallID string    `json:"call_id"`
	Caller struct {
		Number string `json:"number"`
	} `json:"caller"`
	Cause string            `json:"cause"`
	Data  map[string]string `json:"data"`
}

// quEvents reads the stored queue events of a query string.
func (ts *testServer) quEvents(t *testing.T, query string) []quEvent {
	t.Helper()
	var out struct {
		Events []quEvent `json:"events"`
	}
	if code := ts.api("GET", "/api/v1/queues/events?"+query, nil, &out); code != http.StatusOK {
		t.Fatalf("GET /api/v1/queues/events?%s: %d", query, code)
	}
	return out.Events
}

// quWaitEvents waits until n stored events of type typ match the query.
func (ts *testServer) quWaitEvents(t *testing.T, query, typ string, n int, within time.Duration) []quEvent {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var got []quEvent
		for _, e := range ts.quEvents(t, query) {
			if e.Type == typ {
				got = append(got, e)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d %s event(s) for %q, want %d; events: %+v", within, len(got), typ, query, n, ts.quEvents(t, query))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quWaiting waits until queue has n contacts waiting.
func (ts *testServer) quWaiting(t *testing.T, queue string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var out struct {
			Queues []struct {
				Name    string `json:"name"`
				Waiting int    `json:"waiting"`
			} `json:"queues"`
		}
		if code := ts.api("GET", "/api/v1/queues", nil, &out); code != http.StatusOK {
			t.Fatalf("GET /api/v1/queues: %d", code)
		}
		for _, q := range out.Queues {
			if q.Name == queue && q.Waiting == n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue %s: not %d waiting after %s: %+v", queue, n, within, out.Queues)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scKeys merges sipp keys (later maps win).
func scKeys(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// quCaller is a carrier's caller (sipp from carrier A) whose media is the
// test's: it sends a numbered RTP stream from the answer on and sorts
// what comes back into echoes of its own packets (they crossed an agent's
// phone) and switchd's own audio (music, announcements), decoded.
type quCaller struct {
	proc *sipptest.Process
	conn *net.UDPConn
	stop context.CancelFunc
	done chan struct{}

	mu        sync.Mutex
	answered  netip.AddrPort
	echoes    int
	firstEcho time.Time
	heard     []int16 // switchd's audio before the first echo
}

// quCall places a call from number from (national format) to did.
func (ts *testServer) quCall(t *testing.T, from, did string) *quCaller {
	t.Helper()
	return ts.quCallWith(t, "queue/carrier_await_bye.xml", from, did, nil)
}

// quCallWith is quCall running scenario scen (a testdata path, a variant
// of carrier_await_bye.xml) with more keys.
func (ts *testServer) quCallWith(t *testing.T, scen, from, did string, keys map[string]string) *quCaller {
	t.Helper()
	carrier := trFreeCarrier(t, carrierA)
	conn, rtpPort := trMediaSocket(t, carrierA)
	answerFile := filepath.Join(t.TempDir(), "answer")
	national := "0" + did[len("+86"):]
	c := &quCaller{conn: conn, done: make(chan struct{})}
	c.proc = sipptest.Start(t, sipptest.Options{
		Scenario: filepath.Join("testdata", scen), Remote: ts.udpAddr,
		LocalIP: carrier.ip, LocalPort: carrier.port, Calls: 1, Timeout: 90 * time.Second,
		Keys: scKeys(keys, map[string]string{"from": from, "rtp_ip": carrierA, "rtp_port": strconv.Itoa(rtpPort), "answer_file": answerFile}),
		Args: []string{"-s", national},
	})
	c.answered = scWaitAnswerFile(t, answerFile, c.proc, 15*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	c.stop = cancel
	go c.run(ctx)
	t.Cleanup(c.close)
	return c
}

// run sends 20 ms packets and reads until ctx ends.
func (c *quCaller) run(ctx context.Context) {
	defer close(c.done)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, src, err := c.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			c.take(buf[:n], src)
		}
	}()
	to := net.UDPAddrFromAddrPort(c.answered)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		c.conn.WriteToUDP(scRTP(i), to)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// take sorts one packet.
func (c *quCaller) take(pkt []byte, src netip.AddrPort) {
	if len(pkt) < 12 || netip.AddrPortFrom(src.Addr().Unmap(), src.Port()) != c.answered {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if binary.BigEndian.Uint32(pkt[8:]) == scSSRC && len(pkt) == 12+160 && string(pkt[12:23]) == "SWITCHD-RTP" {
		if c.echoes == 0 {
			c.firstEcho = time.Now()
		}
		c.echoes++
		return
	}
	if c.echoes == 0 && pkt[1]&0x7f == 8 { // PCMA from switchd's endpoint
		pcm := g711.DecodeAlaw(pkt[12:]) // 16-bit little-endian
		for i := 0; i+1 < len(pcm); i += 2 {
			c.heard = append(c.heard, int16(binary.LittleEndian.Uint16(pcm[i:])))
		}
	}
}

func (c *quCaller) close() {
	c.stop()
	c.conn.SetReadDeadline(time.Now())
	<-c.done
}

// waitEchoes waits until n of the caller's packets came back through an
// agent's phone.
func (c *quCaller) waitEchoes(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c.mu.Lock()
		got := c.echoes
		c.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("caller: %d packets echoed back through the agent after %s, want %d", got, within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heardAudio is switchd's audio to the caller before an agent answered.
func (c *quCaller) heardAudio() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.heard...)
}

// quSpeech counts the 100 ms windows of s that are loud and not the music
// on hold: what an announcement (speech synthesis) sounds like.
func quSpeech(s []int16) (speech, music int) {
	const w = 800
	for i := 0; i+w <= len(s); i += w {
		win := s[i : i+w]
		var sum float64
		for _, v := range win {
			sum += float64(v) * float64(v)
		}
		rms := math.Sqrt(sum / w)
		switch lvl := siptest.ToneLevel(win, quMOHFreq); {
		case lvl >= siptest.ToneDetected:
			music++
		case rms > 300 && lvl < 0.2:
			speech++
		}
	}
	return speech, music
}

// quQueues is a queue file for the tests.
func quQueues(body string) string { return fmt.Sprintf("queues:\n%s", body) }
