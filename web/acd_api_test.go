package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
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

	"github.com/switchd/switchd/acd"
	callpkg "github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/golden"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakeACD is a hand-written ACD for the HTTP layer: it answers from fixed
// data, records what it was asked, and fails as the server's engine does
// (unknown agents and contacts ErrNotFound, a logged-out agent going
// not_ready ErrConflict, a priority out of range ErrInvalid).
type fakeACD struct {
	mu       sync.Mutex
	status   acd.Status
	stats    []acd.QueueStats
	events   []callpkg.Event
	failWith error // when set, every method fails with it

	gotSince time.Time
	gotQuery QueueEventQuery
	changes  []string // "agent state reason", "move id queue", "priority id n", "sync agent"
}

var _ ACD = (*fakeACD)(nil)

func newFakeACD() *fakeACD {
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	return &fakeACD{
		status: acd.Status{
			Queues: []acd.QueueStatus{
				{Name: "sales", Waiting: 2, LongestWait: 95500 * time.Millisecond, Members: 3, Present: 2, Ready: 1,
					EstimatedWait: 40 * time.Second, Known: true},
				{Name: "support", Members: 1, Retired: true},
			},
			Agents: []acd.AgentStatus{
				{ID: "alice", State: acd.AgentBusy, Load: map[callpkg.Medium]int{callpkg.MediumVoice: 1, callpkg.MediumChat: 2},
					IdleSince: t0},
				{ID: "bob", State: acd.AgentNotReady, Reason: acd.ReasonLunch, Load: map[callpkg.Medium]int{}, Misses: 2},
				{ID: "carol", State: acd.AgentWrapUp, Load: map[callpkg.Medium]int{}, IdleSince: t0,
					WrapUpUntil: t0.Add(30 * time.Second)},
				{ID: "dave", State: acd.AgentLoggedOut, Load: map[callpkg.Medium]int{}},
			},
		},
		stats: []acd.QueueStats{
			{Queue: "sales", Joined: 10, Answered: 7, AnsweredInSL: 6, Abandoned: 2, ShortAbandoned: 1, Overflowed: 1,
				Completed: 6, ServiceLevel: 0.75, SLKnown: true, ASA: 12345 * time.Millisecond, AHT: 200 * time.Second,
				AvgTalk: 170 * time.Second, AvgHold: 10 * time.Second, AvgWrap: 30 * time.Second, AbandonRate: 0.125,
				Waiting: 1, LongestWaiting: 20 * time.Second, LongestAnswered: 61 * time.Second},
			{Queue: "support", Joined: 1, Cancelled: 1},
		},
		events: []callpkg.Event{
			{Seq: 1, Time: t0, Type: acd.EventQueueJoined, CallID: "c1", Caller: callpkg.Party{Number: "+442071234567", Name: "Bob"},
				Data: map[string]string{acd.DataQueue: "sales", acd.DataPosition: "1", acd.DataReason: "priority 5 from the IVR"}},
			{Seq: 2, Time: t0.Add(2 * time.Second), Type: acd.EventQueueOffered, CallID: "c1",
				Data: map[string]string{acd.DataQueue: "sales", acd.DataAgent: "alice", acd.DataReason: "longest idle of 2 eligible"}},
			{Seq: 3, Time: t0.Add(9 * time.Second), Type: acd.EventQueueLost, CallID: "c1", Cause: callpkg.CauseSwitchRestart,
				Data: map[string]string{acd.DataQueue: "sales"}},
		},
	}
}

func (f *fakeACD) agent(id string) bool {
	for _, a := range f.status.Agents {
		if string(a.ID) == id {
			return true
		}
	}
	return false
}

func (f *fakeACD) Status(context.Context) (acd.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.failWith
}

func (f *fakeACD) Stats(_ context.Context, since time.Time) ([]acd.QueueStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotSince = since
	return f.stats, f.failWith
}

func (f *fakeACD) SetAgentState(_ context.Context, agent string, state AgentStateChange, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if !f.agent(agent) {
		return fmt.Errorf("%w: agent %s", ErrNotFound, agent)
	}
	if agent == "dave" && state == AgentNotReady {
		return fmt.Errorf("%w: agent dave is logged out", ErrConflict)
	}
	f.changes = append(f.changes, strings.TrimSpace(fmt.Sprintf("%s %s %s", agent, state, reason)))
	return nil
}

func (f *fakeACD) MoveContact(_ context.Context, id callpkg.ID, queue string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if id == "gone" {
		return fmt.Errorf("%w: contact %s", ErrNotFound, id)
	}
	if queue == "nowhere" {
		return fmt.Errorf("%w: queue %s", ErrNotFound, queue)
	}
	f.changes = append(f.changes, fmt.Sprintf("move %s %s", id, queue))
	return nil
}

func (f *fakeACD) SetContactPriority(_ context.Context, id callpkg.ID, priority int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if id == "gone" {
		return fmt.Errorf("%w: contact %s", ErrNotFound, id)
	}
	if priority < -1000 || priority > 1000 {
		return fmt.Errorf("%w: priority %d", ErrInvalid, priority)
	}
	f.changes = append(f.changes, fmt.Sprintf("priority %s %d", id, priority))
	return nil
}

func (f *fakeACD) SyncAgent(_ context.Context, agent string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	f.changes = append(f.changes, "sync "+agent)
	return nil
}

func (f *fakeACD) Events(_ context.Context, q QueueEventQuery) ([]callpkg.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotQuery = q
	return f.events, f.failWith
}

func (f *fakeACD) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changes
	f.changes = nil
	return out
}

var acdTokens = fakeTokens{
	"adm": {Name: "root", Role: RoleAdmin}, "sup": {Name: "sue", Role: RoleSupervisor},
	"alice": {Name: "alice", Role: RoleAgent}, "bob": {Name: "bob", Role: RoleAgent},
}

func acdHandler(f *fakeACD) http.Handler {
	d := Deps{Tokens: acdTokens, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)}
	if f != nil {
		d.ACD = f
	}
	return NewHandler(Config{}, d)
}

func newACDServer(t *testing.T, f *fakeACD) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(acdHandler(f))
	t.Cleanup(srv.Close)
	return srv
}

func TestACDUnavailable(t *testing.T) {
	srv := newACDServer(t, nil)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/queues", ""}, {"GET", "/api/v1/queues/stats", ""}, {"GET", "/api/v1/queues/events", ""},
		{"GET", "/api/v1/agents", ""}, {"GET", "/api/v1/agents/alice", ""},
		{"POST", "/api/v1/agents/alice/state", `{"state":"available"}`}, {"POST", "/api/v1/agents/alice/sync", ""},
		{"POST", "/api/v1/queues/contacts/c1/move", `{"queue":"sales"}`},
		{"POST", "/api/v1/queues/contacts/c1/priority", `{"priority":5}`},
	} {
		code, body := call(t, srv, c.method, c.path, "adm", c.body)
		if code != http.StatusServiceUnavailable || body["error"] == "" {
			t.Errorf("%s %s without ACD: %d %v", c.method, c.path, code, body)
		}
		if code, _ := call(t, srv, c.method, c.path, "", c.body); code != http.StatusUnauthorized {
			t.Errorf("%s %s without token: %d", c.method, c.path, code)
		}
	}
}

func TestACDRoles(t *testing.T) {
	f := newFakeACD()
	srv := newACDServer(t, f)
	cases := []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/api/v1/queues", "alice", "", 403},
		{"GET", "/api/v1/queues", "sup", "", 200},
		{"GET", "/api/v1/queues/stats", "alice", "", 403},
		{"GET", "/api/v1/queues/events", "alice", "", 403},
		{"GET", "/api/v1/agents", "alice", "", 403},
		{"GET", "/api/v1/agents", "sup", "", 200},
		{"GET", "/api/v1/agents/alice", "alice", "", 200},
		{"GET", "/api/v1/agents/bob", "alice", "", 403},
		{"GET", "/api/v1/agents/bob", "sup", "", 200},
		{"GET", "/api/v1/agents/zed", "sup", "", 404},
		{"POST", "/api/v1/agents/alice/state", "alice", `{"state":"not_ready","reason":"break"}`, 204},
		{"POST", "/api/v1/agents/bob/state", "alice", `{"state":"available"}`, 403},
		{"POST", "/api/v1/agents/bob/state", "sup", `{"state":"available"}`, 204},
		{"POST", "/api/v1/agents/alice/sync", "alice", "", 403},
		{"POST", "/api/v1/agents/alice/sync", "sup", "", 403},
		{"POST", "/api/v1/agents/alice/sync", "adm", "", 204},
		{"POST", "/api/v1/queues/contacts/c1/move", "alice", `{"queue":"support"}`, 403},
		{"POST", "/api/v1/queues/contacts/c1/move", "sup", `{"queue":"support"}`, 204},
		{"POST", "/api/v1/queues/contacts/c1/priority", "alice", `{"priority":9}`, 403},
		{"POST", "/api/v1/queues/contacts/c1/priority", "sup", `{"priority":9}`, 204},
	}
	for _, c := range cases {
		code, body := call(t, srv, c.method, c.path, c.token, c.body)
		if code != c.want {
			t.Errorf("%s %s as %s: %d %v, want %d", c.method, c.path, c.token, code, body, c.want)
		}
		if code >= 400 && body["error"] == "" {
			t.Errorf("%s %s as %s: error body %v", c.method, c.path, c.token, body)
		}
	}
	want := []string{"alice not_ready break", "bob available", "sync alice", "move c1 support", "priority c1 9"}
	if got := f.took(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ACD was asked %q, want %q", got, want)
	}
}

func TestACDChangesAndErrors(t *testing.T) {
	f := newFakeACD()
	srv := newACDServer(t, f)
	cases := []struct {
		path, body string
		want       int
	}{
		{"/api/v1/agents/bob/state", `{"state":"available"}`, 204},
		{"/api/v1/agents/bob/state", `{"state":"logged_out"}`, 204},
		{"/api/v1/agents/bob/state", `{"state":"not_ready","reason":"training"}`, 204},
		{"/api/v1/agents/bob/state", `{"state":"not_ready"}`, 400},
		{"/api/v1/agents/bob/state", `{"state":"not_ready","reason":"Coffee Break!"}`, 400},
		{"/api/v1/agents/bob/state", `{"state":"asleep"}`, 400},
		{"/api/v1/agents/bob/state", `{"state":"not-ready","reason":"break"}`, 400},
		{"/api/v1/agents/bob/state", `{}`, 400},
		{"/api/v1/agents/bob/state", `{"state":"available","mood":"happy"}`, 400},
		{"/api/v1/agents/bob/state", `{"state":"available"} {}`, 400},
		{"/api/v1/agents/bob/state", `not json`, 400},
		{"/api/v1/agents/bob/state", ``, 400},
		{"/api/v1/agents/zed/state", `{"state":"available"}`, 404},
		{"/api/v1/agents/dave/state", `{"state":"not_ready","reason":"break"}`, 409},
		{"/api/v1/queues/contacts/c2/move", `{"queue":"sales"}`, 204},
		{"/api/v1/queues/contacts/c2/move", `{"queue":""}`, 400},
		{"/api/v1/queues/contacts/c2/move", `{"queue":7}`, 400},
		{"/api/v1/queues/contacts/gone/move", `{"queue":"sales"}`, 404},
		{"/api/v1/queues/contacts/c2/move", `{"queue":"nowhere"}`, 404},
		{"/api/v1/queues/contacts/c2/priority", `{"priority":-3}`, 204},
		{"/api/v1/queues/contacts/c2/priority", `{}`, 400},
		{"/api/v1/queues/contacts/c2/priority", `{"priority":"high"}`, 400},
		{"/api/v1/queues/contacts/c2/priority", `{"priority":1.5}`, 400},
		{"/api/v1/queues/contacts/c2/priority", `{"priority":5000}`, 400},
		{"/api/v1/queues/contacts/gone/priority", `{"priority":1}`, 404},
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
	want := []string{"bob available", "bob logged_out", "bob not_ready training", "move c2 sales", "priority c2 -3"}
	if got := f.took(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ACD was asked %q, want %q", got, want)
	}

	// A failure of the ACD itself is a 500 without its details.
	f.failWith = errors.New("engine exploded at 0xdeadbeef")
	for _, path := range []string{"/api/v1/queues", "/api/v1/agents", "/api/v1/queues/stats", "/api/v1/queues/events"} {
		code, body := call(t, srv, "GET", path, "sup", "")
		if code != 500 || strings.Contains(fmt.Sprint(body["error"]), "deadbeef") {
			t.Errorf("GET %s with a failing ACD: %d %v", path, code, body)
		}
	}
	f.failWith = fmt.Errorf("%w: agent state changed meanwhile", ErrConflict)
	if code, _ := call(t, srv, "POST", "/api/v1/agents/bob/sync", "adm", ""); code != 409 {
		t.Errorf("sync with a conflict: %d", code)
	}
}

func TestACDQueries(t *testing.T) {
	f := newFakeACD()
	srv := newACDServer(t, f)

	before := time.Now().UTC()
	if code, _ := call(t, srv, "GET", "/api/v1/queues/stats", "sup", ""); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	after := time.Now().UTC()
	if s := f.gotSince; !s.Equal(startOfDayUTC(before)) && !s.Equal(startOfDayUTC(after)) {
		t.Errorf("default since %v, want the start of today UTC", s)
	} else if s.Hour() != 0 || s.Minute() != 0 || s.Location() != time.UTC {
		t.Errorf("default since %v", s)
	}
	if code, _ := call(t, srv, "GET", "/api/v1/queues/stats?since=1h", "sup", ""); code != 200 {
		t.Fatalf("stats since 1h: %d", code)
	}
	if ago := time.Since(f.gotSince); ago < time.Hour-time.Minute || ago > time.Hour+time.Minute {
		t.Errorf("since=1h gave %v", f.gotSince)
	}
	if code, body := call(t, srv, "GET", "/api/v1/queues/stats?since=yesterday", "sup", ""); code != 400 || body["error"] == "" {
		t.Errorf("bad since: %d %v", code, body)
	}

	code, body := call(t, srv, "GET", "/api/v1/queues/events?call_id=c1&queue=sales&agent=alice&since=2025-06-01&until=2025-06-02T00:00:00Z&limit=50", "sup", "")
	q := f.gotQuery
	if code != 200 || q.CallID != "c1" || q.Queue != "sales" || q.Agent != "alice" || q.Limit != 50 ||
		q.Since.Day() != 1 || !q.Until.Equal(time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("events query: %d %v %+v", code, body, q)
	}
	if code, _ := call(t, srv, "GET", "/api/v1/queues/events", "sup", ""); code != 200 || f.gotQuery != (QueueEventQuery{Limit: DefaultQueueEventLimit}) {
		t.Fatalf("default events query: %d %+v", code, f.gotQuery)
	}
	for _, bad := range []string{"limit=0", "limit=x", fmt.Sprintf("limit=%d", MaxQueueEventLimit+1), "since=soon", "until=later"} {
		if code, body := call(t, srv, "GET", "/api/v1/queues/events?"+bad, "sup", ""); code != 400 || body["error"] == "" {
			t.Errorf("events ?%s: %d %v", bad, code, body)
		}
	}
}

// serveGolden answers a golden file's request: its first line is
// "METHOD PATH TOKEN", the rest the body. The answer is the status line
// and the body as served.
func serveGolden(h http.Handler, input string) string {
	line, body, _ := strings.Cut(input, "\n")
	f := strings.Fields(line)
	if len(f) != 3 {
		return "bad request line " + line + "\n"
	}
	req := httptest.NewRequest(f[0], f[1], strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f[2])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return fmt.Sprintf("%d\n%s", rec.Code, rec.Body.String())
}

// TestACDGolden pins the JSON the CLI and dashboards read: each file in
// testdata/acd is a request (-- want -- the status and body).
func TestACDGolden(t *testing.T) {
	h := acdHandler(newFakeACD())
	for _, c := range golden.Cases(t, "testdata/acd/*.txt", "request") {
		t.Run(c.Name, func(t *testing.T) {
			c.Check(t, serveGolden(h, c.Input), *update)
		})
	}
}

// FuzzACDBodies sends arbitrary bodies to the state, move and priority
// endpoints: the answer is always 204 (and the ACD was asked exactly
// once, with a valid change) or a 4xx with a JSON error, never a panic
// or a 5xx.
func FuzzACDBodies(f *testing.F) {
	for _, in := range golden.Inputs(f, "testdata/acd/*.txt") {
		if _, body, ok := strings.Cut(in, "\n"); ok && strings.HasPrefix(in, "POST") {
			for ep := range uint8(3) {
				f.Add(ep, body)
			}
		}
	}
	for _, s := range []string{
		`{"state":"available"}`, `{"state":"not_ready","reason":"break"}`, `{"state":"logged_out","reason":"end_of_shift"}`,
		`{"state":"not_ready"}`, `{"queue":"sales"}`, `{"priority":50}`, `{"priority":null}`, `{"priority":1e3}`,
		`{"queue":"sales","queue":""}`, `[]`, `null`, `{"state":"available"}x`, "\xff",
	} {
		for ep := range uint8(3) {
			f.Add(ep, s)
		}
	}
	fake := newFakeACD()
	h := acdHandler(fake)
	paths := []string{"/api/v1/agents/alice/state", "/api/v1/queues/contacts/c1/move", "/api/v1/queues/contacts/c1/priority"}
	f.Fuzz(func(t *testing.T, ep uint8, body string) {
		path := paths[int(ep)%len(paths)]
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sup")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		took := fake.took()
		switch {
		case rec.Code == http.StatusNoContent:
			if len(took) != 1 {
				t.Fatalf("POST %s %q: 204 after asking the ACD %q", path, body, took)
			}
			if strings.HasSuffix(path, "/state") {
				var b AgentStateBody
				if err := json.Unmarshal([]byte(body), &b); err != nil || b.validate() != nil {
					t.Fatalf("POST %s %q: accepted an invalid body (%v)", path, body, err)
				}
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
