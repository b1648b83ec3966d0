package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
)

// TestSippCallCancelBeforeAnswer: sipp 1001 calls 1002, a sipp UAS that
// rings and never answers; the caller CANCELs after 1 s of ringing. The
// caller gets 200 for its CANCEL and 487 for its INVITE; switchd CANCELs
// its own branch: the callee receives a CANCEL for exactly the INVITE it
// got (same branch and CSeq), answers 487 and gets switchd's ACK.
func TestSippCallCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	ts := scStart(t, scConfig(t))
	uas := ts.scStartUAS(t, scFile("uas_ring.xml"), scCallee, scCalleePW)

	r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_cancel.xml"), scCallerPW, scCallee))
	requireSuccess(t, r, 1)
	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)

	// Caller: challenged, ringing, then both answers of the cancelled transaction.
	if got := scFinalCodes(r); len(got) < 4 || !slices.Equal(got[:2], []int{407, 180}) ||
		len(scResponses(r.Received(), 200, "CANCEL")) == 0 || len(scResponses(r.Received(), 487, "INVITE")) == 0 ||
		len(scResponses(r.Received(), 200, "INVITE")) != 0 {
		t.Fatalf("caller got %v, want 407, 180, then 200 (CANCEL) and 487 (INVITE), no 200 (INVITE):\n%s", got, r.Summary())
	}

	// Callee: INVITE, CANCEL for it, 487 sent, ACK received.
	rec := ur.Received()
	inv, can, ack := scUnique(scRequests(rec, "INVITE")), scUnique(scRequests(rec, "CANCEL")), scRequests(rec, "ACK")
	if len(inv) != 1 || len(can) != 1 || len(ack) == 0 {
		t.Fatalf("callee got %d INVITE, %d CANCEL, %d ACK; want 1, 1, ≥1:\n%s", len(inv), len(can), len(ack), ur.Summary())
	}
	if inv[0].Header("Via") != can[0].Header("Via") || strings.Fields(inv[0].Header("CSeq"))[0] != strings.Fields(can[0].Header("CSeq"))[0] ||
		inv[0].Header("Call-ID") != can[0].Header("Call-ID") {
		t.Fatalf("the CANCEL does not match the INVITE (RFC 3261 §9.1):\nINVITE Via %q CSeq %q\nCANCEL Via %q CSeq %q",
			inv[0].Header("Via"), inv[0].Header("CSeq"), can[0].Header("Via"), can[0].Header("CSeq"))
	}
	if n := len(scResponses(ur.Sent(), 487, "INVITE")); n == 0 {
		t.Fatalf("callee sent no 487:\n%s", ur.Summary())
	}
	scRequireNon2xxAck(t, inv[0], ack[0])
	end := ts.scCallEnded(t, 1, 5*time.Second)[0]
	if end["cause"] != "originator_cancel" {
		t.Fatalf("call_ended %v: want cause originator_cancel", end)
	}
}

// TestSippCallCalleeBusy: the callee answers 486 Busy Here; the caller gets
// 486 (not a 480 or 500 of switchd's own), and switchd ACKs the callee's 486.
func TestSippCallCalleeBusy(t *testing.T) {
	t.Parallel()
	ts := scStart(t, scConfig(t))
	uas := ts.scStartUAS(t, scFile("uas_busy.xml"), scCallee, scCalleePW)

	r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_reject.xml"), scCallerPW, scCallee))
	requireSuccess(t, r, 1)
	scRequireCodes(t, r, 407, 486)
	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)
	inv, ack := scUnique(scRequests(ur.Received(), "INVITE")), scRequests(ur.Received(), "ACK")
	if len(inv) != 1 || len(ack) == 0 {
		t.Fatalf("callee got %d INVITEs and %d ACKs, want 1 and ≥ 1:\n%s", len(inv), len(ack), ur.Summary())
	}
	scRequireNon2xxAck(t, inv[0], ack[0])
	end := ts.scCallEnded(t, 1, 5*time.Second)[0]
	if end["cause"] != "busy" || end["hangup_side"] != "callee" {
		t.Fatalf("call_ended %v: want cause busy, hangup_side callee", end)
	}
}

// scRequireNon2xxAck checks switchd's ACK for a callee's non-2xx final
// response: part of the INVITE transaction (RFC 3261 §17.1.1.3), so the
// same Call-ID, Via branch and CSeq number as the INVITE.
func scRequireNon2xxAck(t *testing.T, invite, ack sipptest.Message) {
	t.Helper()
	branch := func(m sipptest.Message) string {
		for _, p := range strings.Split(m.Header("Via"), ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "branch="); ok {
				return v
			}
		}
		return ""
	}
	num := func(m sipptest.Message) string { return strings.Fields(m.Header("CSeq") + " x")[0] }
	if branch(invite) == "" || branch(ack) != branch(invite) || num(ack) != num(invite) || ack.Header("Call-ID") != invite.Header("Call-ID") {
		t.Fatalf("ACK for the non-2xx is not in the INVITE's transaction:\nINVITE Via %q CSeq %q\nACK    Via %q CSeq %q",
			invite.Header("Via"), invite.Header("CSeq"), ack.Header("Via"), ack.Header("CSeq"))
	}
}

// TestSippCallRejected: calls that never reach a callee. 1002 is a
// registered sipp UAS the whole time; at the end it must have received
// nothing at all (no B leg was created for any of these calls).
//   - INVITE without credentials → 407 Proxy Authentication Required;
//   - INVITE with a wrong password → 407, then 403 Forbidden;
//   - callee 1003 exists but is not registered → 480 Temporarily Unavailable;
//   - callee 9999 does not exist → 404 Not Found.
func TestSippCallRejected(t *testing.T) {
	t.Parallel()
	ts := scStart(t, scConfig(t))
	uas := ts.scStartUAS(t, scFile("uas_echo.xml"), scCallee, scCalleePW, "-rtp_echo")

	t.Run("no credentials 407", func(t *testing.T) {
		o := ts.scCallerOpts(scFile("uac_noauth.xml"), scCallerPW, scCallee)
		o.Users = nil
		o.Keys = map[string]string{"from": scCaller}
		r := sipptest.Run(t, o)
		requireSuccess(t, r, 1)
		scRequireCodes(t, r, 407)
		ch := scResponses(r.Received(), 407, "INVITE")[0].Header("Proxy-Authenticate")
		if !strings.HasPrefix(ch, "Digest ") || !strings.Contains(ch, `realm="switchd"`) || !strings.Contains(ch, "MD5") {
			t.Fatalf("407 Proxy-Authenticate %q: want an MD5 digest challenge for realm switchd", ch)
		}
	})
	t.Run("wrong password 403", func(t *testing.T) {
		r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_reject.xml"), "not-the-password", scCallee))
		requireSuccess(t, r, 1)
		scRequireCodes(t, r, 407, 403)
	})
	t.Run("not registered 480", func(t *testing.T) {
		r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_reject.xml"), scCallerPW, scAbsent))
		requireSuccess(t, r, 1)
		scRequireCodes(t, r, 407, 480)
	})
	t.Run("unknown number 404", func(t *testing.T) {
		r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_reject.xml"), scCallerPW, "9999"))
		requireSuccess(t, r, 1)
		scRequireCodes(t, r, 407, 404)
	})

	// The registered callee heard nothing of all this.
	ur := uas.proc.Stop(3 * time.Second)
	if ms := ur.Received(); len(ms) != 0 {
		t.Fatalf("callee 1002 received %d message(s), want none (first: %q):\n%s", len(ms), ms[0].StartLine(), ur.Summary())
	}
	if ur.Successful() > 0 {
		t.Fatalf("callee 1002 completed a call:\n%s", ur.Summary())
	}
	if bans := ts.bans(); len(bans) != 0 {
		t.Fatalf("one wrong password banned %v", bans)
	}
}

// TestSippCallHoldResume: the caller holds (re-INVITE a=sendonly) and
// resumes (a=sendrecv). switchd answers each on the caller's leg (recvonly,
// then sendrecv: uac_hold.xml checks them) after offering the same change
// to the callee on its own SDP: the callee (uas_reinvite.xml) gets two
// re-INVITEs, sendonly then sendrecv, whose o= line keeps switchd's
// username and session id while sess-version grows by exactly one each
// time (RFC 3264 §8), with switchd's media address unchanged. The o= of
// the answers the caller gets grows the same way.
func TestSippCallHoldResume(t *testing.T) {
	t.Parallel()
	cfg := scConfig(t)
	ts := scStart(t, cfg)
	uas := ts.scStartUAS(t, scFile("uas_reinvite.xml"), scCallee, scCalleePW)

	mp := sipptest.FreeMediaPort(t, "127.0.0.1")
	r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_hold.xml"), scCallerPW, scCallee,
		"-mi", "127.0.0.1", "-mp", itoa(mp)))
	requireSuccess(t, r, 1)
	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)

	// What the callee received from switchd.
	invites := scUnique(scRequests(ur.Received(), "INVITE"))
	if len(invites) != 3 {
		t.Fatalf("callee got %d distinct INVITEs, want 3 (call, hold, resume):\n%s", len(invites), ur.Summary())
	}
	scRequireOrigins(t, cfg, "callee", invites, []string{"sendrecv", "sendonly", "sendrecv"})
	for _, m := range invites[1:] {
		if m.Header("Call-ID") != invites[0].Header("Call-ID") || !strings.Contains(m.Header("To"), "tag=") {
			t.Fatalf("re-INVITE is not in the callee's dialog:\n%s", m.Text)
		}
	}

	// What the caller received: the 200s to its three INVITEs (auth'd call, hold, resume).
	var answers []sipptest.Message
	for _, cseq := range []string{"2 INVITE", "3 INVITE", "4 INVITE"} {
		for _, m := range scResponses(r.Received(), 200, "INVITE") {
			if m.Header("CSeq") == cseq {
				answers = append(answers, m)
				break
			}
		}
	}
	if len(answers) != 3 {
		t.Fatalf("caller got 200s for %d of its 3 INVITEs:\n%s", len(answers), r.Summary())
	}
	scRequireOrigins(t, cfg, "caller", answers, []string{"sendrecv", "recvonly", "sendrecv"})

	end := ts.scCallEnded(t, 1, 5*time.Second)[0]
	if end["cause"] != "normal_clearing" || end["hangup_side"] != "caller" {
		t.Fatalf("call_ended %v: want normal_clearing by the caller", end)
	}
	a, b := scParseSDP(t, answers[0]), scParseSDP(t, invites[0])
	sipptest.WaitUnbound(t, 2*time.Second, a.Port, a.Port+1, b.Port, b.Port+1)
}

// scRequireOrigins checks a sequence of SDP bodies switchd sent on one leg:
// the directions, switchd's address and port unchanged, one o= username and
// session id, and sess-version growing by exactly one at each change.
func scRequireOrigins(t *testing.T, cfg *server.Config, leg string, ms []sipptest.Message, dirs []string) {
	t.Helper()
	var first scSDP
	for i, m := range ms {
		s := scParseSDP(t, m)
		scRequireSwitchdMedia(t, cfg, leg+" SDP "+itoa(i+1), s)
		if s.Direction != dirs[i] {
			t.Fatalf("%s SDP %d has a=%s, want a=%s:\n%s", leg, i+1, s.Direction, dirs[i], s.Text)
		}
		if i == 0 {
			first = s
			continue
		}
		if s.Origin[0] != first.Origin[0] || s.Origin[1] != first.Origin[1] || s.Origin[5] != first.Origin[5] {
			t.Fatalf("%s SDP %d: o= %v differs from the first %v beyond sess-version", leg, i+1, s.Origin, first.Origin)
		}
		if want := first.scVersion(t) + uint64(i); s.scVersion(t) != want {
			t.Fatalf("%s SDP %d: o= sess-version %d, want %d (first %d, +1 per change)", leg, i+1, s.scVersion(t), want, first.scVersion(t))
		}
		if s.Conn != first.Conn || s.Port != first.Port {
			t.Fatalf("%s SDP %d: media moved from %s:%d to %s:%d", leg, i+1, first.Conn, first.Port, s.Conn, s.Port)
		}
	}
}

// TestSippCallSDPOriginLine: every SDP switchd sends must have a complete
// o= line (RFC 8866 §5.2: o=<username> <sess-id> <sess-version> IN IP4
// <unicast-address>); a phone with a strict parser rejects "- - -" there.
// Checked on the callee's INVITE and the caller's 200 OK of a plain call.
func TestSippCallSDPOriginLine(t *testing.T) {
	t.Parallel()
	ts := scStart(t, scConfig(t))
	uas := ts.scStartUAS(t, scFile("uas_reinvite.xml"), scCallee, scCalleePW)
	mp := sipptest.FreeMediaPort(t, "127.0.0.1")
	r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_hold.xml"), scCallerPW, scCallee,
		"-mi", "127.0.0.1", "-mp", itoa(mp)))
	requireSuccess(t, r, 1)
	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)
	var bodies []sipptest.Message
	bodies = append(bodies, scUnique(scRequests(ur.Received(), "INVITE"))...)
	bodies = append(bodies, scUnique(scResponses(r.Received(), 200, "INVITE"))...)
	if len(bodies) != 6 {
		t.Fatalf("want 3 INVITEs at the callee and 3 200s at the caller, got %d SDP bodies", len(bodies))
	}
	var bad []string
	for _, m := range bodies {
		o := scParseSDP(t, m).Origin
		if o[3] != "IN" || o[4] != "IP4" || o[5] != "127.0.0.1" {
			bad = append(bad, m.StartLine()+" ("+m.Header("CSeq")+"): o="+strings.Join(o, " "))
		}
	}
	if len(bad) > 0 {
		t.Fatalf("switchd sent SDP whose o= line lacks nettype/addrtype/address (want IN IP4 127.0.0.1):\n%s", strings.Join(bad, "\n"))
	}
}

// TestSippCallCalleeHangsUp: the callee ends the call. switchd answers its
// BYE and sends its own BYE to the caller, in the caller's dialog: the
// Request-URI is the caller's Contact, From carries switchd's tag of the
// caller's dialog and To the caller's tag, and the CSeq is switchd's own.
func TestSippCallCalleeHangsUp(t *testing.T) {
	t.Parallel()
	cfg := scConfig(t)
	ts := scStart(t, cfg)
	uas := ts.scStartUAS(t, scFile("uas_answer_bye.xml"), scCallee, scCalleePW)
	mp := sipptest.FreeMediaPort(t, "127.0.0.1")
	r := sipptest.Run(t, ts.scCallerOpts(scFile("uac_await_bye.xml"), scCallerPW, scCallee,
		"-mi", "127.0.0.1", "-mp", itoa(mp)))
	requireSuccess(t, r, 1)
	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)
	if n := len(scResponses(ur.Received(), 200, "BYE")); n == 0 {
		t.Fatalf("switchd did not answer the callee's BYE:\n%s", ur.Summary())
	}

	byes := scUnique(scRequests(r.Received(), "BYE"))
	oks := scResponses(r.Received(), 200, "INVITE")
	invs := scRequests(r.Sent(), "INVITE")
	if len(byes) != 1 || len(oks) == 0 || len(invs) == 0 {
		t.Fatalf("caller got %d BYEs and %d 200s to INVITE, want 1 and ≥ 1:\n%s", len(byes), len(oks), r.Summary())
	}
	bye, ok, inv := byes[0], oks[len(oks)-1], invs[len(invs)-1]
	tag := func(h string) string {
		_, v, _ := strings.Cut(h, ";tag=")
		v, _, _ = strings.Cut(v, ";")
		return v
	}
	wantURI := "sip:" + scCaller + "@127.0.0.1:" + itoa(r.LocalPort) + ";transport=UDP"
	if got := strings.Fields(bye.StartLine())[1]; got != wantURI ||
		bye.Header("Call-ID") != inv.Header("Call-ID") ||
		tag(bye.Header("From")) == "" || tag(bye.Header("From")) != tag(ok.Header("To")) ||
		tag(bye.Header("To")) != tag(inv.Header("From")) {
		t.Fatalf("BYE to the caller is not in its dialog (want Request-URI %s, From tag = 200's To tag %q, To tag = caller's tag %q):\n%s",
			wantURI, tag(ok.Header("To")), tag(inv.Header("From")), bye.Text)
	}

	end := ts.scCallEnded(t, 1, 5*time.Second)[0]
	if end["cause"] != "normal_clearing" || end["hangup_side"] != "callee" {
		t.Fatalf("call_ended %v: want normal_clearing by the callee", end)
	}
	a, b := scParseSDP(t, ok), scParseSDP(t, scUnique(scRequests(ur.Received(), "INVITE"))[0])
	sipptest.WaitUnbound(t, 2*time.Second, a.Port, a.Port+1, b.Port, b.Port+1)
}
