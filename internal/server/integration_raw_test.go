package server_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
)

// TestSIPMalformedRegister: broken REGISTERs get a 4xx (or, when they do not
// even parse as SIP, are dropped), bind nothing, and switchd keeps serving.
func TestSIPMalformedRegister(t *testing.T) {
	ts := startServer(t, newConfig(t))
	ts.addExtension(ext1001, pw1001)
	c := newRawClient(t, "127.0.0.1", ts.udpAddr)
	u := ext1001

	// Rejected before authentication.
	for _, tc := range []struct {
		name string
		req  regRequest
		code int
	}{
		{"garbage Authorization", regRequest{User: u, Expires: "60", Auth: "Digest ,,,=="}, 400},
		{"non-Digest Authorization", regRequest{User: u, Expires: "60", Auth: "Basic dXNlcjpwdw=="}, 400},
		{"missing Call-ID", regRequest{User: u, Expires: "60", Omit: "Call-ID"}, 400},
		{"missing CSeq", regRequest{User: u, Expires: "60", Omit: "CSeq"}, 400},
		{"missing From", regRequest{User: u, Expires: "60", Omit: "From"}, 400},
		{"unsupported Require", regRequest{User: u, Expires: "60", Extra: []string{"Require: foo-ext"}}, 420},
	} {
		res := c.roundTrip(c.register(tc.req))
		if res.Code != tc.code {
			t.Errorf("%s: got %d %s, want %d", tc.name, res.Code, res.Reason, tc.code)
		}
		if tc.code == 420 && res.get("Unsupported") != "foo-ext" {
			t.Errorf("%s: Unsupported %q", tc.name, res.get("Unsupported"))
		}
	}

	// Rejected after authentication (so a valid digest is sent).
	for _, tc := range []struct {
		name string
		req  regRequest
	}{
		{"word for Expires", regRequest{User: u, Expires: "soon"}},
		{"negative Expires", regRequest{User: u, Expires: "-5"}},
		{"bad contact expires", regRequest{User: u, Expires: "60", Contacts: []string{"<sip:1001@127.0.0.1:5999>;expires=abc"}}},
		{"non-SIP contact", regRequest{User: u, Expires: "60", Contacts: []string{"<mailto:1001@example.com>"}}},
		{"Contact * without Expires: 0", regRequest{User: u, Expires: "3600", Contacts: []string{"*"}}},
		{"Contact * with another contact", regRequest{User: u, Expires: "0", Contacts: []string{"*", "<sip:1001@127.0.0.1:5999>"}}},
	} {
		res := c.authedRegister(tc.req, pw1001, "MD5")
		if res.Code != 400 {
			t.Errorf("%s: got %d %s, want 400", tc.name, res.Code, res.Reason)
		}
	}

	// Not SIP at all: nothing to answer to, but nothing breaks either.
	for _, junk := range []string{
		"hello world\r\n\r\n",
		"REGISTER garbage\r\n\r\n",
		strings.Replace(c.register(regRequest{User: u, Expires: "60"}), "Contact: <sip:", "Contact: <<sip:", 1),
		"\x00\x01\x02\xff",
	} {
		c.send(junk)
		if res, err := c.recv(300 * time.Millisecond); !errors.Is(err, errNoAnswer) {
			t.Errorf("%q: got %v %v, want no answer", junk, res, err)
		}
	}

	if regs := ts.registrations(""); len(regs) != 0 {
		t.Fatalf("malformed requests left bindings: %s", dumpRegs(regs))
	}
	if bans := ts.bans(); len(bans) != 0 {
		t.Fatalf("bans %+v", bans)
	}

	// Still serving: sipp and the raw client register.
	r := sipptest.Run(t, ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600"))
	requireSuccess(t, r, 1)
	requireCodes(t, r, 401, 200)
	if res := c.authedRegister(regRequest{User: u, Expires: "600"}, pw1001, "MD5"); res.Code != 200 {
		t.Fatalf("good REGISTER after the malformed ones: %d %s", res.Code, res.Reason)
	}
	if n := len(ts.registrations(ext1001)); n != 2 {
		t.Fatalf("want 2 bindings: %s", dumpRegs(ts.registrations("")))
	}
}

// TestSIPRegisterSHA256: a client that picks the SHA-256 challenge
// (RFC 8760) registers end to end over UDP when SHA-256 is configured; the
// digest is computed by this test, independently of the server's code.
func TestSIPRegisterSHA256(t *testing.T) {
	t.Run("MD5 and SHA-256 offered", func(t *testing.T) {
		ts := startServer(t, newConfig(t, func(c *server.Config) { c.SIP.AuthAlgorithms = []string{"MD5", "SHA-256"} }))
		ts.addExtension(ext1001, pw1001)
		c := newRawClient(t, "127.0.0.1", ts.udpAddr)

		chs := challenges(t, c.roundTrip(c.register(regRequest{User: ext1001, Expires: "600"})))
		if len(chs) != 2 || chs[0].Algorithm != "MD5" || chs[1].Algorithm != "SHA-256" {
			t.Fatalf("challenges %+v, want MD5 then SHA-256", chs)
		}
		if chs[0].Nonce != chs[1].Nonce || chs[1].Realm != "switchd" || chs[1].QOP != "auth" {
			t.Fatalf("challenges %+v", chs)
		}

		// Wrong password with SHA-256: 403.
		if res := c.authedRegister(regRequest{User: ext1001, Expires: "600"}, "wrong-password", "SHA-256"); res.Code != 403 {
			t.Fatalf("SHA-256, wrong password: %d %s", res.Code, res.Reason)
		}
		if regs := ts.registrations(""); len(regs) != 0 {
			t.Fatalf("rejected SHA-256 REGISTER bound %s", dumpRegs(regs))
		}

		contact := "<sip:" + ext1001 + "@" + c.local + ">"
		res := c.authedRegister(regRequest{User: ext1001, Expires: "600", Contacts: []string{contact}}, pw1001, "SHA-256")
		if res.Code != 200 {
			t.Fatalf("SHA-256 REGISTER: %d %s\n%s", res.Code, res.Reason, res.Raw)
		}
		if cs := res.all("Contact"); len(cs) != 1 || !strings.HasPrefix(cs[0], contact+";expires=") {
			t.Fatalf("200 Contact %q, want %s;expires=…", cs, contact)
		}
		regs := ts.registrations(ext1001)
		if len(regs) != 1 || regs[0].Contact != "sip:"+ext1001+"@"+c.local || regs[0].Source != c.local ||
			regs[0].Transport != "udp" || regs[0].UserAgent != "rawclient" {
			t.Fatalf("binding after SHA-256 REGISTER: %s", dumpRegs(regs))
		}

		// sipp, which only speaks MD5, still registers against both offers.
		r := sipptest.Run(t, ts.sippRegister("register.xml", ext1001, pw1001, ext1001, "3600"))
		requireSuccess(t, r, 1)
		if n := len(ts.registrations(ext1001)); n != 2 {
			t.Fatalf("want the SHA-256 and the MD5 binding: %s", dumpRegs(ts.registrations("")))
		}
	})

	t.Run("SHA-256 only", func(t *testing.T) {
		ts := startServer(t, newConfig(t, func(c *server.Config) { c.SIP.AuthAlgorithms = []string{"SHA-256"} }))
		ts.addExtension(ext1001, pw1001)
		c := newRawClient(t, "127.0.0.1", ts.udpAddr)

		chs := challenges(t, c.roundTrip(c.register(regRequest{User: ext1001, Expires: "600"})))
		if len(chs) != 1 || chs[0].Algorithm != "SHA-256" {
			t.Fatalf("challenges %+v, want only SHA-256", chs)
		}
		// An MD5 answer to a SHA-256-only challenge is not accepted: challenged again.
		md5 := chs[0]
		md5.Algorithm = "MD5"
		res := c.roundTrip(c.register(regRequest{User: ext1001, Expires: "600", CSeq: 2,
			Auth: authorization(md5, ext1001, pw1001, "REGISTER", c.requestURI())}))
		if res.Code != 401 {
			t.Fatalf("MD5 credentials against a SHA-256-only server: %d %s", res.Code, res.Reason)
		}
		if res := c.authedRegister(regRequest{User: ext1001, Expires: "600"}, pw1001, "SHA-256"); res.Code != 200 {
			t.Fatalf("SHA-256 REGISTER: %d %s", res.Code, res.Reason)
		}
		if regs := ts.registrations(ext1001); len(regs) != 1 ||
			!slices.Contains(contactsOf(regs), "sip:"+ext1001+"@"+c.local) {
			t.Fatalf("bindings %s", dumpRegs(regs))
		}
	})

	t.Run("default offers MD5 only", func(t *testing.T) {
		cfg := newConfig(t)
		if !slices.Equal(cfg.SIP.AuthAlgorithms, []string{"MD5"}) {
			t.Fatalf("default auth_algorithms %v; this subtest expects [MD5]", cfg.SIP.AuthAlgorithms)
		}
		ts := startServer(t, cfg)
		ts.addExtension(ext1001, pw1001)
		c := newRawClient(t, "127.0.0.1", ts.udpAddr)

		chs := challenges(t, c.roundTrip(c.register(regRequest{User: ext1001, Expires: "600"})))
		if len(chs) != 1 || chs[0].Algorithm != "MD5" {
			t.Fatalf("challenges %+v, want only MD5", chs)
		}
		// SHA-256 credentials (right password) for an algorithm not offered: challenged again.
		sha := chs[0]
		sha.Algorithm = "SHA-256"
		res := c.roundTrip(c.register(regRequest{User: ext1001, Expires: "600", CSeq: 2,
			Auth: authorization(sha, ext1001, pw1001, "REGISTER", c.requestURI())}))
		if res.Code != 401 {
			t.Fatalf("SHA-256 credentials against an MD5-only server: %d %s", res.Code, res.Reason)
		}
		if regs := ts.registrations(""); len(regs) != 0 {
			t.Fatalf("bindings %s", dumpRegs(regs))
		}
	})
}
