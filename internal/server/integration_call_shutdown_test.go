package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/sip/siptest"
)

// TestCallGracefulShutdown: on shutdown switchd refuses new calls with 503,
// lets the active call go on for drain_timeout (2 s in these tests), then
// hangs it up with BYE to both phones.
func TestCallGracefulShutdown(t *testing.T) {
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, 1000)
	b := cs.phone(ext1002, pw1002, 1500)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})

	stopped := make(chan struct{})
	start := time.Now()
	go func() { cs.stop(); close(stopped) }()
	time.Sleep(300 * time.Millisecond)

	// While draining: the call still carries audio, a new call gets 503.
	assertTonesCross(t, ctx, "during drain", ca, cb.call)
	_, err := a.Dial(ctx, ext1002, siptest.DialOptions{})
	if code := siptest.StatusCode(err); code != 503 {
		t.Fatalf("new call while draining: %v (status %d), want 503", err, code)
	}

	// After the drain timeout both phones get BYE from switchd.
	for name, c := range map[string]*siptest.Call{"caller": ca, "callee": cb.call} {
		select {
		case <-c.Done():
			if !c.EndedByPeer() {
				t.Errorf("%s's call ended, but not by switchd's BYE", name)
			}
		case <-time.After(6 * time.Second):
			t.Fatalf("%s was not hung up after the drain timeout", name)
		}
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("calls cut after %s, before the 2 s drain timeout", d)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
}

// TestInviteRequire100relAndUnknownDialog: RFC 3262 reliable provisionals
// are not supported (420 with Unsupported), and in-dialog requests for no
// dialog get 481 (RFC 3261 §12.2.2).
func TestInviteRequire100relAndUnknownDialog(t *testing.T) {
	cs := startCallServer(t)
	c := newRawClient(t, "127.0.0.1", cs.udpAddr)
	invite := func(extra string) string {
		return fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:%s@127.0.0.1>;tag=a1\r\nTo: <sip:%s@127.0.0.1>%s\r\nCall-ID: %d@test\r\nCSeq: 1 INVITE\r\n"+
			"Contact: <sip:%s@%s>\r\nRequire: 100rel\r\nContent-Length: 0\r\n\r\n",
			ext1002, cs.udpAddr, c.local, time.Now().UnixNano(), ext1001, ext1002, extra, time.Now().UnixNano(), ext1001, c.local)
	}
	c.send(invite(""))
	var final *sipResponse
	for final == nil {
		res, err := c.recv(2 * time.Second)
		if err != nil {
			t.Fatalf("INVITE with Require: 100rel: %v", err)
		}
		if res.Code >= 200 {
			final = res
		}
	}
	if final.Code != 420 || !strings.Contains(final.get("Unsupported"), "100rel") {
		t.Fatalf("Require: 100rel answered %d %s (Unsupported %q), want 420 naming 100rel", final.Code, final.Reason, final.get("Unsupported"))
	}
	bye := fmt.Sprintf("BYE sip:switchd@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKbye%d;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:%s@127.0.0.1>;tag=a1\r\nTo: <sip:%s@127.0.0.1>;tag=nosuch\r\nCall-ID: nosuch@test\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
		cs.udpAddr, c.local, time.Now().UnixNano(), ext1001, ext1002)
	if res := c.roundTrip(bye); res.Code != 481 {
		t.Fatalf("BYE for no dialog: %d %s, want 481", res.Code, res.Reason)
	}
}
