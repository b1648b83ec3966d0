package sip

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchd/switchd/internal/sipptest"
)

// Tests here use loopback ports 42000–42999 only.
const (
	trunkRegPortMin = 42000
	trunkRegPortMax = 42999
)

var (
	trunkRegPortsMu sync.Mutex
	trunkRegPorts   = map[int]bool{} // handed out in this process
)

// trunkRegPort returns the first of n consecutive loopback ports in
// 42000–42999, free for UDP and TCP now and not handed out before by this
// process. With even, the first port is even (sipp's -mp).
func trunkRegPort(t testing.TB, n int, even bool) int {
	t.Helper()
	trunkRegPortsMu.Lock()
	defer trunkRegPortsMu.Unlock()
	for range 500 {
		p := trunkRegPortMin + rand.IntN(trunkRegPortMax-trunkRegPortMin-n)
		if even && p%2 != 0 {
			p++
		}
		ok := true
		for i := p; i < p+n && ok; i++ {
			ok = !trunkRegPorts[i] && portFree(i)
		}
		if ok {
			for i := p; i < p+n; i++ {
				trunkRegPorts[i] = true
			}
			return p
		}
	}
	t.Fatalf("no %d free loopback ports in %d–%d", n, trunkRegPortMin, trunkRegPortMax)
	return 0
}

func portFree(p int) bool {
	addr := "127.0.0.1:" + strconv.Itoa(p)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	pc.Close()
	return true
}

// lockedLog collects log output across goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startTrunkRegServer runs a Server on loopback (UDP and TCP, one port)
// until the test ends, and returns it with its address and log.
func startTrunkRegServer(t *testing.T) (*Server, netip.AddrPort, *slog.Logger) {
	t.Helper()
	port := trunkRegPort(t, 1, false)
	cfg := DefaultConfig()
	cfg.Listen = []string{fmt.Sprintf("udp://127.0.0.1:%d", port), fmt.Sprintf("tcp://127.0.0.1:%d", port)}
	cfg.UDPReceiveBuffer = 0
	cfg.QualifyInterval = 0
	logs := &lockedLog{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	guard := NewGuard(cfg.Ban)
	auth, err := NewAuthenticator(cfg, clientAuthCreds{}, guard, time.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	reg := NewRegistrar(cfg, auth, NewBindingTable(cfg.MaxContactsPerAOR, nil), time.Now, log, "")
	s, err := NewServer(cfg, ServerOptions{Registrar: reg, Guard: guard, Metrics: NewMetrics(prometheus.NewRegistry()),
		Logger: log, Now: time.Now, UserAgent: "switchd-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run: %v", err)
		}
		if t.Failed() {
			t.Logf("switchd log:\n%s", logs.String())
		}
	})
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	return s, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), log
}

// carrier is sipp playing a carrier's registrar.
type carrier struct {
	*sipptest.Process
	addr string // "127.0.0.1:port"
}

// startCarrier runs scenario (in testdata/trunkreg) as a UAS on loopback
// over transport "udp" or "tcp", every socket in 42000–42999.
func startCarrier(t *testing.T, scenario string, switchd netip.AddrPort, transport string, keys map[string]string) *carrier {
	t.Helper()
	port := trunkRegPort(t, 1, false)
	media := trunkRegPort(t, 4, true)
	control := trunkRegPort(t, 1, false)
	tp := "u1"
	if transport == "tcp" {
		tp = "t1"
	}
	p := sipptest.Start(t, sipptest.Options{
		Scenario: "testdata/trunkreg/" + scenario, Remote: switchd.String(),
		LocalIP: "127.0.0.1", LocalPort: port, Transport: tp, Timeout: 20 * time.Second, Keys: keys,
		Args: []string{"-mi", "127.0.0.1", "-mp", strconv.Itoa(media), "-ci", "127.0.0.1", "-cp", strconv.Itoa(control)},
	})
	if transport == "tcp" {
		waitTCPListening(t, p, port)
	} else {
		p.WaitListening("127.0.0.1", port, 5*time.Second)
	}
	return &carrier{Process: p, addr: "127.0.0.1:" + strconv.Itoa(port)}
}

// waitTCPListening waits until /proc/net/tcp lists a listening socket on
// 127.0.0.1:port (no connection is made, so sipp sees nothing).
func waitTCPListening(t *testing.T, p *sipptest.Process, port int) {
	t.Helper()
	want := fmt.Sprintf("0100007F:%04X", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if f, err := os.Open("/proc/net/tcp"); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fields := strings.Fields(sc.Text())
				if len(fields) > 3 && fields[1] == want && fields[3] == "0A" {
					f.Close()
					return
				}
			}
			f.Close()
		}
		select {
		case <-p.Done():
			t.Fatalf("sipp exited before listening on tcp %d:\n%s", port, p.Wait().Summary())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sipp not listening on tcp 127.0.0.1:%d", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runTrunkRegistrar runs r until the returned stop is called (or the test
// ends); stop waits for Run to return.
func runTrunkRegistrar(t *testing.T, r *TrunkRegistrar) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.Run(ctx)
		close(done)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("TrunkRegistrar.Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitTrunkStatus polls r's single registration until ok holds.
func waitTrunkStatus(t *testing.T, r *TrunkRegistrar, within time.Duration, what string, ok func(TrunkRegStatus) bool) TrunkRegStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := r.Status()[0]
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: status %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var trunkRegKeys = map[string]string{"user": "trunk1", "password": "s3cret-pw", "realm": "carrier.test"}

func withKeys(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range trunkRegKeys {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// registersOf returns the REGISTERs sipp received, failing the test on a
// Call-ID change or a CSeq that does not increase (RFC 3261 §10.2.4).
func registersOf(t *testing.T, r *sipptest.Result) []sipptest.Message {
	t.Helper()
	var out []sipptest.Message
	var lastSeq int
	for _, m := range r.Received() {
		if !m.IsRequest("REGISTER") {
			continue
		}
		seqStr, _, _ := strings.Cut(m.Header("CSeq"), " ")
		seq, err := strconv.Atoi(seqStr)
		if err != nil || seq <= lastSeq {
			t.Errorf("REGISTER #%d: CSeq %q after %d", len(out)+1, m.Header("CSeq"), lastSeq)
		}
		lastSeq = seq
		if len(out) > 0 && m.Header("Call-ID") != out[0].Header("Call-ID") {
			t.Errorf("REGISTER #%d: Call-ID %q, first was %q", len(out)+1, m.Header("Call-ID"), out[0].Header("Call-ID"))
		}
		out = append(out, m)
	}
	return out
}

// (a) registration, refresh before expiry with the same Call-ID and a
// higher CSeq, and (c) the un-REGISTER when Run's context ends; over UDP and TCP.
func TestTrunkRegRefreshAndUnregister(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			srv, sw, log := startTrunkRegServer(t)
			c := startCarrier(t, "registrar_refresh.xml", sw, transport, withKeys(map[string]string{"exp1": "3", "exp2": "60"}))
			reg := NewTrunkRegistrar(srv, []TrunkRegistration{{
				Name: "carrier-a", Registrar: c.addr, Transport: transport, Domain: "carrier.test",
				Credentials: ClientCredentials{Username: "trunk1", Password: "s3cret-pw", Realm: "carrier.test"},
				Expires:     time.Hour,
			}}, log)
			reg.BackoffBase, reg.Timeout = 200*time.Millisecond, 3*time.Second
			stop := runTrunkRegistrar(t, reg)

			first := waitTrunkStatus(t, reg, 5*time.Second, "registered", func(st TrunkRegStatus) bool { return st.State == TrunkRegRegistered })
			if got := first.Expires.Sub(first.LastSuccess); got != 3*time.Second {
				t.Errorf("expiry %s after the 200, want the 3s the carrier granted (Contact expires)", got)
			}
			if first.Name != "carrier-a" || first.Registrar != c.addr || first.Failures != 0 || first.LastError != "" {
				t.Errorf("status %+v", first)
			}
			refreshed := waitTrunkStatus(t, reg, 5*time.Second, "refresh", func(st TrunkRegStatus) bool { return st.LastSuccess.After(first.LastSuccess) })
			if !refreshed.LastSuccess.Before(first.Expires) {
				t.Errorf("refreshed at %s, after the binding lapsed at %s", refreshed.LastSuccess, first.Expires)
			}
			if refreshed.State != TrunkRegRegistered || refreshed.Expires.Sub(refreshed.LastSuccess) != 60*time.Second {
				t.Errorf("after refresh: %+v, want registered for the 60s of the Expires header", refreshed)
			}

			stop()
			if st := reg.Status()[0]; st.State != TrunkRegUnregistered || !st.Expires.IsZero() {
				t.Errorf("after stop: %+v", st)
			}
			r := c.Wait()
			if r.ExitCode != sipptest.ExitAllSucceeded || r.Successful() != 1 {
				t.Fatalf("carrier scenario failed:\n%s", r.Summary())
			}
			regs := registersOf(t, r)
			if len(regs) != 4 {
				t.Fatalf("carrier got %d REGISTERs, want 4 (challenged, authorized, refresh, un-REGISTER)", len(regs))
			}
			if regs[0].Header("Authorization") != "" {
				t.Errorf("first REGISTER carries credentials before any challenge: %s", regs[0].Header("Authorization"))
			}
			for i, nc := range []string{"nc=00000001", "nc=00000002", "nc=00000003"} {
				if a := regs[i+1].Header("Authorization"); !strings.Contains(a, nc) || !strings.Contains(a, `realm="carrier.test"`) {
					t.Errorf("REGISTER #%d: Authorization %q, want the challenge's nonce re-used with %s", i+2, a, nc)
				}
			}
			if regs[1].Header("Expires") != "3600" || regs[3].Header("Expires") != "0" {
				t.Errorf("Expires asked: %q then un-REGISTER %q", regs[1].Header("Expires"), regs[3].Header("Expires"))
			}
			if !strings.HasPrefix(regs[0].StartLine(), "REGISTER sip:carrier.test SIP/2.0") ||
				!strings.Contains(regs[0].Header("To"), "sip:trunk1@carrier.test") || !strings.Contains(regs[0].Header("From"), "sip:trunk1@carrier.test") {
				t.Errorf("REGISTER addressing:\n%s", regs[0].Text)
			}
			contact := regs[0].Header("Contact")
			wantContact := "<sip:trunk1@" + sw.String()
			if !strings.HasPrefix(contact, wantContact) {
				t.Errorf("Contact %q, want switchd's own listener %s", contact, wantContact)
			}
			if strings.Contains(contact, "transport=tcp") != (transport == "tcp") {
				t.Errorf("Contact %q over %s", contact, transport)
			}
		})
	}
}

// (b) a wrong password: sipp's verifyauth refuses it with 403; the status
// says failed, naming the 403, and the registrar retries after a backoff.
func TestTrunkRegWrongPassword(t *testing.T) {
	srv, sw, log := startTrunkRegServer(t)
	c := startCarrier(t, "registrar_reject.xml", sw, "udp", withKeys(nil))
	reg := NewTrunkRegistrar(srv, []TrunkRegistration{{
		Name: "carrier-b", Registrar: c.addr,
		Credentials: ClientCredentials{Username: "trunk1", Password: "not-the-password"},
	}}, log)
	const base = 400 * time.Millisecond
	reg.BackoffBase, reg.Timeout = base, 3*time.Second
	stop := runTrunkRegistrar(t, reg)

	first := waitTrunkStatus(t, reg, 5*time.Second, "first failure", func(st TrunkRegStatus) bool { return st.Failures >= 1 })
	if first.State != TrunkRegFailed || !strings.Contains(first.LastError, "403 Forbidden") || !first.LastSuccess.IsZero() || !first.Expires.IsZero() {
		t.Errorf("after the 403: %+v", first)
	}
	second := waitTrunkStatus(t, reg, 5*time.Second, "second failure", func(st TrunkRegStatus) bool { return st.Failures >= 2 })
	if gap := second.LastAttempt.Sub(first.LastAttempt); gap < base/2 {
		t.Errorf("retried %s after the first attempt, want a backoff of at least %s", gap, base/2)
	}
	if second.State != TrunkRegFailed || !strings.Contains(second.LastError, "403") {
		t.Errorf("after the second 403: %+v", second)
	}
	r := c.Wait()
	stop()
	if r.ExitCode != sipptest.ExitAllSucceeded {
		t.Fatalf("carrier scenario failed:\n%s", r.Summary())
	}
	regs := registersOf(t, r)
	if len(regs) != 4 {
		t.Fatalf("carrier got %d REGISTERs, want 4", len(regs))
	}
	for i, m := range regs {
		if hasAuth := m.Header("Authorization") != ""; hasAuth != (i%2 == 1) {
			t.Errorf("REGISTER #%d: Authorization %q; each attempt must start without the refused credentials", i+1, m.Header("Authorization"))
		}
	}
	if st := reg.Status()[0]; st.State != TrunkRegUnregistered {
		t.Errorf("after stop: %+v", st)
	}
}

// A challenge to credentials that answered a fresh challenge: with
// stale=true it is answered at once; with stale=false it is a failure
// ("credentials rejected", naming the 401) and the next attempt, after the
// backoff, starts over and succeeds.
func TestTrunkRegRechallenge(t *testing.T) {
	for _, stale := range []string{"true", "false"} {
		t.Run("stale="+stale, func(t *testing.T) {
			srv, sw, log := startTrunkRegServer(t)
			c := startCarrier(t, "registrar_rechallenge.xml", sw, "udp", withKeys(map[string]string{"stale": stale}))
			reg := NewTrunkRegistrar(srv, []TrunkRegistration{{
				Name: "carrier-r", Registrar: c.addr, Domain: "carrier.test",
				Credentials: ClientCredentials{Username: "trunk1", Password: "s3cret-pw"},
			}}, log)
			reg.BackoffBase, reg.Timeout = 200*time.Millisecond, 3*time.Second
			stop := runTrunkRegistrar(t, reg)

			st := waitTrunkStatus(t, reg, 5*time.Second, "registered", func(st TrunkRegStatus) bool { return st.State == TrunkRegRegistered })
			if stale == "true" && st.LastError != "" {
				t.Errorf("stale nonce counted as a failure: %+v", st)
			}
			if stale == "false" && !strings.Contains(st.LastError, "credentials rejected: 401") {
				t.Errorf("LastError %q, want the rejected credentials named", st.LastError)
			}
			stop()
			r := c.Wait()
			if r.ExitCode != sipptest.ExitAllSucceeded {
				t.Fatalf("carrier scenario failed:\n%s", r.Summary())
			}
			regs := registersOf(t, r)
			want := 4 // challenged, re-challenged, answered, un-REGISTER
			if stale == "false" {
				want = 5 // … plus the fresh start after the failure
			}
			if len(regs) != want {
				t.Fatalf("carrier got %d REGISTERs, want %d", len(regs), want)
			}
		})
	}
}

// A 423 raises the interval asked for to the carrier's Min-Expires; a 200
// naming no expiry grants what was asked.
func TestTrunkRegIntervalTooBrief(t *testing.T) {
	srv, sw, log := startTrunkRegServer(t)
	c := startCarrier(t, "registrar_423.xml", sw, "udp", withKeys(nil))
	reg := NewTrunkRegistrar(srv, []TrunkRegistration{{
		Name: "carrier-m", Registrar: c.addr, Credentials: ClientCredentials{Username: "trunk1", Password: "s3cret-pw"},
		Expires: 60 * time.Second,
	}}, log)
	reg.Timeout = 3 * time.Second
	stop := runTrunkRegistrar(t, reg)
	st := waitTrunkStatus(t, reg, 5*time.Second, "registered", func(st TrunkRegStatus) bool { return st.State == TrunkRegRegistered })
	if got := st.Expires.Sub(st.LastSuccess); got != 1800*time.Second {
		t.Errorf("registered for %s, want the 1800s of Min-Expires", got)
	}
	stop()
	if r := c.Wait(); r.ExitCode != sipptest.ExitAllSucceeded {
		t.Fatalf("carrier scenario failed:\n%s", r.Summary())
	}
}

// (d) no carrier listening: every attempt times out, the registrar backs
// off and retries, and nothing is left running once Run returns.
func TestTrunkRegCarrierDown(t *testing.T) {
	srv, _, log := startTrunkRegServer(t)
	down := trunkRegPort(t, 1, false) // free: nothing answers there
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()

	reg := NewTrunkRegistrar(srv, []TrunkRegistration{{
		Name: "carrier-d", Registrar: "127.0.0.1:" + strconv.Itoa(down), Credentials: ClientCredentials{Username: "trunk1", Password: "pw"},
	}}, log)
	reg.BackoffBase, reg.Timeout = 100*time.Millisecond, 300*time.Millisecond
	stop := runTrunkRegistrar(t, reg)
	st := waitTrunkStatus(t, reg, 5*time.Second, "two failures", func(st TrunkRegStatus) bool { return st.Failures >= 2 })
	if st.State != TrunkRegFailed || !strings.Contains(st.LastError, "did not answer") {
		t.Errorf("status %+v", st)
	}
	stop()
	if st := reg.Status()[0]; st.State != TrunkRegUnregistered {
		t.Errorf("after stop: %+v", st)
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Run returned, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTrunkRegBackoff(t *testing.T) {
	base, limit := 5*time.Second, 5*time.Minute
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second, 7: 5 * time.Minute, 60: 5 * time.Minute} {
		for range 200 {
			if d := backoff(base, limit, n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, want/2, want)
			}
		}
	}
}

func TestTrunkRegRefreshAfter(t *testing.T) {
	for granted, want := range map[time.Duration]time.Duration{
		3600 * time.Second: 3570 * time.Second, // 30 s before expiry
		60 * time.Second:   30 * time.Second,   // half-way beats 30 s before
		4 * time.Second:    2 * time.Second,
	} {
		if got := refreshAfter(granted); got != want {
			t.Errorf("refreshAfter(%s) = %s, want %s", granted, got, want)
		}
	}
}

func TestTrunkRegGrantedExpiry(t *testing.T) {
	req := gosip.NewRequest(gosip.REGISTER, gosip.Uri{Scheme: "sip", Host: "carrier.test"})
	req.AppendHeader(&gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: "trunk1", Host: "192.0.2.1", Port: 5060}})
	tests := []struct {
		name    string
		headers []string
		want    time.Duration
	}{
		{"our contact's expires wins", []string{"Contact: <sip:other@192.0.2.9>;expires=10", "Contact: <sip:trunk1@192.0.2.1>;expires=120", "Expires: 300"}, 120 * time.Second},
		{"default port matches", []string{"Contact: <sip:trunk1@192.0.2.1:5060>;EXPIRES=90, <sip:x@192.0.2.2>;expires=5"}, 90 * time.Second},
		{"Expires header when our contact has none", []string{"Contact: <sip:trunk1@192.0.2.1>", "Expires: 300"}, 300 * time.Second},
		{"rewritten contact: Expires header", []string{"Contact: <sip:trunk1@203.0.113.7:5060>;expires=45", "Expires: 600"}, 600 * time.Second},
		{"nothing: what was asked", nil, 3600 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:trunk1@carrier.test>;tag=a\r\nTo: <sip:trunk1@carrier.test>;tag=b\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n" +
				strings.Join(append(tt.headers, ""), "\r\n") + "Content-Length: 0\r\n\r\n"
			msg, err := gosip.ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := grantedExpiry(msg.(*gosip.Response), req, time.Hour); got != tt.want {
				t.Errorf("granted %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTrunkRegStateString(t *testing.T) {
	for s, want := range map[TrunkRegState]string{
		TrunkRegUnknown: "unknown", TrunkRegRegistering: "registering", TrunkRegRegistered: "registered",
		TrunkRegFailed: "failed", TrunkRegUnregistered: "unregistered", TrunkRegState(99): "unknown",
	} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s.String(), want)
		}
	}
}

func TestTrunkRegSplitHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"sip.carrier.test":      "sip.carrier.test 5060",
		"sip.carrier.test:5080": "sip.carrier.test 5080",
		"192.0.2.7:5061":        "192.0.2.7 5061",
		"[2001:db8::1]:5070":    "2001:db8::1 5070",
		"[2001:db8::1]":         "2001:db8::1 5060",
		":5060":                 "error",
		"carrier:0":             "error",
		"carrier:x":             "error",
	} {
		h, p, err := splitHostPort(in)
		got := fmt.Sprintf("%s %d", h, p)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("splitHostPort(%q) = %s, want %s", in, got, want)
		}
	}
}
