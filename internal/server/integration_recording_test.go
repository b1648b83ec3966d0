package server_test

import (
	"context"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/dtmf"
	"github.com/switchd/switchd/recordings"
	"github.com/switchd/switchd/sip/siptest"
)

// recFlow asks for a card number (sensitive) and queues the call.
const recFlow = `
start: card
nodes:
  card:
    type: collect
    var: card
    prompt: Please enter your card number, then hash.
    max_length: 8
    terminator: "#"
    timeout: 10s
    sensitive: true
    next: queue
    no_input: queue
    invalid: queue
  queue:
    type: enqueue
    queue: sales
`

// recReadStereo splits a 16-bit stereo WAV (canonical header) into its
// channels.
func recReadStereo(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[36:40]) != "data" || binary.LittleEndian.Uint16(b[22:]) != 2 {
		t.Fatalf("%s: not a canonical stereo WAV", path)
	}
	data := b[44:]
	if n := int(binary.LittleEndian.Uint32(b[40:])); n != len(data) {
		t.Fatalf("%s: data size %d in the header, %d in the file", path, n, len(data))
	}
	for i := 0; i+3 < len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return left, right
}

// recWindows counts the 200 ms windows of s where freq dominates.
func recWindows(s []int16, freq float64) int {
	n := 0
	for i := 0; i+1600 <= len(s); i += 1600 {
		if siptest.ToneLevel(s[i:i+1600], freq) >= siptest.ToneDetected {
			n++
		}
	}
	return n
}

// TestRecordingStereoAndSensitive: with recordings.mode always, a customer
// (1000 Hz) keys a card number during a sensitive collect, then reaches
// agent a1 (1500 Hz) through the queue. The recording, indexed with the
// call, queue and agent, has the customer on the left and the agent on
// the right, a pause where the card was keyed, and no DTMF digit at all.
func TestRecordingStereoAndSensitive(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{quAgent("a1", "2001", store.AgentQueue{Queue: "sales"})}
	ts, _, cfg := quServerFlows(t, map[string]string{"card": recFlow}, quQueues(`
  - name: sales
    offer_timeout: 10s
`), agents, func(c *server.Config) {
		c.Recordings.Mode = "always"
		c.Services = append(c.Services, server.ServiceConfig{Number: "*601", Then: "flow", Flow: "card"})
	})
	cs := &callServer{testServer: ts}
	ts.addExtension("1004", "secret-1004")
	customer := cs.phone("1004", "secret-1004", toneA)
	agent := cs.phone("2001", quAgentPW, toneB)
	ts.quSetState(t, "a1", "available", "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	answered := answerNextCall(ctx, agent, siptest.AnswerOptions{})
	cc, err := customer.Dial(ctx, "*601", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // into the prompt
	if err := cc.SendDTMF("41111111#", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	side := <-answered
	if side.err != nil {
		t.Fatalf("agent: %v", side.err)
	}
	time.Sleep(3 * time.Second) // talk
	if err := cc.Hangup(ctx); err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(ctx, cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var recs []recordings.Record
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err = st.ListRecordings(ctx, store.RecordingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 && recs[0].State == recordings.StateComplete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recordings: %+v", recs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := recs[0]
	if r.Queue != "sales" || r.Agent != "a1" || r.Caller != "1004" || len(r.Paused) == 0 {
		t.Fatalf("recording %+v: want queue sales, agent a1, caller 1004 and a pause", r)
	}
	left, right := recReadStereo(t, r.Path)
	if d := time.Duration(len(left)) * time.Second / 8000; d < 4*time.Second || d > 15*time.Second {
		t.Fatalf("recording of %s", d)
	}
	det := dtmf.NewInBand()
	var f audio.Frame
	for i := 0; i+len(f) <= len(left); i += len(f) {
		copy(f[:], left[i:])
		if ev, ok := det.Frame(&f, time.Unix(0, int64(i)*int64(time.Second)/8000)); ok {
			t.Fatalf("the recording holds DTMF digit %q at %.2f s", ev.Digit, float64(i)/8000)
		}
	}
	if n := recWindows(left, toneA); n < 10 {
		t.Fatalf("customer's tone in %d windows of the left channel", n)
	}
	if n := recWindows(right, toneB); n < 10 {
		t.Fatalf("agent's tone in %d windows of the right channel", n)
	}
	if n := recWindows(left, toneB); n > 0 {
		t.Fatalf("agent's tone in %d windows of the left channel", n)
	}
	if n := recWindows(right, toneA); n > 0 {
		t.Fatalf("customer's tone in %d windows of the right channel", n)
	}
}
