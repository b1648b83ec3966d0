package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchd/switchd/internal/golden"
)

// fakeMonitors is a hand-written Monitors for the HTTP layer: it answers
// from fixed sessions and audit lines (filtered and limited as the store
// does), records what it was asked (with who asked), and wraps ErrNotFound for a call without a supervisor and
// ErrInvalid for an unknown mode, as the switch does.
type fakeMonitors struct {
	mu       sync.Mutex
	sessions []MonitorSession
	audit    []MonitorAuditEntry
	failWith error // when set, every method fails with it

	gotSince  time.Time
	gotCallID string
	gotLimit  int
	changes   []string // "mode call mode by", "stop call by"
}

var _ Monitors = (*fakeMonitors)(nil)

func newFakeMonitors() *fakeMonitors {
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	return &fakeMonitors{
		sessions: []MonitorSession{
			{CallID: "c1", Supervisor: "sue", SupervisorExt: "1900", AgentExt: "1001", Customer: "+442071234567",
				Mode: MonitorListen, Started: t0},
			{CallID: "c2", Supervisor: "root", SupervisorExt: "1901", AgentExt: "1002", Customer: "+33142685300",
				Mode: MonitorBarge, Started: t0.Add(90 * time.Second)},
		},
		audit: []MonitorAuditEntry{
			{At: t0, Supervisor: "sue", SupervisorExt: "1900", CallID: "c1", AgentExt: "1001", Action: "start", Mode: MonitorListen},
			{At: t0.Add(20 * time.Second), Supervisor: "sue", SupervisorExt: "1900", CallID: "c1", AgentExt: "1001",
				Action: "mode", Mode: MonitorWhisper},
			{At: t0.Add(30 * time.Second), SupervisorExt: "1003", AgentExt: "1001", Action: "refused",
				Detail: "extension 1003 is not a supervisor's phone"},
			{At: t0.Add(45 * time.Second), Supervisor: "root", SupervisorExt: "1900", CallID: "c1", AgentExt: "1001",
				Action: "stop", Detail: "stopped by root"},
		},
	}
}

// session wraps ErrNotFound for a call without a supervisor on it.
func (f *fakeMonitors) session(callID string) error {
	for _, s := range f.sessions {
		if s.CallID == callID {
			return nil
		}
	}
	return fmt.Errorf("%w: no supervisor on call %s", ErrNotFound, callID)
}

func (f *fakeMonitors) ListMonitors(context.Context) ([]MonitorSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return nil, f.failWith
	}
	return f.sessions, nil
}

func (f *fakeMonitors) SetMonitorMode(_ context.Context, callID, mode, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if err := f.session(callID); err != nil {
		return err
	}
	if mode != MonitorListen && mode != MonitorWhisper && mode != MonitorBarge {
		return fmt.Errorf("%w: mode %q", ErrInvalid, mode)
	}
	f.changes = append(f.changes, fmt.Sprintf("mode %s %s %s", callID, mode, by))
	return nil
}

func (f *fakeMonitors) StopMonitor(_ context.Context, callID, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if err := f.session(callID); err != nil {
		return err
	}
	f.changes = append(f.changes, fmt.Sprintf("stop %s %s", callID, by))
	return nil
}

func (f *fakeMonitors) MonitorAudit(_ context.Context, since time.Time, callID string, limit int) ([]MonitorAuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotSince, f.gotCallID, f.gotLimit = since, callID, limit
	if f.failWith != nil {
		return nil, f.failWith
	}
	var out []MonitorAuditEntry
	for _, e := range f.audit {
		if !e.At.Before(since) && (callID == "" || e.CallID == callID) {
			out = append(out, e)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:] // the most recent, as the store keeps them
	}
	return out, nil
}

func (f *fakeMonitors) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changes
	f.changes = nil
	return out
}

func monitorHandler(f *fakeMonitors) http.Handler {
	d := Deps{Tokens: acdTokens, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)}
	if f != nil {
		d.Monitors = f
	}
	return NewHandler(Config{}, d)
}

func newMonitorServer(t *testing.T, f *fakeMonitors) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(monitorHandler(f))
	t.Cleanup(srv.Close)
	return srv
}

var monitorEndpoints = []struct{ method, path, body string }{
	{"GET", "/api/v1/monitors", ""},
	{"GET", "/api/v1/monitors/audit", ""},
	{"POST", "/api/v1/monitors/c1/mode", `{"mode":"whisper"}`},
	{"POST", "/api/v1/monitors/c1/stop", ""},
}

func TestMonitorsUnavailable(t *testing.T) {
	srv := newMonitorServer(t, nil)
	for _, c := range monitorEndpoints {
		code, body := call(t, srv, c.method, c.path, "adm", c.body)
		if code != http.StatusServiceUnavailable || body["error"] == "" {
			t.Errorf("%s %s without monitors: %d %v", c.method, c.path, code, body)
		}
		if code, _ := call(t, srv, c.method, c.path, "", c.body); code != http.StatusUnauthorized {
			t.Errorf("%s %s without token: %d", c.method, c.path, code)
		}
	}
}

// TestMonitorsRoles: only supervisors (and admins) use supervisor modes,
// and the switch is told which API user did.
func TestMonitorsRoles(t *testing.T) {
	f := newFakeMonitors()
	srv := newMonitorServer(t, f)
	for _, c := range monitorEndpoints {
		code, body := call(t, srv, c.method, c.path, "alice", c.body)
		if code != http.StatusForbidden || body["error"] == "" {
			t.Errorf("%s %s as an agent: %d %v", c.method, c.path, code, body)
		}
		want := http.StatusNoContent
		if c.method == "GET" {
			want = http.StatusOK
		}
		for _, tok := range []string{"sup", "adm"} {
			if code, body := call(t, srv, c.method, c.path, tok, c.body); code != want {
				t.Errorf("%s %s as %s: %d %v, want %d", c.method, c.path, tok, code, body, want)
			}
		}
	}
	want := []string{"mode c1 whisper sue", "mode c1 whisper root", "stop c1 sue", "stop c1 root"}
	if got := f.took(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("monitors were asked %q, want %q", got, want)
	}
}

func TestMonitorsList(t *testing.T) {
	srv := newMonitorServer(t, newFakeMonitors())
	code, body := call(t, srv, "GET", "/api/v1/monitors", "sup", "")
	if list, _ := body["monitors"].([]any); code != 200 || len(list) != 2 {
		t.Fatalf("list: %d %v", code, body)
	}

	// No sessions and no audit lines are empty lists, not null.
	srv = newMonitorServer(t, &fakeMonitors{})
	for _, c := range []struct{ path, key string }{{"/api/v1/monitors", "monitors"}, {"/api/v1/monitors/audit", "audit"}} {
		code, body := call(t, srv, "GET", c.path, "sup", "")
		if list, ok := body[c.key].([]any); code != 200 || !ok || len(list) != 0 {
			t.Errorf("GET %s with nothing: %d %v, want an empty %s list", c.path, code, body, c.key)
		}
	}
}

func TestMonitorsChangesAndErrors(t *testing.T) {
	f := newFakeMonitors()
	srv := newMonitorServer(t, f)
	const p = "/api/v1/monitors/"
	cases := []struct {
		path, body string
		want       int
	}{
		{p + "c1/mode", `{"mode":"listen"}`, 204},
		{p + "c1/mode", `{"mode":"whisper"}`, 204},
		{p + "c2/mode", `{"mode":"barge"}`, 204},
		{p + "c1/mode", `{"mode":"Barge"}`, 400},
		{p + "c1/mode", `{"mode":"spy"}`, 400},
		{p + "c1/mode", `{"mode":""}`, 400},
		{p + "c1/mode", `{}`, 400},
		{p + "c1/mode", `{"mode":null}`, 400},
		{p + "c1/mode", `{"mode":1}`, 400},
		{p + "c1/mode", `{"mode":"listen","by":"someone else"}`, 400},
		{p + "c1/mode", `{"mode":"listen"} {}`, 400},
		{p + "c1/mode", `["listen"]`, 400},
		{p + "c1/mode", `not json`, 400},
		{p + "c1/mode", ``, 400},
		{p + "c9/mode", `{"mode":"listen"}`, 404},
		{p + "c1/stop", ``, 204},
		{p + "c9/stop", ``, 404},
		{p + "c1/pause", ``, 404},
	}
	for _, c := range cases {
		code, body := call(t, srv, "POST", c.path, "sup", c.body)
		if code != c.want {
			t.Errorf("POST %s %s: %d %v, want %d", c.path, c.body, code, body, c.want)
		}
		if code >= 400 && body["error"] == "" {
			t.Errorf("POST %s %s: error body %v", c.path, c.body, body)
		}
	}
	want := []string{"mode c1 listen sue", "mode c1 whisper sue", "mode c2 barge sue", "stop c1 sue"}
	if got := f.took(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("monitors were asked %q, want %q", got, want)
	}
	// Another method is an unknown endpoint (the /api/ catch-all).
	if code, body := call(t, srv, "GET", p+"c1/stop", "sup", ""); code != http.StatusNotFound || body["error"] == "" {
		t.Errorf("GET of stop: %d %v, want 404", code, body)
	}

	// A failure of the switch itself is a 500 without its details.
	f.failWith = errors.New("mixer exploded at 0xdeadbeef")
	for _, c := range monitorEndpoints {
		code, body := call(t, srv, c.method, c.path, "sup", c.body)
		if code != 500 || strings.Contains(fmt.Sprint(body["error"]), "deadbeef") {
			t.Errorf("%s %s with failing monitors: %d %v", c.method, c.path, code, body)
		}
	}
	f.failWith = fmt.Errorf("%w: the call is ending", ErrConflict)
	if code, _ := call(t, srv, "POST", p+"c1/stop", "sup", ""); code != 409 {
		t.Errorf("stop with a conflict: %d", code)
	}
}

func TestMonitorAuditQuery(t *testing.T) {
	f := newFakeMonitors()
	srv := newMonitorServer(t, f)

	before := time.Now()
	code, body := call(t, srv, "GET", "/api/v1/monitors/audit", "sup", "")
	after := time.Now()
	if list, ok := body["audit"].([]any); code != 200 || !ok || len(list) != 0 { // the fixed lines are older than a day
		t.Fatalf("audit: %d %v", code, body)
	}
	if s := f.gotSince; s.Before(before.Add(-DefaultMonitorAuditWindow)) || s.After(after.Add(-DefaultMonitorAuditWindow)) ||
		f.gotCallID != "" || f.gotLimit != DefaultMonitorAuditLimit {
		t.Errorf("default query: since %v (want 24h before %v), call %q, limit %d", s, before, f.gotCallID, f.gotLimit)
	}

	code, body = call(t, srv, "GET", "/api/v1/monitors/audit?since=2025-06-01T00:00:00Z&call_id=c1&limit=50", "sup", "")
	if list, _ := body["audit"].([]any); code != 200 || len(list) != 3 || !f.gotSince.Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) ||
		f.gotCallID != "c1" || f.gotLimit != 50 {
		t.Fatalf("audit query: %d %v, since %v, call %q, limit %d", code, body, f.gotSince, f.gotCallID, f.gotLimit)
	}
	if code, _ := call(t, srv, "GET", "/api/v1/monitors/audit?since=1h", "sup", ""); code != 200 {
		t.Fatalf("since 1h: %d", code)
	}
	if ago := time.Since(f.gotSince); ago < time.Hour-time.Minute || ago > time.Hour+time.Minute {
		t.Errorf("since=1h gave %v", f.gotSince)
	}
	if code, _ := call(t, srv, "GET", fmt.Sprintf("/api/v1/monitors/audit?limit=%d", MaxMonitorAuditLimit), "sup", ""); code != 200 ||
		f.gotLimit != MaxMonitorAuditLimit {
		t.Errorf("limit %d: %d, asked %d", MaxMonitorAuditLimit, code, f.gotLimit)
	}
	f.gotLimit = 0
	for _, bad := range []string{"limit=0", "limit=-1", "limit=x", fmt.Sprintf("limit=%d", MaxMonitorAuditLimit+1),
		"since=soon", "since=-1h", "until=1h"} {
		if code, body := call(t, srv, "GET", "/api/v1/monitors/audit?"+bad, "sup", ""); code != 400 || body["error"] == "" {
			t.Errorf("audit ?%s: %d %v", bad, code, body)
		}
	}
	if f.gotLimit != 0 {
		t.Errorf("a refused query reached the switch (limit %d)", f.gotLimit)
	}
}

// TestMonitorsGolden pins the JSON the CLI and dashboards read: each file
// in testdata/monitors is a request (-- want -- the status and body).
func TestMonitorsGolden(t *testing.T) {
	h := monitorHandler(newFakeMonitors())
	for _, c := range golden.Cases(t, "testdata/monitors/*.txt", "request") {
		t.Run(c.Name, func(t *testing.T) {
			c.Check(t, serveGolden(h, c.Input), *update)
		})
	}
}

// FuzzMonitorModeBody sends arbitrary bodies to the mode endpoint: the
// answer is always 204 (and the switch was asked exactly once, with the
// mode of a valid body and the caller's name) or a 4xx with a JSON error
// and no change, never a panic or a 5xx.
func FuzzMonitorModeBody(f *testing.F) {
	for _, in := range golden.Inputs(f, "testdata/monitors/*.txt") {
		if _, body, ok := strings.Cut(in, "\n"); ok && strings.HasPrefix(in, "POST") {
			f.Add(body)
		}
	}
	for _, s := range []string{
		`{"mode":"listen"}`, `{"mode":"whisper"}`, `{"mode": "barge" }`, `{}`, `{"mode":null}`, `{"mode":"LISTEN"}`,
		`{"mode":0}`, `{"mode":"listen","mode":"spy"}`, `{"mode":"barge","x":1}`, `{"Mode":"barge"}`, `[]`, `null`,
		`{"mode":"listen"}x`, `{"mode":"listen"} {"mode":"barge"}`, "", "\xff", `{"mode":"lis`, `{"mode":"listen\u0000"}`,
	} {
		f.Add(s)
	}
	fake := newFakeMonitors()
	h := monitorHandler(fake)
	const path = "/api/v1/monitors/c1/mode"
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sup")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		took := fake.took()
		switch {
		case rec.Code == http.StatusNoContent:
			dec := json.NewDecoder(strings.NewReader(body))
			dec.DisallowUnknownFields()
			var b MonitorModeBody
			if err := dec.Decode(&b); err != nil || b.validate() != nil {
				t.Fatalf("POST %s %q: accepted an invalid body (%v)", path, body, err)
			}
			if want := fmt.Sprintf("mode c1 %s sue", b.Mode); len(took) != 1 || took[0] != want {
				t.Fatalf("POST %s %q: 204 after asking %q, want %q", path, body, took, want)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var e errorBody
			if err := json.NewDecoder(io.LimitReader(rec.Body, 1<<20)).Decode(&e); err != nil || e.Error == "" {
				t.Fatalf("POST %s %q: %d without a JSON error: %q", path, body, rec.Code, rec.Body.String())
			}
			if len(took) != 0 {
				t.Fatalf("POST %s %q: %d after a change %q", path, body, rec.Code, took)
			}
		default:
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
		}
	})
}
