package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
)

// badRegisters runs n REGISTERs with a wrong password from ip, each
// expecting 401 then 403; a call whose request gets no answer within 1 s
// fails. Retransmissions are off (-nr), so each call offers exactly one bad
// digest and the number of failures the server counts is exact.
func badRegisters(t *testing.T, ts *testServer, ip string, n int) *sipptest.Result {
	t.Helper()
	o := ts.sippRegister("register_forbidden.xml", ext1001, "wrong-password", ext1001, "3600")
	o.LocalIP, o.Calls, o.Rate, o.RecvTimeout = ip, n, 50, time.Second
	o.Args = []string{"-nr"}
	return sipptest.Run(t, o)
}

func count(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

// TestSIPBruteForceBan: ban.max_failures bad REGISTERs from one address
// ban it: the API lists it and switchd stops answering it, even a REGISTER
// with the right password and a valid nonce; another address is unaffected.
func TestSIPBruteForceBan(t *testing.T) {
	cfg := newConfig(t)
	maxFailures := cfg.SIP.Ban.MaxFailures
	if maxFailures != 10 {
		t.Fatalf("default ban.max_failures is %d; this test expects 10", maxFailures)
	}
	ts := startServer(t, cfg)
	ts.addExtension(ext1001, pw1001)

	r := badRegisters(t, ts, "127.0.0.2", 20)
	codes := r.ReceivedCodes()
	if r.ExitCode != sipptest.ExitSomeFailed || r.Successful() != maxFailures || r.Failed() != 20-maxFailures ||
		count(codes, 403) != maxFailures || count(codes, 200) != 0 {
		t.Fatalf("want exactly %d REGISTERs answered 403, the rest unanswered (responses %v):\n%s", maxFailures, codes, r.Summary())
	}

	bans := ts.bans()
	if len(bans) != 1 || bans[0].Source != "127.0.0.2" {
		t.Fatalf("GET /api/v1/bans lists %+v, want only 127.0.0.2", bans)
	}
	if left := time.Until(bans[0].Until); left < 9*time.Minute || left > 10*time.Minute {
		t.Fatalf("ban lasts %s more, want about ban_time 10m", left)
	}

	// sipp from the banned address, right password: not even challenged.
	o := ts.sippRegister("register_silence.xml", ext1001, pw1001, ext1001, "3600")
	o.LocalIP = "127.0.0.2"
	r = sipptest.Run(t, o)
	requireSuccess(t, r, 1) // succeeds only when no answer came
	if len(r.Received()) != 0 {
		t.Fatalf("banned source got answers:\n%s", r.Summary())
	}

	// A fully valid REGISTER (fresh nonce, right password) from the banned
	// address gets no answer; the very same credentials work from 127.0.0.3.
	banned := newRawClient(t, "127.0.0.2", ts.udpAddr)
	other := newRawClient(t, "127.0.0.3", ts.udpAddr)
	ch := pick(t, challenges(t, other.roundTrip(other.register(regRequest{User: ext1001, Expires: "600"}))), "MD5")
	auth := authorization(ch, ext1001, pw1001, "REGISTER", banned.requestURI())
	banned.send(banned.register(regRequest{User: ext1001, Expires: "600", Auth: auth}))
	if res, err := banned.recv(time.Second); !errors.Is(err, errNoAnswer) {
		t.Fatalf("banned source with valid credentials got %v %v", res, err)
	}
	if res := other.roundTrip(other.register(regRequest{User: ext1001, Expires: "600", Auth: auth})); res.Code != 200 {
		t.Fatalf("the same credentials from 127.0.0.3: %d %s", res.Code, res.Reason)
	}

	// sipp from 127.0.0.3 registers normally.
	o = ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600")
	o.LocalIP = "127.0.0.3"
	r = sipptest.Run(t, o)
	requireSuccess(t, r, 1)
	requireCodes(t, r, 401, 200)

	for _, b := range ts.registrations(ext1001) {
		if strings.HasPrefix(b.Source, "127.0.0.2:") {
			t.Fatalf("banned source has a binding: %s", dumpRegs(ts.registrations("")))
		}
	}
	want := map[string]bool{
		other.local:                      true,
		"127.0.0.3:" + itoa(r.LocalPort): true,
	}
	regs := ts.registrations(ext1001)
	if len(regs) != 2 || !want[regs[0].Source] || !want[regs[1].Source] {
		t.Fatalf("want the bindings from %v, API lists %s", want, dumpRegs(regs))
	}
	if bans := ts.bans(); len(bans) != 1 {
		t.Fatalf("bans now %+v, want only 127.0.0.2", bans)
	}
}

// TestSIPBanAllowList: an address in ban.allow is never banned however
// often it fails, while an address outside it still is.
func TestSIPBanAllowList(t *testing.T) {
	ts := startServer(t, newConfig(t, func(c *server.Config) { c.SIP.Ban.Allow = []string{"127.0.0.4/32"} }))
	ts.addExtension(ext1001, pw1001)

	r := badRegisters(t, ts, "127.0.0.4", 20)
	requireSuccess(t, r, 20) // every one answered 403
	if n := count(r.ReceivedCodes(), 403); n != 20 {
		t.Fatalf("allowed source got %d 403s, want 20:\n%s", n, r.Summary())
	}
	if bans := ts.bans(); len(bans) != 0 {
		t.Fatalf("allowed source banned: %+v", bans)
	}
	o := ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600")
	o.LocalIP = "127.0.0.4"
	requireSuccess(t, sipptest.Run(t, o), 1)
	if regs := ts.registrations(ext1001); len(regs) != 1 || !strings.HasPrefix(regs[0].Source, "127.0.0.4:") {
		t.Fatalf("allowed source after 20 failures: %s", dumpRegs(regs))
	}

	// Control: the guard works for other addresses on this server.
	r = badRegisters(t, ts, "127.0.0.5", 10)
	requireSuccess(t, r, 10)
	if bans := ts.bans(); len(bans) != 1 || bans[0].Source != "127.0.0.5" {
		t.Fatalf("after 10 failures from 127.0.0.5 bans are %+v", bans)
	}
}
