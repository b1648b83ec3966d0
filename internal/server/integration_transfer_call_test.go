package server_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/sip/siptest"
	"github.com/switchd/switchd/web"
)

// Transfers between desk phones, proven by tones: every phone sends its
// own, and after a transfer the two parties left must hear each other and
// nobody else.

// 1003 sends toneC (the conference tests' third phone).
const (
	ext1003 = "1003"
	pw1003  = "secret-1003"
)

// mohHz is the music on hold of the transfer tests: a 900 Hz WAV.
const mohHz = 900.0

// threePhones starts a call server with 1001, 1002 and 1003 registered
// (tones A, B, C), music on hold a mohHz tone, and a context for the
// test's 40 s.
func threePhones(t *testing.T) (cs *callServer, a, b, c *siptest.Phone, ctx context.Context) {
	t.Helper()
	moh := t.TempDir()
	appToneWAV(t, moh, 44100, mohHz, mohHz)
	cs = startCallServer(t, func(c *server.Config) { c.Prompts.MOHDir = moh })
	cs.addExtension(ext1003, pw1003)
	a, b, c = cs.phone(ext1001, pw1001, toneA), cs.phone(ext1002, pw1002, toneB), cs.phone(ext1003, pw1003, toneC)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	t.Cleanup(cancel)
	return cs, a, b, c, ctx
}

// assertPair listens on two calls at once: each must hear the other's
// tone (x hears yHz, y hears xHz) and not its own.
func assertPair(t *testing.T, ctx context.Context, what string, x *siptest.Call, xHz float64, y *siptest.Call, yHz float64) {
	t.Helper()
	assertPairNamed(t, ctx, what, [2]string{"first party", "second party"}, x, xHz, y, yHz)
}

// assertPairNamed is assertPair with the parties' names for messages.
func assertPairNamed(t *testing.T, ctx context.Context, what string, names [2]string, x *siptest.Call, xHz float64, y *siptest.Call, yHz float64) {
	t.Helper()
	var wg sync.WaitGroup
	var hx, hy toneHeard
	listen := func(c *siptest.Call, own, far float64, h *toneHeard) {
		defer wg.Done()
		lv, err := c.ToneLevels(ctx, time.Second, own, far)
		if err != nil {
			h.err = err
			return
		}
		h.own, h.other = lv[0], lv[1]
	}
	wg.Add(2)
	go listen(x, xHz, yHz, &hx)
	go listen(y, yHz, xHz, &hy)
	wg.Wait()
	for _, s := range []struct {
		who string
		h   toneHeard
		c   *siptest.Call
	}{{names[0], hx, x}, {names[1], hy, y}} {
		switch {
		case s.h.err != nil:
			t.Errorf("%s: %s heard nothing: %v (RTP %+v)", what, s.who, s.h.err, s.c.Stats())
		case s.h.other < siptest.ToneDetected:
			t.Errorf("%s: %s hears the far tone at %.3f, want ≥ %v (RTP %+v)", what, s.who, s.h.other, siptest.ToneDetected, s.c.Stats())
		case s.h.own > siptest.ToneAbsent:
			t.Errorf("%s: %s hears its own tone at %.3f, want ≤ %v (echo)", what, s.who, s.h.own, siptest.ToneAbsent)
		default:
			t.Logf("%s: %s hears far tone %.3f, own tone %.4f", what, s.who, s.h.other, s.h.own)
		}
	}
}

// waitNotifies reads a transferor's NOTIFYs until a final status and
// returns the status lines.
func waitNotifies(t *testing.T, c *siptest.Call, within time.Duration) []string {
	t.Helper()
	var got []string
	deadline := time.After(within)
	for {
		select {
		case line := <-c.Notifies():
			got = append(got, line)
			if !strings.HasPrefix(line, "SIP/2.0 1") {
				return got
			}
		case <-deadline:
			t.Fatalf("NOTIFYs after %s: %q, no final status", within, got)
		}
	}
}

// waitEnded waits until switchd hangs c up.
func waitEnded(t *testing.T, what string, c *siptest.Call, within time.Duration) {
	t.Helper()
	select {
	case <-c.Done():
		if !c.EndedByPeer() {
			t.Errorf("%s: ended by the phone, want by switchd", what)
		}
	case <-time.After(within):
		t.Fatalf("%s: still up after %s", what, within)
	}
}

// xfCallTransfers returns every stored call_transferred event.
func (ts *testServer) xfCallTransfers(t *testing.T) []quEvent {
	t.Helper()
	var out []quEvent
	for _, e := range ts.quEvents(t, "limit=1000") {
		if e.Type == "call_transferred" {
			out = append(out, e)
		}
	}
	return out
}

// TestTransferAttendedReplaces: 1001 calls 1002; 1002 holds it, consults
// 1003 and transfers with REFER + Replaces (RFC 3891). 1002's two calls
// end, and 1001 and 1003 talk: each hears the other's tone. The
// consultation call's CDR ends with cause transferred.
func TestTransferAttendedReplaces(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)

	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	assertPair(t, ctx, "before the transfer", ca, toneA, cb.call, toneB)
	if _, err := cb.call.Hold(ctx); err != nil {
		t.Fatalf("1002 holds: %v", err)
	}
	consult, cc := dialAndAnswer(t, ctx, b, c, siptest.DialOptions{}, siptest.AnswerOptions{})
	assertPair(t, ctx, "consultation", consult, toneB, cc.call, toneC)

	referred := time.Now()
	code, err := cb.call.Refer(ctx, ext1003, consult.Replaces())
	if err != nil || code != 202 {
		t.Fatalf("REFER with Replaces: %d %v, want 202", code, err)
	}
	if got := waitNotifies(t, cb.call, 10*time.Second); !slices.Equal(got, []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}) {
		t.Fatalf("NOTIFYs %q, want 100 Trying then 200 OK", got)
	}
	t.Logf("REFER to NOTIFY 200: %s", time.Since(referred).Round(time.Millisecond))
	waitEnded(t, "1002's call with 1001", cb.call, 10*time.Second)
	waitEnded(t, "1002's consultation with 1003", consult, 10*time.Second)
	assertPair(t, ctx, "after the transfer", ca, toneA, cc.call, toneC)

	xs := cs.xfCallTransfers(t)
	if len(xs) != 1 || xs[0].Data["transfer_kind"] != "attended" || xs[0].Data["transferor"] != ext1002 ||
		xs[0].Data["transferee"] != ext1001 || xs[0].Data["transfer_target"] != ext1003 || xs[0].Data["transfer_replaced"] == "" {
		t.Fatalf("transfers %+v, want one attended by 1002 moving 1001 to 1003", xs)
	}
	cs.hangupAndWait(ctx, ca, cc.call)
	var consultCause, mainRoute string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, r := range cs.trCDRs() { // the CDR writer is asynchronous: wait for both to be complete
			switch {
			case r.ID == xs[0].Data["transfer_replaced"]:
				consultCause = r.Cause
			case r.ID == xs[0].CallID && r.Cause != "":
				mainRoute = r.Route
			}
		}
		if consultCause != "" && mainRoute != "" {
			break
		}
	}
	if consultCause != "transferred" || !strings.Contains(mainRoute, "transfer "+ext1003) {
		t.Fatalf("CDRs: consultation cause %q (want transferred), main call route %q (want … transfer 1003)", consultCause, mainRoute)
	}
}

// TestTransferAttendedWhileRinging: 1002 consults 1003 but transfers
// (REFER with the early dialog's Replaces) while 1003 still rings: the
// consultation is cancelled and 1003 rings again, now for 1001; when it
// answers, 1001 and 1003 talk.
func TestTransferAttendedWhileRinging(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)

	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	consult, err := b.Invite(ctx, ext1003, siptest.DialOptions{})
	if err != nil {
		t.Fatalf("1002 dials 1003: %v", err)
	}
	first := ringUnanswered(t, ctx, c)
	waitFor(t, 5*time.Second, "1002 sees the early dialog (180 with a To tag)", func() bool { return consult.Replaces() != "" })
	if code, err := cb.call.Refer(ctx, ext1003, consult.Replaces()); err != nil || code != 202 {
		t.Fatalf("REFER with the early dialog: %d %v", code, err)
	}
	select {
	case <-first.Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatal("the consultation INVITE to 1003 was not cancelled")
	}
	if _, err := consult.Wait(ctx); siptest.StatusCode(err) != 487 {
		t.Fatalf("1002's consultation INVITE ended with %v, want 487", err)
	}
	cc := <-answerNextCall(ctx, c, siptest.AnswerOptions{})
	if cc.err != nil {
		t.Fatalf("1003 answers the transfer: %v", cc.err)
	}
	if got := waitNotifies(t, cb.call, 10*time.Second); !slices.Equal(got, []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}) {
		t.Fatalf("NOTIFYs %q, want 100 Trying then 200 OK", got)
	}
	waitEnded(t, "1002's call", cb.call, 10*time.Second)
	assertPair(t, ctx, "after the transfer", ca, toneA, cc.call, toneC)
	cs.hangupAndWait(ctx, ca, cc.call)
}

// TestTransferBlindByCaller: the caller's phone (1001) transfers the
// called party (1002) to 1003: the REFER comes from leg A. 1002 and 1003
// then hear each other.
func TestTransferBlindByCaller(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)

	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	answered := answerNextCall(ctx, c, siptest.AnswerOptions{})
	code, err := ca.Refer(ctx, ext1003, "")
	if err != nil || code != 202 {
		t.Fatalf("REFER: %d %v, want 202", code, err)
	}
	cc := <-answered
	if cc.err != nil {
		t.Fatalf("1003 answers: %v", cc.err)
	}
	if got := waitNotifies(t, ca, 10*time.Second); !slices.Equal(got, []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}) {
		t.Fatalf("NOTIFYs %q, want 100 Trying then 200 OK", got)
	}
	waitEnded(t, "1001's call", ca, 10*time.Second)
	assertPair(t, ctx, "after the transfer", cb.call, toneB, cc.call, toneC)
	xs := cs.xfCallTransfers(t)
	if len(xs) != 1 || xs[0].Data["transferor"] != ext1001 || xs[0].Data["transferee"] != ext1002 || xs[0].Data["transfer_target"] != ext1003 {
		t.Fatalf("transfers %+v, want 1001 moving 1002 to 1003", xs)
	}
	cs.hangupAndWait(ctx, cb.call, cc.call)
}

// ringUnanswered has callee accept and ring the next INVITE without
// answering it.
func ringUnanswered(t *testing.T, ctx context.Context, callee *siptest.Phone) *siptest.Incoming {
	t.Helper()
	in, err := callee.Accept(ctx)
	if err != nil {
		t.Fatalf("%s: no INVITE: %v", callee.User(), err)
	}
	if err := in.Ring(); err != nil {
		t.Fatalf("%s rings: %v", callee.User(), err)
	}
	return in
}

// pickupTest: 1001 calls 1002, which rings; 1003 dials code. 1002's
// phone gets CANCEL, and 1001 and 1003 hear each other.
func pickupTest(t *testing.T, code string) {
	cs, a, b, c, ctx := threePhones(t)

	out, err := a.Invite(ctx, ext1002, siptest.DialOptions{})
	if err != nil {
		t.Fatalf("1001 dials 1002: %v", err)
	}
	ringing := ringUnanswered(t, ctx, b)
	picker, err := c.Dial(ctx, code, siptest.DialOptions{})
	if err != nil {
		t.Fatalf("1003 dials %s: %v", code, err)
	}
	ca, err := out.Wait(ctx)
	if err != nil {
		t.Fatalf("1001's call after the pickup: %v", err)
	}
	select {
	case <-ringing.Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatal("1002's phone still rings after the pickup")
	}
	assertPair(t, ctx, "after the pickup", ca, toneA, picker, toneC)
	xs := cs.xfCallTransfers(t)
	if len(xs) != 1 || xs[0].Data["transfer_kind"] != "pickup" || xs[0].Data["transferor"] != ext1003 || xs[0].Data["transfer_target"] != ext1002 {
		t.Fatalf("transfers %+v, want a pickup of 1002's call by 1003", xs)
	}
	cs.hangupAndWait(ctx, ca, picker)
}

// TestPickupDirected: **1002 picks up the call ringing 1002.
func TestPickupDirected(t *testing.T) {
	t.Parallel()
	pickupTest(t, "**"+ext1002)
}

// TestPickupGroup: *8 picks up the call ringing in the group (every
// extension, by default).
func TestPickupGroup(t *testing.T) {
	t.Parallel()
	pickupTest(t, "*8")
}

// TestPickupNothingRinging: *8 with nothing ringing is answered with a
// congestion tone and hung up; nothing breaks.
func TestPickupNothingRinging(t *testing.T) {
	t.Parallel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := a.Dial(ctx, "*8", siptest.DialOptions{})
	if err != nil {
		t.Fatalf("dial *8: %v", err)
	}
	// The default region's congestion tone: on half the time (250 ms on,
	// 250 ms off), so it scores about a quarter of a steady tone's level.
	tones, _ := audio.Tones("")
	hz := tones.Congestion.Freqs[0]
	lv, err := c.ToneLevels(ctx, time.Second, hz, toneB)
	if err != nil || lv[0] < siptest.ToneDetected/4 || lv[1] > siptest.ToneAbsent {
		t.Fatalf("*8 with nothing ringing: levels %v at %v Hz (congestion) and %v Hz (%v), want ≥ %v and ≤ %v",
			lv, hz, toneB, err, siptest.ToneDetected/4, siptest.ToneAbsent)
	}
	waitEnded(t, "*8 with nothing ringing", c, 10*time.Second)
	cs.waitIdle(5 * time.Second)
}

// parkCall: 1001 calls 1002, 1002 transfers 1001 to park slot 701
// (REFER) and is hung up once the NOTIFY said 200.
func parkCall(t *testing.T, ctx context.Context, cs *callServer, a, b *siptest.Phone) *siptest.Call {
	t.Helper()
	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	if code, err := cb.call.Refer(ctx, "701", ""); err != nil || code != 202 {
		t.Fatalf("REFER to the park slot: %d %v", code, err)
	}
	if got := waitNotifies(t, cb.call, 10*time.Second); !slices.Equal(got, []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}) {
		t.Fatalf("NOTIFYs %q, want 100 Trying then 200 OK", got)
	}
	waitEnded(t, "1002's call", cb.call, 10*time.Second)
	return ca
}

// waitParked waits until GET /api/v1/parked lists a call of caller in
// slot, and returns it.
func (cs *callServer) waitParked(t *testing.T, slot, caller string) web.ParkedCall {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out struct {
			Parked []web.ParkedCall `json:"parked"`
		}
		if code := cs.api("GET", "/api/v1/parked", nil, &out); code != 200 {
			t.Fatalf("GET /api/v1/parked: %d", code)
		}
		for _, p := range out.Parked {
			if p.Slot == slot && p.Caller == caller && p.ParkedBy == ext1002 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot %s: %+v, want %s parked there by 1002", slot, out.Parked, caller)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestParkRetrieve: 1001 is parked at 701 by 1002; 1003 dials 701 and
// talks with 1001.
func TestParkRetrieve(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)
	ca := parkCall(t, ctx, cs, a, b)
	cs.waitParked(t, "701", ext1001) // parked: listed by the API
	if lv, err := ca.ToneLevels(ctx, time.Second, mohHz, toneB); err != nil || lv[0] < siptest.ToneDetected || lv[1] > siptest.ToneAbsent {
		t.Fatalf("parked 1001 hears the music at %.3f and 1002 at %.3f (%v), want only the music", lv[0], lv[1], err)
	}
	retriever, err := c.Dial(ctx, "701", siptest.DialOptions{})
	if err != nil {
		t.Fatalf("1003 dials 701: %v", err)
	}
	assertPair(t, ctx, "after the retrieve", ca, toneA, retriever, toneC)
	cs.hangupAndWait(ctx, ca, retriever)
	var kinds []string
	for _, x := range cs.xfCallTransfers(t) {
		kinds = append(kinds, x.Data["transfer_kind"]+" "+x.Data["transfer_target"])
	}
	if want := []string{"blind 701", "retrieve " + ext1003}; !slices.Equal(kinds, want) {
		t.Fatalf("transfers %q, want %q", kinds, want)
	}
}

// TestParkTimeoutRingsParker: nobody retrieves the call parked at 701;
// after the park timeout it rings 1002, which parked it, and they talk.
func TestParkTimeoutRingsParker(t *testing.T) {
	t.Parallel()
	cs := startCallServer(t, func(c *server.Config) { c.Features.ParkTimeout = config.Duration(time.Second) })
	a, b := cs.phone(ext1001, pw1001, toneA), cs.phone(ext1002, pw1002, toneB)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	ca := parkCall(t, ctx, cs, a, b)
	parked := cs.waitParked(t, "701", ext1001).Since // switchd's clock: when the park began
	back := answerNextCall(ctx, b, siptest.AnswerOptions{})
	cb := <-back
	if cb.err != nil {
		t.Fatalf("1002 is rung back after the park timeout: %v", cb.err)
	}
	if waited := time.Since(parked); waited < time.Second {
		t.Fatalf("1002 rung back %v after the park, want after the 1 s park timeout", waited)
	}
	assertPair(t, ctx, "rung back", ca, toneA, cb.call, toneB)
	cs.hangupAndWait(ctx, ca, cb.call)
}

// TestTransferFeatureCode: 1002 (no transfer key) presses ##1003# in the
// call (RFC 4733 events); switchd transfers 1001 to 1003 blind, and
// 1001 and 1003 hear each other. 1002's call ends.
func TestTransferFeatureCode(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)

	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	answered := answerNextCall(ctx, c, siptest.AnswerOptions{})
	if err := cb.call.SendEvents("##"+ext1003+"#", 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	cc := <-answered
	if cc.err != nil {
		t.Fatalf("1003 answers: %v", cc.err)
	}
	waitEnded(t, "1002's call", cb.call, 10*time.Second)
	assertPair(t, ctx, "after ##1003#", ca, toneA, cc.call, toneC)
	xs := cs.xfCallTransfers(t)
	if len(xs) != 1 || xs[0].Data["transferor"] != ext1002 || xs[0].Data["transfer_target"] != ext1003 || xs[0].Data["transfer_result"] != "completed" {
		t.Fatalf("transfers %+v, want 1002 moving 1001 to 1003", xs)
	}
	cs.hangupAndWait(ctx, ca, cc.call)
}

// TestTransferAttendedCode: 1002 presses *21003#: 1001 waits (music on
// hold) while 1002 consults 1003 — they hear each other, 1001 hears
// neither — then 1002 hangs up and 1001 and 1003 talk.
func TestTransferAttendedCode(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)

	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	answered := answerNextCall(ctx, c, siptest.AnswerOptions{})
	if err := cb.call.SendEvents("*2"+ext1003+"#", 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	cc := <-answered
	if cc.err != nil {
		t.Fatalf("1003 answers the consultation: %v", cc.err)
	}
	assertPair(t, ctx, "consultation", cb.call, toneB, cc.call, toneC)
	lv, err := ca.ToneLevels(ctx, time.Second, toneB, toneC, mohHz)
	if err != nil || lv[0] > siptest.ToneAbsent || lv[1] > siptest.ToneAbsent || lv[2] < siptest.ToneDetected {
		t.Fatalf("1001 during the consultation hears 1002 at %.3f, 1003 at %.3f and the music at %.3f (%v), want only the music",
			lv[0], lv[1], lv[2], err)
	}
	if err := cb.call.Hangup(ctx); err != nil {
		t.Fatalf("1002 hangs up: %v", err)
	}
	assertPair(t, ctx, "after the transfer", ca, toneA, cc.call, toneC)
	xs := cs.xfCallTransfers(t)
	if len(xs) != 1 || xs[0].Data["transfer_kind"] != "attended" || xs[0].Data["transferor"] != ext1002 || xs[0].Data["transfer_target"] != ext1003 {
		t.Fatalf("transfers %+v, want an attended 1002 → 1003", xs)
	}
	cs.hangupAndWait(ctx, ca, cc.call)
}

// TestParkSlotTaken: 1001 is parked at 701; 1002 then parks 1003 at 701
// too. The slot is taken, so 1003 rings 1002 back (it is not connected
// with the parked 1001); 1002 answers and talks with 1003, and 1001 still
// waits in 701 until a phone retrieves it.
func TestParkSlotTaken(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)
	ca := parkCall(t, ctx, cs, a, b)
	cs.waitParked(t, "701", ext1001)
	cc := parkCall(t, ctx, cs, c, b)
	back := <-answerNextCall(ctx, b, siptest.AnswerOptions{})
	if back.err != nil {
		t.Fatalf("1002 is rung back (slot taken): %v", back.err)
	}
	assertPair(t, ctx, "rung back", cc, toneC, back.call, toneB)
	if lv, err := cc.ToneLevels(ctx, time.Second, toneA); err != nil || lv[0] > siptest.ToneAbsent {
		t.Fatalf("1003 hears the parked 1001 at %.3f (%v): the taken slot joined two callers", lv[0], err)
	}
	retriever, err := b.Dial(ctx, "701", siptest.DialOptions{})
	if err != nil {
		t.Fatalf("1002 dials 701: %v", err)
	}
	assertPair(t, ctx, "1001 retrieved", ca, toneA, retriever, toneB)
}

// TestTransferTransferorHangsUpAtOnce: as most phones do (RFC 5589), 1002
// sends its own BYE the moment the final NOTIFY says 200. That BYE comes
// from a leg no longer in the call: it must not end the call 1001 and
// 1003 now have.
func TestTransferTransferorHangsUpAtOnce(t *testing.T) {
	t.Parallel()
	cs, a, b, c, ctx := threePhones(t)
	ca, cb := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	answered := answerNextCall(ctx, c, siptest.AnswerOptions{})
	// 1002 sends its BYE before it answers the final NOTIFY, so switchd
	// cannot have hung it up first: the BYE surely comes from a leg that
	// has left the call.
	byeErr := make(chan error, 1)
	cb.call.BeforeNotifyAnswer(func(line string) {
		if line == "SIP/2.0 200 OK" {
			byeErr <- cb.call.Hangup(ctx)
		}
	})
	if code, err := cb.call.Refer(ctx, ext1003, ""); err != nil || code != 202 {
		t.Fatalf("REFER: %d %v", code, err)
	}
	cc := <-answered
	if cc.err != nil {
		t.Fatalf("1003 answers: %v", cc.err)
	}
	if got := waitNotifies(t, cb.call, 10*time.Second); !slices.Equal(got, []string{"SIP/2.0 100 Trying", "SIP/2.0 200 OK"}) {
		t.Fatalf("NOTIFYs %q", got)
	}
	if err := <-byeErr; err != nil {
		t.Fatalf("1002's BYE: %v, want 200", err)
	}
	assertPair(t, ctx, "after 1002 hung up", ca, toneA, cc.call, toneC) // fails if 1001's call ended
	cs.hangupAndWait(ctx, ca, cc.call)
}
