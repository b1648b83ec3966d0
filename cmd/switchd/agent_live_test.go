package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/web"
)

// The switch does not serve the ACD API in-process here: these tests run
// the real HTTP API (web.NewHandler) on loopback with a hand-written ACD
// behind it, and the CLI finds it as it finds a running switch: the
// config's http.listen and the token in <data_dir>/admin.token.

// cliACD is the ACD behind the test API. Unknown agents and contacts are
// web.ErrNotFound, as in the switch.
type cliACD struct {
	mu      sync.Mutex
	status  acd.Status
	stats   []acd.QueueStats
	events  []call.Event
	syncErr error

	since   time.Time
	query   web.QueueEventQuery
	changes []string
}

var _ web.ACD = (*cliACD)(nil)

func (f *cliACD) Status(context.Context) (acd.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

func (f *cliACD) Stats(_ context.Context, since time.Time) ([]acd.QueueStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.since = since
	return f.stats, nil
}

func (f *cliACD) SetAgentState(_ context.Context, agent string, st web.AgentStateChange, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.status.Agents {
		if string(a.ID) == agent {
			f.changes = append(f.changes, strings.TrimSpace(fmt.Sprintf("state %s %s %s", agent, st, reason)))
			return nil
		}
	}
	return fmt.Errorf("%w: agent %s", web.ErrNotFound, agent)
}

func (f *cliACD) MoveContact(_ context.Context, id call.ID, queue string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if queue != "sales" && queue != "billing" {
		return fmt.Errorf("%w: queue %s", web.ErrNotFound, queue)
	}
	f.changes = append(f.changes, fmt.Sprintf("move %s %s", id, queue))
	return nil
}

func (f *cliACD) SetContactPriority(_ context.Context, id call.ID, priority int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, fmt.Sprintf("priority %s %d", id, priority))
	return nil
}

func (f *cliACD) SyncAgent(_ context.Context, agent string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.syncErr != nil {
		return f.syncErr
	}
	f.changes = append(f.changes, "sync "+agent)
	return nil
}

func (f *cliACD) Events(_ context.Context, q web.QueueEventQuery) ([]call.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.query = q
	var out []call.Event
	for _, e := range f.events {
		if q.CallID == "" || string(e.CallID) == q.CallID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *cliACD) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changes
	f.changes = nil
	return out
}

type cliTokens map[string]web.Principal

func (m cliTokens) CheckToken(_ context.Context, tok string) (web.Principal, error) {
	if p, ok := m[tok]; ok {
		return p, nil
	}
	return web.Principal{}, web.ErrUnauthenticated
}

// acdFixture serves the API with a fake ACD and writes a config pointing
// at it, with the admin token in its data_dir. It returns the config.
func acdFixture(t *testing.T) (string, *cliACD) {
	t.Helper()
	t.Setenv("SWITCHD_TOKEN", "") // the token comes from data_dir, as an admin's would
	t0 := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	f := &cliACD{
		status: acd.Status{
			Queues: []acd.QueueStatus{
				{Name: "sales", Waiting: 3, LongestWait: 95500 * time.Millisecond, Members: 4, Present: 3, Ready: 1,
					EstimatedWait: 40 * time.Second, Known: true},
				{Name: "old", Members: 1, Retired: true},
			},
			Agents: []acd.AgentStatus{
				{ID: "alice", State: acd.AgentBusy, Load: map[call.Medium]int{call.MediumVoice: 1, call.MediumChat: 2}, IdleSince: t0},
				{ID: "bob", State: acd.AgentNotReady, Reason: acd.ReasonLunch, Load: map[call.Medium]int{}, Misses: 3},
			},
		},
		stats: []acd.QueueStats{
			{Queue: "sales", Joined: 10, Answered: 7, AnsweredInSL: 6, Abandoned: 2, ShortAbandoned: 1, Overflowed: 1,
				ServiceLevel: 0.75, SLKnown: true, ASA: 12300 * time.Millisecond, AHT: 200 * time.Second, AbandonRate: 0.125,
				Waiting: 1, LongestWaiting: 20 * time.Second},
			{Queue: "quiet"},
		},
		events: []call.Event{
			{Time: t0, Type: acd.EventQueueJoined, CallID: "c1",
				Data: map[string]string{acd.DataQueue: "sales", acd.DataReason: "priority 5 from the IVR"}},
			{Time: t0.Add(2 * time.Second), Type: acd.EventQueueOffered, CallID: "c1",
				Data: map[string]string{acd.DataQueue: "sales", acd.DataAgent: "alice", acd.DataReason: "longest idle of 2 eligible agents"}},
			{Time: t0.Add(9 * time.Second), Type: acd.EventQueueAnswered, CallID: "c1",
				Data: map[string]string{acd.DataQueue: "sales", acd.DataAgent: "alice"}},
			{Time: t0, Type: acd.EventQueueJoined, CallID: "c2", Data: map[string]string{acd.DataQueue: "sales"}},
		},
	}
	srv := httptest.NewServer(web.NewHandler(web.Config{}, web.Deps{
		Tokens: cliTokens{
			"admin-token": {Name: "admin", Role: web.RoleAdmin},
			"alice-token": {Name: "alice", Role: web.RoleAgent},
		},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler), ACD: f,
	}))
	t.Cleanup(srv.Close)
	return writeLiveConfig(t, strings.TrimPrefix(srv.URL, "http://"), true), f
}

// writeLiveConfig writes a config whose http.listen is addr, with an admin
// token in its data_dir when withToken.
func writeLiveConfig(t *testing.T, addr string, withToken bool) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchd.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\nhttp:\n  listen: %s\n", dir, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	if withToken {
		if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("admin-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// runCLI is run with stderr too.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestAgentLiveState(t *testing.T) {
	cfg, f := acdFixture(t)
	ok := []struct {
		args []string
		out  string
		want string
	}{
		{[]string{"agent", "login", "alice"}, "agent alice logged in", "state alice available"},
		{[]string{"agent", "logout", "bob"}, "agent bob logged out", "state bob logged_out"},
		{[]string{"agent", "state", "bob", "not-ready", "--reason", "lunch"}, "agent bob is now not_ready (lunch)", "state bob not_ready lunch"},
		{[]string{"agent", "state", "bob", "available"}, "agent bob is now available", "state bob available"},
		{[]string{"agent", "state", "bob", "logged_out"}, "agent bob is now logged_out", "state bob logged_out"},
		// An agent with their own token changes their own state.
		{[]string{"agent", "state", "alice", "not-ready", "--reason", "break", "--token", "alice-token"}, "not_ready (break)", "state alice not_ready break"},
	}
	for _, c := range ok {
		out, _, err := runCLI(t, append(c.args, "-c", cfg)...)
		if err != nil || !strings.Contains(out, c.out) {
			t.Errorf("%v: %v %q", c.args, err, out)
		}
		if got := f.took(); len(got) != 1 || got[0] != c.want {
			t.Errorf("%v: the switch was asked %q, want %q", c.args, got, c.want)
		}
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"agent", "state", "bob", "asleep"}, "not available, not-ready or logged-out"},
		{[]string{"agent", "state", "bob", "not-ready"}, "--reason"},
		{[]string{"agent", "state", "bob", "not-ready", "--reason", "Coffee Break"}, "400"},
		{[]string{"agent", "login", "zed"}, "404"},
		{[]string{"agent", "login", "bob", "--token", "alice-token"}, "403"},
		{[]string{"agent", "login", "bob", "--token", "wrong"}, "401"},
	}
	for _, c := range bad {
		_, _, err := runCLI(t, append(c.args, "-c", cfg)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	if got := f.took(); len(got) != 0 {
		t.Errorf("failed commands changed %q", got)
	}
}

func TestAgentLiveStatus(t *testing.T) {
	cfg, _ := acdFixture(t)
	out, _, err := runCLI(t, "agent", "status", "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[0], "AGENT") {
		t.Fatalf("agent status: %v\n%s", err, out)
	}
	if f := strings.Fields(lines[1]); f[0] != "alice" || f[1] != "busy" || f[2] != "-" || f[3] != "chat=2,voice=1" {
		t.Errorf("alice: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "bob" || f[1] != "not_ready" || f[2] != "lunch" || f[len(f)-1] != "3" {
		t.Errorf("bob: %q", lines[2])
	}
	out, _, err = runCLI(t, "agent", "status", "bob", "--json", "-c", cfg)
	var a web.AgentStatus
	if err != nil || json.Unmarshal([]byte(out), &a) != nil || a.ID != "bob" || a.Reason != "lunch" || a.Misses != 3 {
		t.Fatalf("agent status bob --json: %v %+v\n%s", err, a, out)
	}
	out, _, err = runCLI(t, "agent", "status", "alice", "--token", "alice-token", "-c", cfg)
	if err != nil || !strings.Contains(out, "alice") || strings.Contains(out, "bob") {
		t.Fatalf("agent status of oneself: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "agent", "status", "--token", "alice-token", "-c", cfg); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("an agent listed every agent: %v", err)
	}
}

// TestAgentStoreSync: add, skills and remove write the store, then ask
// the running switch to reload the agent; no switch is fine, a failing
// one is a warning, and the command succeeds either way.
func TestAgentStoreSync(t *testing.T) {
	cfg, f := acdFixture(t)
	for _, args := range [][]string{
		{"agent", "add", "carol", "--device", "1003", "--skill", "english=4"},
		{"agent", "skills", "carol", "english=5"},
		{"agent", "remove", "carol"},
	} {
		_, stderr, err := runCLI(t, append(args, "-c", cfg)...)
		if err != nil || stderr != "" {
			t.Fatalf("%v: %v %q", args, err, stderr)
		}
		if got := f.took(); len(got) != 1 || got[0] != "sync carol" {
			t.Fatalf("%v: the switch was asked %q", args, got)
		}
	}
	// A store error is an error, and nothing is synced.
	if _, _, err := runCLI(t, "agent", "skills", "nobody", "english=5", "-c", cfg); err == nil {
		t.Fatal("skills of an unknown agent succeeded")
	}
	if got := f.took(); len(got) != 0 {
		t.Fatalf("a failed store write synced %q", got)
	}

	f.syncErr = fmt.Errorf("%w: engine busy", web.ErrConflict)
	out, stderr, err := runCLI(t, "agent", "add", "dan", "--device", "1004", "-c", cfg)
	if err != nil || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "409") || out != "" {
		t.Fatalf("sync failure: %v stdout %q stderr %q", err, out, stderr)
	}

	// Nothing listening, or a switch that never ran (no token): silence.
	closed := writeLiveConfig(t, fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t)), true)
	never := writeLiveConfig(t, fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t)), false)
	for _, c := range []string{closed, never} {
		if _, stderr, err := runCLI(t, "agent", "add", "erin", "--device", "1005", "-c", c); err != nil || stderr != "" {
			t.Fatalf("no switch running: %v %q", err, stderr)
		}
	}
}
