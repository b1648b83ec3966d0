package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/sip/siptest"
)

// TestCallHoldResume: the caller holds with a re-INVITE a=sendonly.
// switchd re-offers on the callee's leg with its own SDP: same o= session
// and a version one higher (RFC 3264 §8), direction sendonly, same RTP
// address; the callee answers recvonly and the caller gets recvonly back.
// While held the callee still hears the caller (its sendonly stream) and
// sends nothing, and the call survives longer than media.rtp_timeout.
// Resuming (sendrecv, version +2 on both legs) brings the tones back both
// ways, and re-arms the RTP timeout: a callee that then goes silent is
// hung up on both sides.
func TestCallHoldResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Without music on hold: the held party hears the holder's sendonly
	// stream (TestCallHoldMusic covers the default).
	cs := startCallServer(t, func(c *server.Config) {
		c.Media.RTPTimeout = config.Duration(holdRTPTimeout)
		c.Prompts.HoldMusic = false
	})
	a := cs.phone(ext1001, pw1001, toneA)
	b := cs.phone(ext1002, pw1002, toneB)

	ca, bs := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	cb := bs.call
	assertTonesCross(t, ctx, "before hold", ca, cb)
	offer0, answer0 := cb.RemoteSDP(), ca.RemoteSDP()

	// Hold.
	ans, err := ca.Hold(ctx)
	if err != nil {
		t.Fatalf("hold re-INVITE: %v", err)
	}
	checkOrigin(t, "answer to the caller's hold", ans, answer0, 1)
	if ans.Direction != siptest.RecvOnly {
		t.Errorf("caller's hold answered %q, want recvonly", ans.Direction)
	}
	off := nextReInvite(t, ctx, cb)
	checkOrigin(t, "re-INVITE to the callee", off, offer0, 1)
	if off.Direction != siptest.SendOnly {
		t.Errorf("callee got a re-INVITE with %q, want sendonly", off.Direction)
	}
	if off.RTPAddr() != offer0.RTPAddr() {
		t.Errorf("hold moved the callee's media to %v from %v", off.RTPAddr(), offer0.RTPAddr())
	}
	if d := cb.LocalSDP().Direction; d != siptest.RecvOnly {
		t.Errorf("callee answered %q, want recvonly", d)
	}

	// While held: the caller's stream still reaches the callee, the callee
	// sends nothing, and the call stays up past the RTP timeout.
	heldUntil := time.Now().Add(holdRTPTimeout + 1500*time.Millisecond)
	lv, err := cb.ToneLevels(ctx, 500*time.Millisecond, toneA, toneB)
	if err != nil || lv[0] < siptest.ToneDetected || lv[1] > siptest.ToneAbsent {
		t.Errorf("held: callee hears %v (err %v); want the caller's tone only", lv, err)
	}
	if cb.Stats().Sending {
		t.Error("held: the callee still sends (it answered recvonly)")
	}
	before := ca.Stats().Received
	time.Sleep(300 * time.Millisecond)
	if got := ca.Stats().Received - before; got > 2 {
		t.Errorf("held: the caller received %d RTP packets in 300 ms from a recvonly callee", got)
	}
	for _, c := range []*siptest.Call{ca, cb} {
		select {
		case <-c.Done():
			t.Fatal("hold ended the call (a held leg sends no RTP: it must not time out)")
		case <-time.After(time.Until(heldUntil)):
		}
	}
	if n := cs.srv.ActiveCallsForTest(); n != 1 {
		t.Fatalf("held: %d active calls, want 1", n)
	}

	// Resume.
	ans, err = ca.Resume(ctx)
	if err != nil {
		t.Fatalf("resume re-INVITE: %v", err)
	}
	checkOrigin(t, "answer to the caller's resume", ans, answer0, 2)
	if ans.Direction != siptest.SendRecv {
		t.Errorf("caller's resume answered %q, want sendrecv", ans.Direction)
	}
	off = nextReInvite(t, ctx, cb)
	checkOrigin(t, "resume re-INVITE to the callee", off, offer0, 2)
	if off.Direction != siptest.SendRecv {
		t.Errorf("callee got a resume re-INVITE with %q, want sendrecv", off.Direction)
	}
	assertTonesCross(t, ctx, "after resume", ca, cb)

	// Resumed, a silent leg is dead again: switchd hangs up both.
	cb.SetSilent(true)
	for _, c := range []*siptest.Call{ca, cb} {
		select {
		case <-c.Done():
			if !c.EndedByPeer() {
				t.Error("the call ended without a BYE from switchd")
			}
		case <-time.After(holdRTPTimeout + 3*time.Second):
			t.Fatalf("a resumed call whose callee sends nothing was not hung up after the %s RTP timeout", holdRTPTimeout)
		}
	}
	cs.waitIdle(5 * time.Second)
}

// holdRTPTimeout is media.rtp_timeout in TestCallHoldResume.
const holdRTPTimeout = time.Second

// checkOrigin checks RFC 3264 §8: same o= line as the first description of
// the session, version grown by exactly by.
func checkOrigin(t *testing.T, what string, got, first *siptest.SDP, by uint64) {
	t.Helper()
	g, f := got.Origin, first.Origin
	if g.Username != f.Username || g.SessionID != f.SessionID || g.Address != f.Address {
		t.Errorf("%s: o= %+v, want the session's %+v", what, g, f)
	}
	if g.Version != f.Version+by {
		t.Errorf("%s: o= version %d, want %d (first %d + %d)", what, g.Version, f.Version+by, f.Version, by)
	}
}

// nextReInvite waits for the offer of the next re-INVITE c receives.
func nextReInvite(t *testing.T, ctx context.Context, c *siptest.Call) *siptest.SDP {
	t.Helper()
	select {
	case off := <-c.ReInvites():
		return off
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
	}
	t.Fatal("no re-INVITE reached the callee")
	return nil
}

// TestCallHoldMusic: with hold_music (the default), the party put on hold
// hears the music-on-hold folder (a 900 Hz WAV at 44.1 kHz) instead of the
// holder; after resume both hear each other again through the relay.
func TestCallHoldMusic(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	appToneWAV(t, dir, 44100, 900, 900)
	cs := startCallServer(t, func(c *server.Config) { c.Prompts.MOHDir = dir })
	a := cs.phone(ext1001, pw1001, toneA)
	b := cs.phone(ext1002, pw1002, toneB)
	ca, bs := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	cb := bs.call
	assertTonesCross(t, ctx, "before hold", ca, cb)

	if _, err := ca.Hold(ctx); err != nil {
		t.Fatalf("hold re-INVITE: %v", err)
	}
	nextReInvite(t, ctx, cb)
	time.Sleep(300 * time.Millisecond)
	lv, err := cb.ToneLevels(ctx, time.Second, 900, toneA)
	if err != nil || lv[0] < siptest.ToneDetected || lv[1] > siptest.ToneAbsent {
		t.Fatalf("held: callee hears music at %.2f and the caller at %.2f (err %v); want the music only", lv[0], lv[1], err)
	}

	if _, err := ca.Resume(ctx); err != nil {
		t.Fatalf("resume re-INVITE: %v", err)
	}
	nextReInvite(t, ctx, cb)
	time.Sleep(300 * time.Millisecond)
	assertTonesCross(t, ctx, "after resume", ca, cb)
	ca.Hangup(ctx)
}
