package server_test

// Helpers of the call tests with real peers (sipp, baresip) on loopback:
// integration_sippcall_*_test.go. Names start with "sc" so that they do not
// collide with the other integration tests of the package.

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
)

// Extensions of the call tests: 1001 calls, 1002 answers (a sipp UAS),
// 1003 exists but never registers.
const (
	scCaller, scCallerPW = "1001", "pw-1001-call"
	scCallee, scCalleePW = "1002", "pw-1002-call"
	scAbsent, scAbsentPW = "1003", "pw-1003-call"
)

// scFile is the path of a file in testdata/sippcall.
func scFile(name string) string { return filepath.Join("testdata", "sippcall", name) }

var (
	scWindowStart = uint32(rand.IntN(40))
	scWindows     atomic.Uint32
)

// scConfig is a test configuration for calls: no qualify OPTIONS (they
// would reach a sipp UAS as unexpected messages), a short drain, and an RTP
// port range of its own, away from the default range and from the kernel's
// ephemeral ports (where sipp and the test's sockets live), so that an SDP
// port in it can only be one of switchd's.
func scConfig(t *testing.T, opts ...serverOpts) *server.Config {
	t.Helper()
	// One of 40 windows of 200 ports in 20000–27999, a different one for
	// each server of this process (the tests run in parallel).
	base := 20000 + 200*int((scWindowStart+scWindows.Add(1))%40)
	return newConfig(t, append([]serverOpts{func(c *server.Config) {
		c.SIP.QualifyInterval = 0
		c.SIP.DrainTimeout = config.Duration(time.Second) // a failed test leaves a call up: do not wait 30 s at stop
		c.Media.RTPPorts = config.PortRange{Min: base, Max: base + 199}
	}}, opts...)...)
}

// scStart starts switchd with cfg and creates the three extensions.
func scStart(t *testing.T, cfg *server.Config) *testServer {
	t.Helper()
	ts := startServer(t, cfg)
	ts.addExtension(scCaller, scCallerPW)
	ts.addExtension(scCallee, scCalleePW)
	ts.addExtension(scAbsent, scAbsentPW)
	return ts
}

// scUAS is a sipp UAS registered as an extension and waiting for calls.
type scUAS struct {
	proc      *sipptest.Process
	port      int // SIP port (registered contact)
	mediaPort int // -mp: the port of its SDP
}

// scStartUAS registers ext from a fresh port with register.xml, then starts
// the scenario at path scen as a UAS on the same port, for one call,
// with its media on a fresh -mp port (args are added, e.g. -rtp_echo). It
// returns once the UAS is listening.
func (ts *testServer) scStartUAS(t *testing.T, scen, ext, pw string, args ...string) *scUAS {
	t.Helper()
	port := sipptest.FreePort(t, "127.0.0.1")
	reg := ts.sippRegister("register.xml", ext, pw, ext, "3600")
	reg.LocalPort = port
	requireSuccess(t, sipptest.Run(t, reg), 1)
	if regs := ts.registrations(ext); len(regs) != 1 {
		t.Fatalf("%s did not register: %s", ext, dumpRegs(regs))
	}
	mp := sipptest.FreeMediaPort(t, "127.0.0.1")
	p := sipptest.Start(t, sipptest.Options{
		Scenario:  scen,
		Remote:    ts.udpAddr,
		LocalPort: port,
		Calls:     1,
		Timeout:   30 * time.Second,
		Args:      append([]string{"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp)}, args...),
	})
	p.WaitListening("127.0.0.1", port, 5*time.Second)
	p.WaitListening("127.0.0.1", mp, 5*time.Second)
	return &scUAS{proc: p, port: port, mediaPort: mp}
}

// scCallerOpts are sipp options for a call from 1001 (password pw) to callee.
func (ts *testServer) scCallerOpts(scenarioPath, pw, callee string, args ...string) sipptest.Options {
	return sipptest.Options{
		Scenario: scenarioPath,
		Remote:   ts.udpAddr,
		Users:    []sipptest.User{{Name: scCaller, Password: pw}},
		Calls:    1,
		Timeout:  20 * time.Second,
		Args:     append([]string{"-s", callee}, args...),
	}
}

// scCallEnded waits for n call_ended lines in switchd's log and returns
// their key=value fields.
func (ts *testServer) scCallEnded(t *testing.T, n int, within time.Duration) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var out []map[string]string
		for _, line := range strings.Split(ts.logs.String(), "\n") {
			if kv := scLogFields(line); kv["msg"] == "call_ended" {
				out = append(out, kv)
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s switchd logged %d call_ended line(s), want %d", within, len(out), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scLogFields splits one slog text line into its key=value pairs.
func scLogFields(line string) map[string]string {
	kv := map[string]string{}
	for line != "" {
		line = strings.TrimLeft(line, " ")
		k, rest, ok := strings.Cut(line, "=")
		if !ok || strings.Contains(k, " ") {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && (rest[end] != '"' || rest[end-1] == '\\') {
				end++
			}
			if end >= len(rest) {
				end = len(rest) - 1
			}
			q := rest[:end+1]
			if u, err := strconv.Unquote(q); err == nil {
				v = u
			} else {
				v = q
			}
			rest = rest[end+1:]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		kv[k] = v
		line = rest
	}
	return kv
}

// scInt is a numeric field of a log line, -1 when missing.
func scInt(kv map[string]string, k string) int {
	n, err := strconv.Atoi(kv[k])
	if err != nil {
		return -1
	}
	return n
}

// scSDP is what the tests check in an SDP body.
type scSDP struct {
	Origin    []string // o= fields: username, sess-id, sess-version, nettype, addrtype, address
	Conn      netip.Addr
	Port      int
	Formats   []string
	Direction string // sendrecv when no attribute says otherwise
	Text      string
}

// scParseSDP parses the body of a message from a sipp message log.
func scParseSDP(t *testing.T, m sipptest.Message) scSDP {
	t.Helper()
	_, body, _ := strings.Cut(m.Text, "\n\n")
	s := scSDP{Direction: "sendrecv", Text: body}
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "o="):
			s.Origin = strings.Fields(l[2:])
		case strings.HasPrefix(l, "c="):
			f := strings.Fields(l[2:])
			if len(f) == 3 {
				s.Conn, _ = netip.ParseAddr(f[2])
			}
		case strings.HasPrefix(l, "m=audio "):
			f := strings.Fields(l[2:])
			if len(f) >= 3 {
				s.Port, _ = strconv.Atoi(f[1])
				s.Formats = f[3:]
			}
		case l == "a=sendonly" || l == "a=recvonly" || l == "a=inactive" || l == "a=sendrecv":
			s.Direction = l[2:]
		}
	}
	if len(s.Origin) != 6 || !s.Conn.IsValid() || s.Port == 0 {
		t.Fatalf("unusable SDP in %q:\n%s", m.StartLine(), m.Text)
	}
	return s
}

// scVersion is the sess-version of the o= line.
func (s scSDP) scVersion(t *testing.T) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s.Origin[2], 10, 64)
	if err != nil {
		t.Fatalf("o= version %q: %v", s.Origin[2], err)
	}
	return v
}

// scRequireSwitchdMedia fails unless s points at switchd's media: loopback
// and an even port of the configured RTP range.
func scRequireSwitchdMedia(t *testing.T, cfg *server.Config, what string, s scSDP) {
	t.Helper()
	r := cfg.Media.RTPPorts
	if s.Conn != netip.MustParseAddr("127.0.0.1") || s.Port < r.Min || s.Port > r.Max || s.Port%2 != 0 {
		t.Fatalf("%s: SDP media is %s:%d, want 127.0.0.1 and an even port of media.rtp_ports %d-%d:\n%s",
			what, s.Conn, s.Port, r.Min, r.Max, s.Text)
	}
}

// scRequests returns the requests with the given method in a message list.
func scRequests(ms []sipptest.Message, method string) []sipptest.Message {
	var out []sipptest.Message
	for _, m := range ms {
		if m.IsRequest(method) {
			out = append(out, m)
		}
	}
	return out
}

// scResponses returns the responses with the given code whose CSeq method is method.
func scResponses(ms []sipptest.Message, code int, method string) []sipptest.Message {
	var out []sipptest.Message
	for _, m := range ms {
		if m.StatusCode() == code && strings.HasSuffix(m.Header("CSeq"), " "+method) {
			out = append(out, m)
		}
	}
	return out
}

// scFinalCodes are the status codes sipp received, without 100 Trying.
func scFinalCodes(r *sipptest.Result) []int {
	var out []int
	for _, c := range r.ReceivedCodes() {
		if c != 100 {
			out = append(out, c)
		}
	}
	return out
}

// scRequireCodes fails unless sipp received exactly these responses (100s left out), in order.
func scRequireCodes(t *testing.T, r *sipptest.Result, want ...int) {
	t.Helper()
	if got := scFinalCodes(r); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sipp received %v (100 Trying left out), want %v:\n%s", got, want, r.Summary())
	}
}

// scUnique returns the distinct messages of a list (sipp logs every
// retransmission, received ones included), by start line and CSeq.
func scUnique(ms []sipptest.Message) []sipptest.Message {
	seen := map[string]bool{}
	var out []sipptest.Message
	for _, m := range ms {
		k := m.StartLine() + "|" + m.Header("CSeq") + "|" + m.Header("Via")
		if !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	return out
}
