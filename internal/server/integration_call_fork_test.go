package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchd/switchd/sip/siptest"
)

// TestCallForkFirstAnswerWins: 1002 is registered from two phones; a call
// to 1002 rings both, the second one answers first and gets the call (the
// tones cross), and the other one receives CANCEL.
func TestCallForkFirstAnswerWins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA)
	desk := cs.phone(ext1002, pw1002, toneB)
	mobile := cs.phone(ext1002, pw1002, toneB)
	if regs := cs.registrations(ext1002); len(regs) != 2 {
		t.Fatalf("1002 has %d contacts, want 2:\n%s", len(regs), dumpRegs(regs))
	}

	out, err := a.Invite(ctx, ext1002, siptest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inDesk, err := desk.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inMobile, err := mobile.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inDesk.Request().CallID().Value() == inMobile.Request().CallID().Value() {
		t.Error("both branches share a Call-ID")
	}
	for _, in := range []*siptest.Incoming{inDesk, inMobile} {
		if err := in.Ring(); err != nil {
			t.Fatal(err)
		}
	}
	cb, err := inMobile.Answer(ctx, siptest.AnswerOptions{})
	if err != nil {
		t.Fatalf("mobile answers: %v", err)
	}
	ca, err := out.Wait(ctx)
	if err != nil {
		t.Fatalf("caller: %v", err)
	}
	select {
	case <-inDesk.Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatal("the losing branch got no CANCEL")
	}
	if desk.Calls() != 0 {
		t.Errorf("the desk phone has %d calls, want 0", desk.Calls())
	}
	assertTonesCross(t, ctx, "forked call", ca, cb)
	cs.hangupAndWait(ctx, ca, cb)
}
