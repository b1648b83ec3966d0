package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchd/switchd/sip/siptest"
)

// TestCallToneBothWaysPCMU: 1001 calls 1002 through switchd, both on PCMU.
// Each phone sends its own tone and hears only the other's, so audio
// crossed both ways; and the SDP each phone got is switchd's (its
// address, RTP port and o= line), never the other phone's: media is
// anchored, the caller's SDP is not passed through.
func TestCallToneBothWaysPCMU(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA, siptest.PCMU)
	b := cs.phone(ext1002, pw1002, toneB, siptest.PCMU)

	ca, bs := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	cb := bs.call
	assertTonesCross(t, ctx, "PCMU↔PCMU", ca, cb)

	aLocal, bLocal := ca.LocalSDP(), cb.LocalSDP()
	offerToB, answerToA := bs.in.Offer(), ca.RemoteSDP()
	for _, s := range []struct {
		who        string
		got, peers *siptest.SDP
	}{{"callee's offer", offerToB, aLocal}, {"caller's answer", answerToA, bLocal}} {
		if s.got == nil {
			t.Fatalf("%s: no SDP", s.who)
		}
		if s.got.Addr.String() != "127.0.0.1" || !inRTPRange(s.got.Port) {
			t.Errorf("%s points at %v, want switchd's 127.0.0.1 and an RTP port in %d-%d", s.who, s.got.RTPAddr(), rtpMin, rtpMax)
		}
		if s.got.Port == s.peers.Port {
			t.Errorf("%s carries the other phone's RTP port %d: SDP passed through", s.who, s.got.Port)
		}
		if s.got.Origin.Username == s.peers.Origin.Username || s.got.Origin.SessionID == s.peers.Origin.SessionID {
			t.Errorf("%s has the other phone's o= line %+v: SDP passed through", s.who, s.got.Origin)
		}
	}
	if offerToB.Port == answerToA.Port {
		t.Errorf("both legs use switchd port %d; want one session per leg", offerToB.Port)
	}
	// RTP comes from where the SDP said: switchd's port of each leg.
	if st := ca.Stats(); st.Source != answerToA.RTPAddr() || st.PayloadTypes[0] == 0 {
		t.Errorf("caller's RTP: %+v, want PCMU from %v", st, answerToA.RTPAddr())
	}
	if st := cb.Stats(); st.Source != offerToB.RTPAddr() || st.PayloadTypes[0] == 0 {
		t.Errorf("callee's RTP: %+v, want PCMU from %v", st, offerToB.RTPAddr())
	}
	cs.hangupAndWait(ctx, ca, cb)
}

// TestCallToneTranscodingPCMUToPCMA: the caller offers PCMU only, the
// callee answers PCMA only; switchd converts between them, and the tones
// still cross both ways.
func TestCallToneTranscodingPCMUToPCMA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA, siptest.PCMU)
	b := cs.phone(ext1002, pw1002, toneB, siptest.PCMA)

	ca, bs := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{}, siptest.AnswerOptions{})
	cb := bs.call
	if ca.Codec() != siptest.PCMU || cb.Codec() != siptest.PCMA {
		t.Fatalf("codecs: caller %v, callee %v; want PCMU and PCMA", ca.Codec(), cb.Codec())
	}
	assertTonesCross(t, ctx, "PCMU↔PCMA", ca, cb)
	sa, sb := ca.Stats(), cb.Stats()
	if sa.PayloadTypes[0] == 0 || sa.PayloadTypes[8] != 0 {
		t.Errorf("caller received %v, want PCMU (PT 0) only", sa.PayloadTypes)
	}
	if sb.PayloadTypes[8] == 0 || sb.PayloadTypes[0] != 0 {
		t.Errorf("callee received %v, want PCMA (PT 8) only", sb.PayloadTypes)
	}
	cs.hangupAndWait(ctx, ca, cb)
}

// TestCallToneLateOffer: the caller's INVITE has no SDP (RFC 3261
// §13.2.1); switchd offers in its 200 OK, the caller answers in the ACK,
// and the tones cross both ways.
func TestCallToneLateOffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs := startCallServer(t)
	a := cs.phone(ext1001, pw1001, toneA)
	b := cs.phone(ext1002, pw1002, toneB)

	ca, bs := dialAndAnswer(t, ctx, a, b, siptest.DialOptions{LateOffer: true}, siptest.AnswerOptions{})
	cb := bs.call
	if bs.in.Offer() == nil {
		t.Fatal("switchd sent the callee an INVITE without SDP; it must offer on the callee's leg")
	}
	if off := ca.RemoteSDP(); off == nil || !inRTPRange(off.Port) {
		t.Fatalf("caller got offer %+v in the 200 OK, want switchd's", off)
	}
	assertTonesCross(t, ctx, "late offer", ca, cb)
	cs.hangupAndWait(ctx, ca, cb)
}
