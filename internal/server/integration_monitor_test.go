package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/sip/siptest"
)

// quPutUser creates an API user (as `switchd user add` does) in the
// running switch's database.
func quPutUser(t *testing.T, cfg *server.Config, name, role string) {
	t.Helper()
	st, err := store.Open(context.Background(), cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret, err := store.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(context.Background(), name, role, secret); err != nil {
		t.Fatal(err)
	}
}

// TestMonitorListenWhisperBarge: a customer (1001, 1000 Hz) reaches agent
// a1 (2001, 1500 Hz) through the entry flow and the sales queue. The
// supervisor (2005, 700 Hz) dials *33 2001: in listen mode they hear both
// and nobody hears them; after key 2 (whisper) the agent hears them and
// the customer does not; switched to barge through the API, everyone
// hears everyone. When the supervisor hangs up the call is back on the
// relay, the two still talking. An agent without the supervisor role is
// refused. The audit log has every step.
func TestMonitorListenWhisperBarge(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{
		quAgent("a1", "2001", store.AgentQueue{Queue: "sales"}),
		quAgent("sup1", "2005"),
		quAgent("a9", "2009"),
	}
	ts, _, cfg := quServer(t, quQueues(`
  - name: sales
    offer_timeout: 10s
`), agents, func(c *server.Config) {
		c.Services = append(c.Services, server.ServiceConfig{Number: "*600", Then: "flow", Flow: "entry"})
	})
	quPutUser(t, cfg, "sup1", "supervisor")
	quPutUser(t, cfg, "a9", "agent")
	cs := &callServer{testServer: ts}
	ts.addExtension("1004", "secret-1004")
	customer := cs.phone("1004", "secret-1004", toneA)
	agent := cs.phone("2001", quAgentPW, toneB)
	sup := cs.phone("2005", quAgentPW, toneC)
	intruder := cs.phone("2009", quAgentPW, 900)
	ts.quSetState(t, "a1", "available", "")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	answered := answerNextCall(ctx, agent, siptest.AnswerOptions{})
	cc, err := customer.Dial(ctx, "*600", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	side := <-answered
	if side.err != nil {
		t.Fatalf("agent: %v", side.err)
	}
	ac := side.call
	tones := []float64{toneA, toneB, toneC}
	// hears checks which of the three tones a call hears now.
	hears := func(who string, c *siptest.Call, a, b, s bool) {
		t.Helper()
		time.Sleep(300 * time.Millisecond)
		lv, err := c.ToneLevels(ctx, time.Second, tones...)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{a, b, s} {
			if want && lv[i] < siptest.ToneDetected/2 || !want && lv[i] > siptest.ToneAbsent {
				t.Fatalf("%s hears customer/agent/supervisor at %.2f/%.2f/%.2f, want %v/%v/%v", who, lv[0], lv[1], lv[2], a, b, s)
			}
		}
	}
	hears("customer", cc, false, true, false)
	hears("agent", ac, true, false, false)

	if c, err := intruder.Dial(ctx, "*332001", siptest.DialOptions{}); err == nil {
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("an agent without the supervisor role was not hung up")
		}
	} else if err != nil {
		t.Logf("intruder's call: %v", err)
	}

	sc, err := sup.Dial(ctx, "*332001", siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mons struct {
		Monitors []struct {
			CallID string `json:"call_id"`
			Mode   string `json:"mode"`
		} `json:"monitors"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(mons.Monitors) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no monitor session listed")
		}
		time.Sleep(50 * time.Millisecond)
		ts.api("GET", "/api/v1/monitors", nil, &mons)
	}
	callID := mons.Monitors[0].CallID
	// listen
	hears("supervisor (listen)", sc, true, true, false)
	hears("customer (listen)", cc, false, true, false)
	hears("agent (listen)", ac, true, false, false)
	// whisper, by key 2 (SIP INFO)
	if code, err := sc.SendInfo(ctx, "application/dtmf-relay", []byte("Signal=2\r\nDuration=160\r\n")); err != nil || code != 200 {
		t.Fatalf("INFO 2: %d %v", code, err)
	}
	hears("agent (whisper)", ac, true, false, true)
	hears("customer (whisper)", cc, false, true, false)
	// barge, by the API
	if code := ts.api("POST", "/api/v1/monitors/"+callID+"/mode", map[string]string{"mode": "barge"}, nil); code != http.StatusNoContent {
		t.Fatalf("mode barge: %d", code)
	}
	hears("customer (barge)", cc, false, true, true)
	hears("agent (barge)", ac, true, false, true)
	hears("supervisor (barge)", sc, true, true, false)
	if err := sc.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	hears("customer (after)", cc, false, true, false)
	hears("agent (after)", ac, true, false, false)

	var audit struct {
		Audit []struct {
			Supervisor string `json:"supervisor"`
			Action     string `json:"action"`
			Mode       string `json:"mode"`
			CallID     string `json:"call_id"`
		} `json:"audit"`
	}
	ts.api("GET", "/api/v1/monitors/audit", nil, &audit)
	var got []string
	for _, a := range audit.Audit {
		got = append(got, a.Action+":"+a.Mode)
	}
	want := []string{"refused:", "start:listen", "mode:whisper", "mode:barge", "stop:"}
	if len(got) != len(want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("audit %v, want %v", got, want)
		}
	}
	if audit.Audit[1].Supervisor != "sup1" || audit.Audit[1].CallID != callID {
		t.Fatalf("audit start %+v", audit.Audit[1])
	}
}
