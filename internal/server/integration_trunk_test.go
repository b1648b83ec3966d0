package server_test

// Carrier trunks with real peers: sipp plays the carriers, each on its own
// loopback address (127.0.0.2, 127.0.0.3), phones are on 127.0.0.1 and a
// stranger on 127.0.0.4, so switchd can tell a trunk from a phone by
// address — as in production.

import (
	"crypto/md5"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/routing"
	"github.com/switchd/switchd/web"
)

const (
	carrierA, carrierB, strangerIP = "127.0.0.2", "127.0.0.3", "127.0.0.4"
	trunkUser, trunkPass           = "switchd-trunk", "carrier-secret" // what carrier_uas.xml verifies
	didMain                        = "+862155550100"                   // → extension 1002
	didBusy                        = "+862155550199"                   // → hangup busy
)

func trFile(name string) string { return filepath.Join("testdata", "trunk", name) }

// trCarrier is one sipp carrier: its address and SIP port.
type trCarrier struct {
	ip   string
	port int
}

// trConfig adds two carriers and the routing of these tests to cfg: China
// numbering (country code 86, national prefix 0, international 00), DIDs on
// both trunks, national numbers via carrier A then B, international via A.
func trConfig(t *testing.T, a, b trCarrier, tune ...func(*server.Config)) *server.Config {
	t.Helper()
	timeout := config.Duration(2 * time.Second)
	cfg := scConfig(t, func(c *server.Config) {
		c.Numbering = routing.Numbering{CountryCode: "86", NationalPrefix: "0", InternationalPrefix: "00"}
		trunk := func(name string, cr trCarrier) routing.TrunkConfig {
			return routing.TrunkConfig{
				Name: name, Host: cr.ip, Port: cr.port, Transport: "udp",
				Inbound: routing.TrunkInboundConfig{Addresses: []string{cr.ip + "/32"}},
				Outbound: routing.TrunkOutboundConfig{Username: trunkUser, Password: trunkPass,
					InviteTimeout: &timeout, CallerID: "+862155550100"},
			}
		}
		c.Trunks = []routing.TrunkConfig{trunk("carrier-a", a), trunk("carrier-b", b)}
		c.DIDs = []routing.DIDConfig{
			{Number: didMain, Extension: scCallee},
			{Number: didBusy, Hangup: "busy"},
		}
		c.DialRules = []routing.DialRuleConfig{
			{Name: "national", Match: `^0[1-9]\d{6,}$`, Trunks: []string{"carrier-a", "carrier-b"}},
			{Name: "international", Match: `^00[1-9]\d{6,}$`, Trunks: []string{"carrier-a"}},
		}
		for _, f := range tune {
			f(c)
		}
	})
	return cfg
}

// trFreeCarrier picks a free SIP port on a carrier address.
func trFreeCarrier(t *testing.T, ip string) trCarrier {
	return trCarrier{ip: ip, port: sipptest.FreePort(t, ip)}
}

// trStartCarrierUAS starts scenario scen as the carrier's UAS for calls
// calls (a REGISTER counts as one), media echoed from a fresh port.
func trStartCarrierUAS(t *testing.T, cr trCarrier, scen string, calls int, keys map[string]string, switchd string) *sipptest.Process {
	t.Helper()
	mp := sipptest.FreeMediaPort(t, cr.ip)
	p := sipptest.Start(t, sipptest.Options{
		Scenario: scen, Remote: switchd, LocalIP: cr.ip, LocalPort: cr.port, Calls: calls,
		Timeout: 30 * time.Second, Keys: keys,
		Args: []string{"-mi", cr.ip, "-mp", strconv.Itoa(mp), "-rtp_echo"},
	})
	p.WaitListening(cr.ip, cr.port, 5*time.Second)
	return p
}

// trSetClass gives an extension its outbound permission class through the API.
func (ts *testServer) trAddExtension(number, password, class string) {
	ts.t.Helper()
	code := ts.api("POST", "/api/v1/extensions", map[string]string{"number": number, "name": "ext " + number,
		"password": password, "class": class}, nil)
	if code != http.StatusCreated {
		ts.t.Fatalf("POST /api/v1/extensions %s class %s: status %d", number, class, code)
	}
}

// trCDRs lists the CDRs through the API.
func (ts *testServer) trCDRs() []web.CDR {
	ts.t.Helper()
	var out struct {
		CDRs []web.CDR `json:"cdrs"`
	}
	if code := ts.api("GET", "/api/v1/cdrs", nil, &out); code != http.StatusOK {
		ts.t.Fatalf("GET /api/v1/cdrs: %d", code)
	}
	return out.CDRs
}

// trWaitCDR waits for a completed CDR.
func (ts *testServer) trWaitCDR(t *testing.T, within time.Duration) web.CDR {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		cdrs := ts.trCDRs()
		if len(cdrs) > 0 && cdrs[0].Cause != "" {
			return cdrs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no completed CDR after %s: %+v", within, cdrs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trMediaSocket is the test's own RTP socket on ip.
func trMediaSocket(t *testing.T, ip string) (*net.UDPConn, int) {
	t.Helper()
	port := sipptest.FreeMediaPort(t, ip)
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ip+":"+strconv.Itoa(port))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, port
}

// TestTrunkInboundDIDRingsExtension: carrier A (127.0.0.2) sends a call to
// the DID in national format (021 5555 0100); switchd normalises it to
// +862155550100, rings extension 1002 (a sipp UAS echoing RTP), and the
// carrier's audio crosses switchd both ways. The CDR says inbound, trunk,
// DID and route; the callee sees the caller's number in E.164.
func TestTrunkInboundDIDRingsExtension(t *testing.T) {
	t.Parallel()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	cfg := trConfig(t, a, b)
	ts := scStart(t, cfg)
	uas := ts.scStartUAS(t, scFile("uas_echo.xml"), scCallee, scCalleePW, "-rtp_echo")

	conn, rtpPort := trMediaSocket(t, carrierA)
	answerFile := filepath.Join(t.TempDir(), "answer")
	uac := sipptest.Start(t, sipptest.Options{
		Scenario: trFile("carrier_uac.xml"), Remote: ts.udpAddr, LocalIP: a.ip, LocalPort: a.port, Calls: 1,
		Timeout: 20 * time.Second,
		Keys:    map[string]string{"from": "013912345678", "rtp_ip": carrierA, "rtp_port": strconv.Itoa(rtpPort), "answer_file": answerFile},
		Args:    []string{"-s", "02155550100", "-d", "4000"},
	})
	switchA := scWaitAnswerFile(t, answerFile, uac, 10*time.Second)
	const n = 40
	echo := scCountEcho(t, conn, switchA, n, 20*time.Millisecond)
	r := uac.Wait()
	requireSuccess(t, r, 1)
	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)
	if echo.distinct != n || echo.foreign != 0 || echo.corrupt != 0 {
		t.Fatalf("carrier sent %d RTP packets; echoes back through switchd: %d distinct, %d corrupt, %d foreign",
			n, echo.distinct, echo.corrupt, echo.foreign)
	}
	inv := scUnique(scRequests(ur.Received(), "INVITE"))
	if len(inv) != 1 {
		t.Fatalf("extension got %d INVITEs, want 1", len(inv))
	}
	if from := inv[0].Header("From"); !strings.Contains(from, "sip:+8613912345678@") {
		t.Fatalf("extension's INVITE From %q: want the caller in E.164 (+8613912345678)", from)
	}
	c := ts.trWaitCDR(t, 5*time.Second)
	if c.Direction != "inbound" || c.Trunk != "carrier-a" || c.DID != didMain || c.Callee != scCallee ||
		!strings.Contains(c.Route, "extension "+scCallee) || c.Cause != "normal_clearing" {
		t.Fatalf("CDR %+v: want inbound on carrier-a, DID %s to %s, route naming the extension, normal_clearing", c, didMain, scCallee)
	}
}

// TestTrunkInboundRefusals: an unknown DID from the carrier gets 404, a DID
// routed to "hangup: busy" gets 486, and an INVITE from a stranger's
// address (no trunk, no registered phone there) gets 403 without a
// challenge — and none of them creates a B leg or a call.
func TestTrunkInboundRefusals(t *testing.T) {
	t.Parallel()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	cfg := trConfig(t, a, b)
	ts := scStart(t, cfg)
	// 1002 is registered, so a B leg could be made if routing let one through.
	uas := ts.scStartUAS(t, scFile("uas_echo.xml"), scCallee, scCalleePW, "-rtp_echo")

	run := func(ip, scen, dialled string) *sipptest.Result {
		return sipptest.Run(t, sipptest.Options{
			Scenario: trFile(scen), Remote: ts.udpAddr, LocalIP: ip, Calls: 1, Timeout: 10 * time.Second,
			Keys: map[string]string{"from": "013912345678"}, Args: []string{"-s", dialled},
		})
	}
	r := run(carrierA, "invite_404.xml", "02155550111")
	requireSuccess(t, r, 1)
	scRequireCodes(t, r, 404)

	r = run(carrierA, "invite_486.xml", "02155550199")
	requireSuccess(t, r, 1)
	scRequireCodes(t, r, 486)

	// A stranger dialling the DID, an extension and an outside number.
	for _, dialled := range []string{didMain, scCallee, "0044207123456"} {
		r := run(strangerIP, "invite_403.xml", dialled)
		requireSuccess(t, r, 1)
		scRequireCodes(t, r, 403)
	}
	if cdrs := ts.trCDRs(); len(cdrs) != 0 {
		t.Fatalf("refused INVITEs left %d CDR(s): %+v", len(cdrs), cdrs)
	}
	if strings.Contains(ts.logs.String(), "trunk_attempt") {
		t.Fatalf("a refused INVITE reached call routing:\n%s", ts.logs.String())
	}
	if n := len(scRequests(uas.proc.Stop(time.Second).Received(), "INVITE")); n != 0 {
		t.Fatalf("extension 1002 got %d INVITE(s) from refused calls", n)
	}
}

// trTrunks lists the trunks through the API.
func (ts *testServer) trTrunks() []web.Trunk {
	ts.t.Helper()
	var out struct {
		Trunks []web.Trunk `json:"trunks"`
	}
	if code := ts.api("GET", "/api/v1/trunks", nil, &out); code != http.StatusOK {
		ts.t.Fatalf("GET /api/v1/trunks: %d", code)
	}
	return out.Trunks
}

// trOutboundCall makes 1001 dial number with the test's own RTP socket,
// proves n packets crossed to the carrier (which echoes them) and back,
// and returns sipp's result.
func (ts *testServer) trOutboundCall(t *testing.T, number string) *sipptest.Result {
	t.Helper()
	ts.trRegisterCaller(t)
	conn, rtpPort := trMediaSocket(t, "127.0.0.1")
	answerFile := filepath.Join(t.TempDir(), "answer")
	o := ts.scCallerOpts(scFile("uac_call_gomedia.xml"), scCallerPW, number, "-d", "4000")
	o.Keys = map[string]string{"rtp_ip": "127.0.0.1", "rtp_port": strconv.Itoa(rtpPort), "answer_file": answerFile}
	uac := sipptest.Start(t, o)
	switchA := scWaitAnswerFile(t, answerFile, uac, 15*time.Second)
	const n = 40
	echo := scCountEcho(t, conn, switchA, n, 20*time.Millisecond)
	r := uac.Wait()
	requireSuccess(t, r, 1)
	if echo.distinct != n || echo.foreign != 0 || echo.corrupt != 0 {
		t.Fatalf("caller sent %d RTP packets; echoes from the carrier through switchd: %d distinct, %d corrupt, %d foreign",
			n, echo.distinct, echo.corrupt, echo.foreign)
	}
	return r
}

// trRegisterCaller registers 1001 (phones register before they call: an
// unregistered source gets 403 at once).
func (ts *testServer) trRegisterCaller(t *testing.T) {
	t.Helper()
	if len(ts.registrations(scCaller)) == 0 {
		requireSuccess(t, sipptest.Run(t, ts.sippRegister("register.xml", scCaller, scCallerPW, scCaller, "3600")), 1)
	}
}

// TestTrunkOutboundRegisteredCarrierChallenges: switchd registers with
// carrier A (401 challenge, credentials verified by sipp), the trunk shows
// registered in the API; then extension 1001 dials a national number, the
// carrier challenges the INVITE with 407, switchd answers it (sipp verifies
// the digest), the call connects with audio through switchd both ways, the
// carrier sees the number in E.164, the trunk's caller ID and a
// P-Asserted-Identity; the CDR says outbound via carrier-a, rule national.
func TestTrunkOutboundRegisteredCarrierChallenges(t *testing.T) {
	t.Parallel()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	// The carrier listens before switchd starts and registers (a REGISTER and an INVITE: 2 calls).
	carrier := trStartCarrierUAS(t, a, trFile("carrier_uas.xml"), 2, nil, "127.0.0.1:9")
	cfg := trConfig(t, a, b, func(c *server.Config) { c.Trunks[0].Register.Enabled = true })
	ts := scStart(t, cfg)

	deadline := time.Now().Add(10 * time.Second)
	for {
		trunks := ts.trTrunks()
		if len(trunks) == 2 && trunks[0].Name == "carrier-a" && trunks[0].Registration == "registered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carrier-a not registered after 10s: %+v", trunks)
		}
		time.Sleep(50 * time.Millisecond)
	}

	r := ts.trOutboundCall(t, "02155551234")
	scRequireCodes(t, r, 407, 180, 200, 200)
	cr := carrier.Wait()
	requireSuccess(t, cr, 2)

	regs := scUnique(scRequests(cr.Received(), "REGISTER"))
	if len(regs) != 2 || regs[1].Header("Authorization") == "" {
		t.Fatalf("carrier got REGISTERs %d (want 2, the second with Authorization):\n%s", len(regs), cr.Summary())
	}
	invites := scUnique(scRequests(cr.Received(), "INVITE"))
	if len(invites) != 2 {
		t.Fatalf("carrier got %d INVITEs, want 2 (challenged, then with credentials):\n%s", len(invites), cr.Summary())
	}
	last := invites[1]
	if !strings.HasPrefix(last.StartLine(), "INVITE sip:+862155551234@") {
		t.Fatalf("carrier's INVITE %q: want the number in E.164", last.StartLine())
	}
	trRequireDigest(t, last, "INVITE")
	if from, pai := last.Header("From"), last.Header("P-Asserted-Identity"); !strings.Contains(from, "sip:+862155550100@") || !strings.Contains(pai, "+862155550100") {
		t.Fatalf("caller ID on the trunk: From %q, P-Asserted-Identity %q; want the trunk's +862155550100", from, pai)
	}
	bSDP := scParseSDP(t, invites[1])
	scRequireSwitchdMedia(t, cfg, "INVITE to the carrier", bSDP)

	c := ts.trWaitCDR(t, 5*time.Second)
	if c.Direction != "outbound" || c.Trunk != "carrier-a" || c.Route != "rule national" || c.Callee != "+862155551234" || c.Cause != "normal_clearing" {
		t.Fatalf("CDR %+v: want outbound via carrier-a, rule national, callee +862155551234", c)
	}
}

// trRequireDigest checks the Proxy-Authorization of a request the carrier
// received against the trunk's password (RFC 2617 §3.2.2, qop=auth).
func trRequireDigest(t *testing.T, m sipptest.Message, method string) {
	t.Helper()
	h := m.Header("Proxy-Authorization")
	if !strings.HasPrefix(h, "Digest ") {
		t.Fatalf("%s without Proxy-Authorization:\n%s", method, m.Text)
	}
	p := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(h, "Digest "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		p[k] = strings.Trim(v, `"`)
	}
	md5hex := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := md5hex(p["username"] + ":" + p["realm"] + ":" + trunkPass)
	ha2 := md5hex(method + ":" + p["uri"])
	want := md5hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
	if p["username"] != trunkUser || p["realm"] != "carrier.test" || p["qop"] != "auth" || p["response"] != want {
		t.Fatalf("Proxy-Authorization %q: want user %s, realm carrier.test, qop auth and response %s", h, trunkUser, want)
	}
	if !strings.Contains(m.StartLine(), p["uri"]) {
		t.Fatalf("digest uri %q is not the Request-URI of %q", p["uri"], m.StartLine())
	}
}

// TestTrunkOutboundFailover: carrier A answers 503, so switchd moves the
// call to carrier B, which answers (audio proven through switchd); the CDR
// names carrier-b. Then carrier A answers 486: that is the callee's answer,
// the caller gets 486 and carrier B is never tried.
func TestTrunkOutboundFailover(t *testing.T) {
	t.Parallel()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	cfg := trConfig(t, a, b)
	ts := scStart(t, cfg)

	carrierA503 := trStartCarrierUAS(t, a, trFile("carrier_503.xml"), 1, nil, ts.udpAddr)
	carrierBOK := trStartCarrierUAS(t, b, trFile("carrier_uas.xml"), 1, nil, ts.udpAddr)
	r := ts.trOutboundCall(t, "02155551234")
	scRequireCodes(t, r, 407, 180, 200, 200)
	requireSuccess(t, carrierA503.Wait(), 1)
	requireSuccess(t, carrierBOK.Wait(), 1)
	if c := ts.trWaitCDR(t, 5*time.Second); c.Trunk != "carrier-b" || c.Cause != "normal_clearing" {
		t.Fatalf("CDR after failover %+v: want trunk carrier-b", c)
	}
	if !strings.Contains(ts.logs.String(), "trunk_failover") {
		t.Fatal("switchd did not log the failover")
	}

	carrierA486 := trStartCarrierUAS(t, a, trFile("carrier_486.xml"), 1, nil, ts.udpAddr)
	carrierBIdle := trStartCarrierUAS(t, b, trFile("carrier_uas.xml"), 1, nil, ts.udpAddr)
	attemptsBefore := strings.Count(ts.logs.String(), "trunk_attempt")
	r = sipptest.Run(t, ts.scCallerOpts(scFile("uac_reject.xml"), scCallerPW, "02155551234"))
	requireSuccess(t, r, 1)
	scRequireCodes(t, r, 407, 486)
	requireSuccess(t, carrierA486.Wait(), 1)
	if n := strings.Count(ts.logs.String(), "trunk_attempt") - attemptsBefore; n != 1 {
		t.Fatalf("a 486 from carrier A led to %d trunk attempts, want 1 (no failover)", n)
	}
	if n := len(scRequests(carrierBIdle.Stop(time.Second).Received(), "INVITE")); n != 0 {
		t.Fatalf("carrier B got %d INVITE(s) after carrier A's 486", n)
	}
}

// TestTrunkInviteTimeoutFailover: carrier A does not answer at all (nothing
// listens on its port); after the trunk's invite_timeout switchd tries
// carrier B, which connects the call.
func TestTrunkInviteTimeoutFailover(t *testing.T) {
	t.Parallel()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	cfg := trConfig(t, a, b, func(c *server.Config) {
		d := config.Duration(500 * time.Millisecond)
		c.Trunks[0].Outbound.InviteTimeout = &d
	})
	ts := scStart(t, cfg)
	carrierBOK := trStartCarrierUAS(t, b, trFile("carrier_uas.xml"), 1, nil, ts.udpAddr)
	r := ts.trOutboundCall(t, "02155551234")
	scRequireCodes(t, r, 407, 180, 200, 200)
	requireSuccess(t, carrierBOK.Wait(), 1)
	// Carrier B was tried after the trunk's 500 ms, not the 2 s of the others.
	var at []time.Time
	for _, line := range strings.Split(ts.logs.String(), "\n") {
		if kv := scLogFields(line); kv["msg"] == "trunk_attempt" {
			ts, err := time.Parse(time.RFC3339Nano, kv["time"])
			if err != nil {
				t.Fatalf("log time %q: %v", kv["time"], err)
			}
			at = append(at, ts)
		}
	}
	if len(at) != 2 {
		t.Fatalf("%d trunk attempts logged, want 2", len(at))
	}
	if gap := at[1].Sub(at[0]); gap < 450*time.Millisecond || gap > 1500*time.Millisecond {
		t.Fatalf("carrier B tried %v after carrier A, want the trunk's invite_timeout of 500 ms", gap)
	}
	if c := ts.trWaitCDR(t, 5*time.Second); c.Trunk != "carrier-b" {
		t.Fatalf("CDR %+v: want trunk carrier-b", c)
	}
}

// TestTrunkPermissionClasses: an extension of class national dialling an
// international number, and one of class internal dialling a national
// number, get 403 and no trunk is tried; an unroutable number gets 404.
func TestTrunkPermissionClasses(t *testing.T) {
	t.Parallel()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	cfg := trConfig(t, a, b)
	ts := startServer(t, cfg)
	ts.trAddExtension("2001", "pw-2001-national", "national")
	ts.trAddExtension("2002", "pw-2002-internal", "internal")
	// Phones register before they call (an unregistered source gets 403 at once).
	requireSuccess(t, sipptest.Run(t, ts.sippRegister("register.xml", "2001", "pw-2001-national", "2001", "3600")), 1)
	call := func(ext, pw, number string) []int {
		r := sipptest.Run(t, sipptest.Options{
			Scenario: scFile("uac_reject.xml"), Remote: ts.udpAddr, Calls: 1, Timeout: 10 * time.Second,
			Users: []sipptest.User{{Name: ext, Password: pw}}, Args: []string{"-s", number},
		})
		requireSuccess(t, r, 1)
		return scFinalCodes(r)
	}
	for _, c := range []struct{ ext, pw, number string }{
		{"2001", "pw-2001-national", "0044207123456"},
		{"2002", "pw-2002-internal", "02155551234"},
	} {
		if got := call(c.ext, c.pw, c.number); len(got) != 2 || got[1] != 403 {
			t.Fatalf("%s dialling %s: got %v, want 407 then 403", c.ext, c.number, got)
		}
	}
	if got := call("2001", "pw-2001-national", "12"); len(got) != 2 || got[1] != 404 {
		t.Fatalf("unroutable number: got %v, want 407 then 404", got)
	}
	if strings.Contains(ts.logs.String(), "trunk_attempt") {
		t.Fatal("a refused number reached a trunk")
	}
}

// TestTrunkInboundDigest: a carrier that switchd knows by credentials
// (inbound.username) rather than by address: its INVITE from an address of
// no trunk is challenged (407), and with the trunk's credentials it reaches
// the DID's extension — as an inbound call on that trunk, media crossing.
// An extension's credentials from the same address reach only extensions.
func TestTrunkInboundDigest(t *testing.T) {
	t.Parallel()
	a, b := trFreeCarrier(t, carrierA), trFreeCarrier(t, carrierB)
	cfg := trConfig(t, a, b, func(c *server.Config) {
		c.Trunks[1].Inbound = routing.TrunkInboundConfig{Username: "carrier-b-in", Password: "inbound-secret-b"}
	})
	cfg.SIP.ChallengeUnregistered = true // carrier B sends from 127.0.0.3, where no phone registers
	ts := scStart(t, cfg)
	uas := ts.scStartUAS(t, scFile("uas_echo.xml"), scCallee, scCalleePW, "-rtp_echo")

	conn, rtpPort := trMediaSocket(t, carrierB)
	answerFile := filepath.Join(t.TempDir(), "answer")
	uac := sipptest.Start(t, sipptest.Options{
		Scenario: scFile("uac_call_gomedia.xml"), Remote: ts.udpAddr, LocalIP: b.ip, Calls: 1, Timeout: 20 * time.Second,
		Users: []sipptest.User{{Name: "carrier-b-in", Password: "inbound-secret-b"}},
		Keys:  map[string]string{"rtp_ip": carrierB, "rtp_port": strconv.Itoa(rtpPort), "answer_file": answerFile},
		Args:  []string{"-s", "02155550100", "-d", "4000"},
	})
	switchA := scWaitAnswerFile(t, answerFile, uac, 10*time.Second)
	echo := scCountEcho(t, conn, switchA, 30, 20*time.Millisecond)
	r := uac.Wait()
	requireSuccess(t, r, 1)
	scRequireCodes(t, r, 407, 180, 200, 200)
	requireSuccess(t, uas.proc.Wait(), 1)
	if echo.distinct != 30 {
		t.Fatalf("%d of 30 RTP packets came back through switchd", echo.distinct)
	}
	if c := ts.trWaitCDR(t, 5*time.Second); c.Direction != "inbound" || c.Trunk != "carrier-b" || c.DID != didMain {
		t.Fatalf("CDR %+v: want inbound on carrier-b to %s", c, didMain)
	}
}
