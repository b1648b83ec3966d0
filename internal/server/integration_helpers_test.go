package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/web"
)

// testServer is a switchd running in-process on loopback.
type testServer struct {
	t       *testing.T
	udpAddr string // 127.0.0.1:port
	http    string // http://127.0.0.1:port
	token   string
	logs    *syncBuffer
	cancel  context.CancelFunc
	done    chan error
	stopped bool
	srv     *server.Server
}

// serverOpts adjust the configuration before the server starts.
type serverOpts func(*server.Config)

// newConfig returns a configuration for a test server on a fresh port and data dir.
func newConfig(t *testing.T, opts ...serverOpts) *server.Config {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	port := sipptest.FreePort(t, "127.0.0.1")
	cfg.SIP.Listen = []string{
		fmt.Sprintf("udp://127.0.0.1:%d", port),
		fmt.Sprintf("tcp://127.0.0.1:%d", port),
	}
	cfg.SIP.UDPReceiveBuffer = 0
	cfg.HTTP.Listen = "127.0.0.1:0"
	for _, o := range opts {
		o(&cfg)
	}
	if ps := cfg.Validate(); len(ps) > 0 {
		t.Fatalf("test config invalid: %v", ps)
	}
	return &cfg
}

// startServer starts switchd with cfg; it is stopped at the end of the test.
func startServer(t *testing.T, cfg *server.Config) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	ts := &testServer{t: t, logs: logs, cancel: cancel, done: make(chan error, 1), srv: srv}
	go func() { ts.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		ts.stop()
		if t.Failed() {
			t.Logf("switchd log (%s):\n%s", cfg.SIP.Listen[0], logs.String())
		}
	})

	for _, a := range srv.SIPAddrs() {
		if rest, ok := strings.CutPrefix(a, "udp://"); ok {
			ts.udpAddr = rest
		}
	}
	if ts.udpAddr == "" {
		t.Fatalf("no UDP listener in %v", srv.SIPAddrs())
	}
	ts.http = "http://" + srv.HTTPAddr()
	tok, err := os.ReadFile(cfg.TokenPath())
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	ts.token = strings.TrimSpace(string(tok))
	ts.waitHealthy()
	return ts
}

// stop cancels the server and waits for Run to return (it closes the database).
func (ts *testServer) stop() {
	if ts.stopped {
		return
	}
	ts.stopped = true
	ts.cancel()
	select {
	case err := <-ts.done:
		if err != nil {
			ts.t.Errorf("server.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		ts.t.Errorf("server.Run did not return within 10s of cancel")
	}
}

func (ts *testServer) waitHealthy() {
	ts.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := http.Get(ts.http + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("server not healthy: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// api performs an authenticated API request and decodes a JSON answer into out.
func (ts *testServer) api(method, path string, body any, out any) int {
	ts.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.http+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			ts.t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, data, err)
		}
	}
	return res.StatusCode
}

// addExtension creates an extension through the API.
func (ts *testServer) addExtension(number, password string) {
	ts.t.Helper()
	code := ts.api("POST", "/api/v1/extensions", map[string]string{"number": number, "name": "ext " + number, "password": password}, nil)
	if code != http.StatusCreated {
		ts.t.Fatalf("POST /api/v1/extensions %s: status %d", number, code)
	}
}

// registrations lists the bindings through the API (all AORs when aor is "").
func (ts *testServer) registrations(aor string) []web.Registration {
	ts.t.Helper()
	var out struct {
		Registrations []web.Registration `json:"registrations"`
	}
	path := "/api/v1/registrations"
	if aor != "" {
		path += "?aor=" + aor
	}
	if code := ts.api("GET", path, nil, &out); code != http.StatusOK {
		ts.t.Fatalf("GET %s: status %d", path, code)
	}
	return out.Registrations
}

// bans lists the banned sources through the API.
func (ts *testServer) bans() []web.Ban {
	ts.t.Helper()
	var out struct {
		Bans []web.Ban `json:"bans"`
	}
	if code := ts.api("GET", "/api/v1/bans", nil, &out); code != http.StatusOK {
		ts.t.Fatalf("GET /api/v1/bans: status %d", code)
	}
	return out.Bans
}

// waitRegistrations polls the API until cond holds for the bindings of aor.
func (ts *testServer) waitRegistrations(aor string, within time.Duration, what string, cond func([]web.Registration) bool) []web.Registration {
	ts.t.Helper()
	deadline := time.Now().Add(within)
	for {
		regs := ts.registrations(aor)
		if cond(regs) {
			return regs
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("after %s: %s: registrations of %q are %s", within, what, aor, dumpRegs(regs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dumpRegs(regs []web.Registration) string {
	b, _ := json.MarshalIndent(regs, "", "  ")
	return string(b)
}

// scenario returns the path of a scenario in testdata/sipp.
func scenario(name string) string { return filepath.Join("testdata", "sipp", name) }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Extensions used by the tests.
const (
	ext1001, pw1001 = "1001", "secret-1001"
	ext1002, pw1002 = "1002", "secret-1002"
	sippUA          = "sipp-switchd-test" // User-Agent of the scenarios
)

// sippRegister returns options for register.xml (or another scenario with
// the same keywords) as user with password, registering aor for expires seconds.
func (ts *testServer) sippRegister(scen, user, password, aor, expires string) sipptest.Options {
	return sipptest.Options{
		Scenario: scenario(scen),
		Remote:   ts.udpAddr,
		Users:    []sipptest.User{{Name: user, Password: password}},
		Keys:     map[string]string{"aor": aor, "expires": expires},
	}
}

// requireSuccess fails the test unless every call of the run succeeded.
func requireSuccess(t *testing.T, r *sipptest.Result, calls int) {
	t.Helper()
	if r.ExitCode != sipptest.ExitAllSucceeded || r.Successful() != calls || r.Failed() != 0 {
		t.Fatalf("want %d successful call(s) and exit code 0:\n%s", calls, r.Summary())
	}
}

// requireCodes fails the test unless sipp received exactly these responses, in order.
func requireCodes(t *testing.T, r *sipptest.Result, want ...int) {
	t.Helper()
	got := r.ReceivedCodes()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sipp received responses %v, want %v:\n%s", got, want, r.Summary())
	}
}

// lastResponse returns the last response with the given code that sipp received.
func lastResponse(t *testing.T, r *sipptest.Result, code int) sipptest.Message {
	t.Helper()
	rec := r.Received()
	for i := len(rec) - 1; i >= 0; i-- {
		if rec[i].StatusCode() == code {
			return rec[i]
		}
	}
	t.Fatalf("sipp received no %d:\n%s", code, r.Summary())
	return sipptest.Message{}
}

// sippContact is the contact URI register.xml sends from ip:port over UDP.
func sippContact(user, ip string, port int, transport string) string {
	return fmt.Sprintf("sip:%s@%s:%d;transport=%s", user, ip, port, transport)
}

// contactsOf returns the contact URIs of a binding list.
func contactsOf(regs []web.Registration) []string {
	out := make([]string, len(regs))
	for i, r := range regs {
		out[i] = r.Contact
	}
	return out
}

// headerContacts returns the URIs in the Contact headers of a message (without parameters).
func headerContacts(m sipptest.Message) map[string]string {
	out := map[string]string{}
	for _, h := range m.Headers("Contact") {
		for _, v := range splitParams(h) {
			v = strings.TrimSpace(v)
			start, end := strings.Index(v, "<"), strings.Index(v, ">")
			if start < 0 || end < start {
				continue
			}
			out[v[start+1:end]] = v[end+1:]
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
