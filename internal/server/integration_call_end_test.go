package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchd/switchd/sip/siptest"
)

// TestCallByeFromCallee: the callee hangs up; switchd answers its BYE,
// sends BYE to the caller, and releases the call and its RTP ports.
func TestCallByeFromCallee(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA)
	b := cs.phone(ext1002, pw1002, toneB)

	ca, bs := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	if ms := cs.srv.MediaStatsForTest(); ms.Sessions != 2 || ms.PortsInUse != 4 {
		t.Errorf("during the call: media %+v, want 2 sessions on 4 ports", ms)
	}
	cs.hangupAndWait(ctx, bs.call, ca)
	if a.Calls() != 0 || b.Calls() != 0 {
		t.Errorf("phones still have calls: caller %d, callee %d", a.Calls(), b.Calls())
	}
}

// TestCallCancelBeforeAnswer: the caller cancels while the callee rings;
// the caller's INVITE ends with 487 and the callee's branch gets CANCEL.
func TestCallCancelBeforeAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA)
	b := cs.phone(ext1002, pw1002, toneB)

	out, err := a.Invite(ctx, ext1002, siptest.DialOptions{})
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
	select {
	case <-out.Early():
	case <-ctx.Done():
		t.Fatalf("the caller got no 180 (provisionals %v)", out.Provisional())
	}
	if err := out.Cancel(ctx); err != nil {
		t.Fatalf("CANCEL: %v", err)
	}
	if _, err := out.Wait(ctx); siptest.StatusCode(err) != 487 {
		t.Errorf("caller's INVITE ended with %v, want 487 Request Terminated", err)
	}
	select {
	case <-in.Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatal("the callee's branch got no CANCEL")
	}
	cs.waitIdle(5 * time.Second)
}

// TestCallCancelRightAfterTrying: a caller that sends CANCEL as soon as
// switchd's 100 Trying arrives (RFC 3261 §9.1 allows it then) reaches
// switchd while it is still authenticating the INVITE and looking up the
// callee. The caller gets 487, and the callee must not ring on: any
// INVITE it got is cancelled at once, and the call ends. (Credentials go
// with the INVITE, from the previous challenge, so the first response is
// 100 Trying, not 407.)
func TestCallCancelRightAfterTrying(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA)
	b := cs.phone(ext1002, pw1002, toneB)
	ca, bs := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{}) // learns the challenge
	cs.hangupAndWait(ctx, ca, bs.call)

	for i := range 5 {
		out, err := a.Invite(ctx, ext1002, siptest.DialOptions{Preauthorize: true})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-out.Trying():
		case <-out.Done():
			_, err := out.Wait(ctx)
			t.Fatalf("call %d: INVITE ended before 100 Trying: %v", i, err)
		}
		if err := out.Cancel(ctx); err != nil {
			t.Fatalf("call %d: CANCEL: %v", i, err)
		}
		if _, err := out.Wait(ctx); siptest.StatusCode(err) != 487 {
			t.Fatalf("call %d: INVITE ended with %v, want 487", i, err)
		}
		actx, stop := context.WithTimeout(ctx, 500*time.Millisecond)
		in, err := b.Accept(actx)
		stop()
		if err == nil {
			select {
			case <-in.Cancelled():
			case <-time.After(3 * time.Second):
				t.Fatalf("call %d: the callee rings on after the caller cancelled", i)
			}
		}
		cs.waitIdle(5 * time.Second)
	}
}
