package siptest

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// pair returns phone a set up to call phone b directly (no server between).
func pair(t *testing.T, aHz, bHz float64) (a, b *Phone) {
	t.Helper()
	var err error
	if b, err = New(Config{User: "b", Server: netipLoopback(1), ToneHz: bHz}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if a, err = New(Config{User: "a", Server: b.Addr(), ToneHz: aHz}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, b
}

// connect makes a call from a to b with answer options and dial options.
func connect(t *testing.T, ctx context.Context, a, b *Phone, dial DialOptions, answer AnswerOptions) (ca, cb *Call) {
	t.Helper()
	type result struct {
		c   *Call
		err error
	}
	answered := make(chan result, 1)
	go func() {
		in, err := b.Accept(ctx)
		if err != nil {
			answered <- result{err: err}
			return
		}
		in.Ring()
		c, err := in.Answer(ctx, answer)
		answered <- result{c, err}
	}()
	ca, err := a.Dial(ctx, "b", dial)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	r := <-answered
	if r.err != nil {
		t.Fatalf("Answer: %v", r.err)
	}
	return ca, r.c
}

// hears checks that c hears want and not absent.
func hears(t *testing.T, ctx context.Context, who string, c *Call, want, absent float64) {
	t.Helper()
	lv, err := c.ToneLevels(ctx, 500*time.Millisecond, want, absent)
	if err != nil {
		t.Fatalf("%s: %v (stats %+v)", who, err, c.Stats())
	}
	if lv[0] < ToneDetected || lv[1] > ToneAbsent {
		t.Errorf("%s: level at %v Hz %.3f (want ≥ %v), at %v Hz %.3f (want ≤ %v)", who, want, lv[0], ToneDetected, absent, lv[1], ToneAbsent)
	}
}

func TestPhoneToPhoneToneBothWays(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := pair(t, 1000, 1500)
	ca, cb := connect(t, ctx, a, b, DialOptions{Codecs: []Codec{PCMA, PCMU}}, AnswerOptions{})
	if ca.Codec() != PCMA || cb.Codec() != PCMA {
		t.Errorf("codecs %v/%v, want PCMA (the offerer's first)", ca.Codec(), cb.Codec())
	}
	hears(t, ctx, "a", ca, 1500, 1000)
	hears(t, ctx, "b", cb, 1000, 1500)
	if got := cb.Stats().PayloadTypes[PCMA.PayloadType]; got == 0 {
		t.Errorf("b received no PCMA packets: %+v", cb.Stats())
	}
	if err := ca.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cb.Done():
	case <-ctx.Done():
		t.Fatal("b's call did not end on BYE")
	}
	if !cb.EndedByPeer() || ca.EndedByPeer() {
		t.Errorf("EndedByPeer a=%v b=%v, want false/true", ca.EndedByPeer(), cb.EndedByPeer())
	}
	if err := ca.Hangup(ctx); !errors.Is(err, ErrCallEnded) {
		t.Errorf("second Hangup: %v, want ErrCallEnded", err)
	}
}

func TestPhoneToPhoneLateOfferAndHold(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := pair(t, 1000, 1500)
	ca, cb := connect(t, ctx, a, b, DialOptions{LateOffer: true}, AnswerOptions{Codecs: []Codec{PCMU}})
	hears(t, ctx, "a", ca, 1500, 1000)
	hears(t, ctx, "b", cb, 1000, 1500)

	v0 := cb.LocalSDP().Origin.Version
	ans, err := cb.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Direction != RecvOnly {
		t.Errorf("hold answered %q, want recvonly", ans.Direction)
	}
	if got := cb.LocalSDP().Origin.Version; got != v0+1 {
		t.Errorf("o= version %d after hold, want %d", got, v0+1)
	}
	select {
	case off := <-ca.ReInvites():
		if off.Direction != SendOnly {
			t.Errorf("a got offer %q", off.Direction)
		}
	case <-ctx.Done():
		t.Fatal("a saw no re-INVITE")
	}
	hears(t, ctx, "a (held by b)", ca, 1500, 1000)
	if _, err := cb.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	hears(t, ctx, "b (resumed)", cb, 1000, 1500)
	if err := cb.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	<-ca.Done()
}

func TestPhoneToPhoneCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := pair(t, 1000, 1500)
	out, err := a.Invite(ctx, "b", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := b.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	<-out.Early()
	if err := out.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := out.Wait(ctx); StatusCode(err) != 487 {
		t.Errorf("INVITE after CANCEL: %v, want 487", err)
	}
	select {
	case <-in.Cancelled():
	case <-ctx.Done():
		t.Fatal("b did not see the CANCEL")
	}
	if _, err := in.Answer(ctx, AnswerOptions{}); !errors.Is(err, ErrCancelled) {
		t.Errorf("Answer after CANCEL: %v", err)
	}
}

func TestPhoneCloseReleasesEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := pair(t, 1000, 1500)
	connect(t, ctx, a, b, DialOptions{}, AnswerOptions{})
	// A call left up, and an INVITE nobody accepts: Close ends both.
	if _, err := a.Invite(ctx, "b", DialOptions{}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	a.Close() // idempotent
	deadline := time.Now().Add(40 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// netipLoopback is a placeholder server address for a phone that only answers.
func netipLoopback(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
}

// TestNotifiesKeepOrder: a transferor's NOTIFYs are sent one at a time,
// each after the last one's answer; Notifies must deliver them in that
// order even though the phone handles requests concurrently.
func TestNotifiesKeepOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, b := pair(t, 1000, 1500)
	ca, cb := connect(t, ctx, a, b, DialOptions{}, AnswerOptions{})
	lines := []string{"SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"}
	for round := 0; round < 100; round++ {
		for _, line := range lines {
			req := ca.newRequest(sip.NOTIFY, 0, []byte(line+"\r\n"))
			req.AppendHeader(sip.NewHeader("Event", "refer"))
			req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
			res, err := a.transact(ctx, req)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("round %d: NOTIFY %q: %v %v", round, line, res, err)
			}
		}
		for _, want := range lines {
			select {
			case got := <-cb.Notifies():
				if got != want {
					t.Fatalf("round %d: NOTIFY %q delivered where %q was sent", round, got, want)
				}
			case <-ctx.Done():
				t.Fatalf("round %d: %q never delivered", round, want)
			}
		}
	}
}
