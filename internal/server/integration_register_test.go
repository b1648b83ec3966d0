package server_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/web"
)

// TestSIPRegisterDigestUDP: sipp registers with the right password over UDP;
// it is challenged with the configured algorithms (by default MD5 only),
// then accepted, and the binding the API lists is exactly what sipp sent.
func TestSIPRegisterDigestUDP(t *testing.T) {
	cfg := newConfig(t)
	ts := startServer(t, cfg)
	ts.addExtension(ext1001, pw1001)
	ts.addExtension(ext1002, pw1002)

	o := ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600")
	r := sipptest.Run(t, o)
	requireSuccess(t, r, 1)
	requireCodes(t, r, 401, 200)

	// One challenge per configured algorithm, in order, sharing one nonce.
	chal := lastResponse(t, r, 401).Headers("WWW-Authenticate")
	if len(chal) != len(cfg.SIP.AuthAlgorithms) || len(chal) == 0 {
		t.Fatalf("401 has WWW-Authenticate %q, want one per algorithm of %v", chal, cfg.SIP.AuthAlgorithms)
	}
	var nonce string
	for i, h := range chal {
		ch, err := parseChallenge(h)
		if err != nil {
			t.Fatal(err)
		}
		if ch.Algorithm != cfg.SIP.AuthAlgorithms[i] || ch.Realm != "switchd" || ch.QOP != "auth" || (i > 0 && ch.Nonce != nonce) {
			t.Fatalf("challenge %d %+v: want algorithm %s, realm switchd, qop auth, one nonce", i, ch, cfg.SIP.AuthAlgorithms[i])
		}
		nonce = ch.Nonce
	}
	// sipp really answered the challenge.
	var authed int
	for _, m := range r.Sent() {
		if m.IsRequest("REGISTER") && strings.Contains(m.Header("Authorization"), `username="1001"`) {
			authed++
		}
	}
	if authed != 1 {
		t.Fatalf("sipp sent %d REGISTERs with credentials, want 1:\n%s", authed, r.Summary())
	}

	// The 200 lists the new binding with its expiry.
	contact := sippContact(ext1001, "127.0.0.1", r.LocalPort, "UDP")
	got := headerContacts(lastResponse(t, r, 200))
	if len(got) != 1 || !strings.HasPrefix(got[contact], ";expires=3600") && !strings.HasPrefix(got[contact], ";expires=3599") {
		t.Fatalf("200 lists contacts %v, want only %s;expires=3600", got, contact)
	}

	regs := ts.registrations("")
	if len(regs) != 1 {
		t.Fatalf("want one binding, API lists %s", dumpRegs(regs))
	}
	b := regs[0]
	port := r.LocalPort
	want := web.Registration{AOR: ext1001, Contact: contact, Source: "127.0.0.1:" + strconv.Itoa(port), Transport: "udp", UserAgent: sippUA}
	if b.AOR != want.AOR || b.Contact != want.Contact || b.Source != want.Source || b.Transport != want.Transport || b.UserAgent != want.UserAgent {
		t.Fatalf("binding %s\nwant aor %s contact %s source %s transport %s user agent %s",
			dumpRegs(regs), want.AOR, want.Contact, want.Source, want.Transport, want.UserAgent)
	}
	if b.ExpiresIn < 3590 || b.ExpiresIn > 3600 || time.Until(b.Expires) < 59*time.Minute {
		t.Fatalf("binding expires in %ds (%s), want about 3600s", b.ExpiresIn, b.Expires)
	}
	if n := len(ts.registrations(ext1002)); n != 0 {
		t.Fatalf("?aor=1002 lists %d bindings, want 0", n)
	}
}

// TestSIPRegisterWrongPassword: a bad digest is answered 403 and binds nothing.
func TestSIPRegisterWrongPassword(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.addExtension(ext1001, pw1001)

	r := sipptest.Run(t, ts.sippRegister("register_forbidden.xml", ext1001, "wrong-password", ext1001, "3600"))
	requireSuccess(t, r, 1)
	requireCodes(t, r, 401, 403)
	if regs := ts.registrations(""); len(regs) != 0 {
		t.Fatalf("a rejected REGISTER left bindings: %s", dumpRegs(regs))
	}
	if bans := ts.bans(); len(bans) != 0 {
		t.Fatalf("one failure banned %v", bans)
	}
}

// TestSIPRegisterForeignAOR: 1001, with its own right password, may not
// register 1002's address-of-record; the same credentials for its own AOR work.
func TestSIPRegisterForeignAOR(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.addExtension(ext1001, pw1001)
	ts.addExtension(ext1002, pw1002)

	r := sipptest.Run(t, ts.sippRegister("register_forbidden.xml", ext1001, pw1001, ext1002, "3600"))
	requireSuccess(t, r, 1)
	requireCodes(t, r, 401, 403)
	if regs := ts.registrations(""); len(regs) != 0 {
		t.Fatalf("REGISTER of a foreign AOR left bindings: %s", dumpRegs(regs))
	}

	// Control: the credentials themselves were right.
	r = sipptest.Run(t, ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600"))
	requireSuccess(t, r, 1)
	if regs := ts.registrations(""); len(regs) != 1 || regs[0].AOR != ext1001 {
		t.Fatalf("want one binding of 1001, API lists %s", dumpRegs(regs))
	}
}

// TestSIPUnregister: Expires: 0 removes the binding; Contact: * with
// Expires: 0 removes every binding of the AOR and no other AOR's.
func TestSIPUnregister(t *testing.T) {
	t.Run("expires 0", func(t *testing.T) {
		ts := startServer(t, newConfig(t))
		ts.addExtension(ext1001, pw1001)
		port := sipptest.FreePort(t, "127.0.0.1")

		o := ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600")
		o.LocalPort = port
		requireSuccess(t, sipptest.Run(t, o), 1)
		if regs := ts.registrations(ext1001); len(regs) != 1 {
			t.Fatalf("after REGISTER: %s", dumpRegs(regs))
		}

		o.Keys = map[string]string{"aor": ext1001, "expires": "0"}
		r := sipptest.Run(t, o)
		requireSuccess(t, r, 1)
		requireCodes(t, r, 401, 200)
		if c := lastResponse(t, r, 200).Headers("Contact"); len(c) != 0 {
			t.Fatalf("200 to the removal still lists %q", c)
		}
		if regs := ts.registrations(""); len(regs) != 0 {
			t.Fatalf("after Expires: 0 the API still lists %s", dumpRegs(regs))
		}
	})

	t.Run("contact star", func(t *testing.T) {
		ts := startServer(t, newConfig(t))
		ts.addExtension(ext1001, pw1001)
		ts.addExtension(ext1002, pw1002)
		for range 2 {
			requireSuccess(t, sipptest.Run(t, ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600")), 1)
		}
		requireSuccess(t, sipptest.Run(t, ts.sippRegister("register.xml", ext1002, pw1002, ext1002, "3600")), 1)
		if n := len(ts.registrations(ext1001)); n != 2 {
			t.Fatalf("1001 has %d bindings before Contact: *, want 2: %s", n, dumpRegs(ts.registrations("")))
		}

		r := sipptest.Run(t, sipptest.Options{
			Scenario: scenario("unregister_all.xml"), Remote: ts.udpAddr,
			Users: []sipptest.User{{Name: ext1001, Password: pw1001}},
			Keys:  map[string]string{"aor": ext1001},
		})
		requireSuccess(t, r, 1)
		requireCodes(t, r, 401, 200)
		if !slices.ContainsFunc(r.Sent(), func(m sipptest.Message) bool { return m.Header("Contact") == "*" }) {
			t.Fatalf("sipp sent no Contact: *:\n%s", r.Summary())
		}
		if regs := ts.registrations(ext1001); len(regs) != 0 {
			t.Fatalf("after Contact: * 1001 still has %s", dumpRegs(regs))
		}
		if regs := ts.registrations(ext1002); len(regs) != 1 {
			t.Fatalf("Contact: * for 1001 touched 1002: %s", dumpRegs(regs))
		}
	})
}

// TestSIPMultipleContacts: one AOR holds several bindings, and every 200
// lists all of them (RFC 3261 §10.3 step 8).
func TestSIPMultipleContacts(t *testing.T) {
	t.Run("two phones", func(t *testing.T) {
		ts := startServer(t, newConfig(t))
		ts.addExtension(ext1001, pw1001)
		var want []string
		var last *sipptest.Result
		for range 2 {
			o := ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600")
			o.LocalPort = sipptest.FreePort(t, "127.0.0.1")
			last = sipptest.Run(t, o)
			requireSuccess(t, last, 1)
			want = append(want, sippContact(ext1001, "127.0.0.1", o.LocalPort, "UDP"))
		}
		slices.Sort(want)
		got := headerContacts(lastResponse(t, last, 200))
		if len(got) != 2 || got[want[0]] == "" || got[want[1]] == "" {
			t.Fatalf("the second phone's 200 lists %v, want both %v", got, want)
		}
		regs := ts.registrations(ext1001)
		if c := contactsOf(regs); !slices.Equal(c, want) {
			t.Fatalf("API lists contacts %v, want %v", c, want)
		}
	})

	t.Run("two contacts in one REGISTER", func(t *testing.T) {
		ts := startServer(t, newConfig(t))
		ts.addExtension(ext1001, pw1001)
		o := ts.sippRegister("register_two_contacts.xml", ext1001, pw1001, ext1001, "3600")
		o.LocalPort = sipptest.FreePort(t, "127.0.0.1")
		r := sipptest.Run(t, o)
		requireSuccess(t, r, 1) // the scenario checks both contacts are in the 200
		want := []string{
			sippContact(ext1001, "127.0.0.1", o.LocalPort, "UDP"),
			sippContact(ext1001+"-line2", "127.0.0.1", o.LocalPort, "UDP"),
		}
		slices.Sort(want) // the API orders bindings by contact
		got := headerContacts(lastResponse(t, r, 200))
		if len(got) != 2 || got[want[0]] == "" || got[want[1]] == "" {
			t.Fatalf("200 lists %v, want %v", got, want)
		}
		if c := contactsOf(ts.registrations(ext1001)); !slices.Equal(c, want) {
			t.Fatalf("API lists contacts %v, want %v", c, want)
		}
	})
}

// TestSIPRegistrationExpiry: a binding is dropped when its expiry passes.
func TestSIPRegistrationExpiry(t *testing.T) {
	ts := startServer(t, newConfig(t, func(c *server.Config) { c.SIP.RegisterMinExpires = 1 }))
	ts.addExtension(ext1001, pw1001)

	r := sipptest.Run(t, ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "2"))
	registered := time.Now()
	requireSuccess(t, r, 1)
	regs := ts.registrations(ext1001)
	if len(regs) != 1 || regs[0].ExpiresIn > 2 || regs[0].ExpiresIn < 0 {
		t.Fatalf("right after a 2 s registration: %s", dumpRegs(regs))
	}
	ts.waitRegistrations(ext1001, 4*time.Second, "binding should expire", func(r []web.Registration) bool { return len(r) == 0 })
	if gone := time.Since(registered); gone < 1500*time.Millisecond {
		t.Fatalf("binding with Expires: 2 vanished after %s", gone)
	}
}

// TestSIPIntervalTooBrief: an expiry under register_min_expires gets 423 with Min-Expires.
func TestSIPIntervalTooBrief(t *testing.T) {
	ts := startServer(t, newConfig(t)) // register_min_expires: 60
	ts.addExtension(ext1001, pw1001)

	r := sipptest.Run(t, ts.sippRegister("register_423.xml", ext1001, pw1001, ext1001, "30"))
	requireSuccess(t, r, 1) // the scenario checks Min-Expires: 60
	requireCodes(t, r, 401, 423)
	if v := lastResponse(t, r, 423).Header("Min-Expires"); v != "60" {
		t.Fatalf("Min-Expires %q, want 60", v)
	}
	if regs := ts.registrations(""); len(regs) != 0 {
		t.Fatalf("a 423 left bindings: %s", dumpRegs(regs))
	}

	// Control: the minimum itself is accepted.
	r = sipptest.Run(t, ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "60"))
	requireSuccess(t, r, 1)
	if regs := ts.registrations(ext1001); len(regs) != 1 || regs[0].ExpiresIn > 60 || regs[0].ExpiresIn < 55 {
		t.Fatalf("Expires: 60: %s", dumpRegs(regs))
	}
}

// TestSIPRegisterTCP: sipp registers over TCP (sipgo's transaction path)
// and the binding records transport tcp.
func TestSIPRegisterTCP(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.addExtension(ext1001, pw1001)

	o := ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600")
	o.Transport = "t1"
	r := sipptest.Run(t, o)
	requireSuccess(t, r, 1)
	requireCodes(t, r, 401, 200)
	for _, m := range r.Received() {
		if m.Transport != "TCP" {
			t.Fatalf("sipp received a %s message in TCP mode:\n%s", m.Transport, r.Summary())
		}
	}
	regs := ts.registrations(ext1001)
	if len(regs) != 1 {
		t.Fatalf("want one binding: %s", dumpRegs(regs))
	}
	b := regs[0]
	if b.Transport != "tcp" || b.Contact != sippContact(ext1001, "127.0.0.1", r.LocalPort, "TCP") ||
		!strings.HasPrefix(b.Source, "127.0.0.1:") || b.UserAgent != sippUA {
		t.Fatalf("TCP binding: %s", dumpRegs(regs))
	}
}

// TestSIPOptions: an out-of-dialog OPTIONS is answered 200 with an Allow
// header, over UDP (stateless fast path) and TCP (transaction layer).
func TestSIPOptions(t *testing.T) {
	ts := startServer(t, newConfig(t))
	for _, tr := range []string{"u1", "t1"} {
		t.Run(tr, func(t *testing.T) {
			r := sipptest.Run(t, sipptest.Options{Scenario: scenario("options.xml"), Remote: ts.udpAddr, Transport: tr})
			requireSuccess(t, r, 1) // the scenario checks Allow lists REGISTER
			requireCodes(t, r, 200)
			allow := lastResponse(t, r, 200).Header("Allow")
			if !strings.Contains(allow, "REGISTER") || !strings.Contains(allow, "OPTIONS") {
				t.Fatalf("Allow: %q", allow)
			}
		})
	}
	// OPTIONS needs no account and creates nothing.
	if regs := ts.registrations(""); len(regs) != 0 {
		t.Fatalf("OPTIONS created bindings: %s", dumpRegs(regs))
	}
	if code := ts.api("GET", "/api/v1/registrations", nil, nil); code != http.StatusOK {
		t.Fatalf("API after OPTIONS: %d", code)
	}
}
