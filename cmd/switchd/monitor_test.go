package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchd/switchd/web"
)

// As the conference tests do, these run the real HTTP API
// (web.NewHandler) on loopback with hand-written supervisor sessions
// behind it, and the CLI finds it as it finds a running switch.

// cliMonitors are the sessions and audit log behind the test API. A call
// without a supervisor is web.ErrNotFound, as in the switch.
type cliMonitors struct {
	mu       sync.Mutex
	sessions []web.MonitorSession
	audit    []web.MonitorAuditEntry
	changes  []string // "mode call mode by", "stop call by"

	gotSince  time.Time
	gotCallID string
	gotLimit  int
}

var _ web.Monitors = (*cliMonitors)(nil)

func (f *cliMonitors) ListMonitors(context.Context) ([]web.MonitorSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions, nil
}

func (f *cliMonitors) find(callID string) error {
	for _, s := range f.sessions {
		if s.CallID == callID {
			return nil
		}
	}
	return fmt.Errorf("%w: no supervisor on call %s", web.ErrNotFound, callID)
}

func (f *cliMonitors) SetMonitorMode(_ context.Context, callID, mode, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.find(callID); err != nil {
		return err
	}
	f.changes = append(f.changes, fmt.Sprintf("mode %s %s %s", callID, mode, by))
	return nil
}

func (f *cliMonitors) StopMonitor(_ context.Context, callID, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.find(callID); err != nil {
		return err
	}
	f.changes = append(f.changes, fmt.Sprintf("stop %s %s", callID, by))
	return nil
}

func (f *cliMonitors) MonitorAudit(_ context.Context, since time.Time, callID string, limit int) ([]web.MonitorAuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotSince, f.gotCallID, f.gotLimit = since, callID, limit
	var out []web.MonitorAuditEntry
	for _, e := range f.audit {
		if !e.At.Before(since) && (callID == "" || e.CallID == callID) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *cliMonitors) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changes
	f.changes = nil
	return out
}

// monitorFixture serves the API with fake sessions and writes a config
// pointing at it, with the admin token in its data_dir. It returns the
// config.
func monitorFixture(t *testing.T) (string, *cliMonitors) {
	t.Helper()
	t.Setenv("SWITCHD_TOKEN", "") // the token comes from data_dir, as an admin's would
	t0 := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	f := &cliMonitors{
		sessions: []web.MonitorSession{
			{CallID: "c1", Supervisor: "sue", SupervisorExt: "1900", AgentExt: "1001", Customer: "+442071234567",
				Mode: web.MonitorWhisper, Started: t0},
		},
		audit: []web.MonitorAuditEntry{
			{At: t0.Add(-48 * time.Hour), Supervisor: "sue", SupervisorExt: "1900", CallID: "c0", AgentExt: "1002",
				Action: "start", Mode: web.MonitorListen},
			{At: t0, Supervisor: "sue", SupervisorExt: "1900", CallID: "c1", AgentExt: "1001", Action: "start",
				Mode: web.MonitorListen},
			{At: t0.Add(10 * time.Second), SupervisorExt: "1003", AgentExt: "1001", Action: "refused",
				Detail: "extension 1003 is not a supervisor's phone"},
			{At: t0.Add(20 * time.Second), Supervisor: "sue", SupervisorExt: "1900", CallID: "c1", AgentExt: "1001",
				Action: "mode", Mode: web.MonitorWhisper},
		},
	}
	srv := httptest.NewServer(web.NewHandler(web.Config{}, web.Deps{
		Tokens: cliTokens{
			"admin-token": {Name: "admin", Role: web.RoleAdmin},
			"sue-token":   {Name: "sue", Role: web.RoleSupervisor},
			"alice-token": {Name: "alice", Role: web.RoleAgent},
		},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler), Monitors: f,
	}))
	t.Cleanup(srv.Close)
	return writeLiveConfig(t, strings.TrimPrefix(srv.URL, "http://"), true), f
}

func TestMonitorList(t *testing.T) {
	cfg, f := monitorFixture(t)
	out, _, err := runCLI(t, "monitor", "list", "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "CALL AGENT CUSTOMER SUPERVISOR MODE STARTED" {
		t.Fatalf("monitor list: %v\n%s", err, out)
	}
	started := f.sessions[0].Started.Local().Format(time.DateTime)
	if got := strings.Join(strings.Fields(lines[1]), " "); got != "c1 1001 +442071234567 1900 (sue) whisper "+started {
		t.Errorf("session: %q", lines[1])
	}

	out, _, err = runCLI(t, "monitor", "list", "--json", "--token", "sue-token", "-c", cfg)
	var sessions []web.MonitorSession
	if err != nil || json.Unmarshal([]byte(out), &sessions) != nil || len(sessions) != 1 || sessions[0].Mode != web.MonitorWhisper ||
		!sessions[0].Started.Equal(f.sessions[0].Started) {
		t.Fatalf("monitor list --json: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "monitor", "list", "--token", "alice-token", "-c", cfg); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("an agent listed the sessions: %v", err)
	}

	// No sessions: the header alone, and [] as JSON.
	f.mu.Lock()
	f.sessions = nil
	f.mu.Unlock()
	if out, _, err := runCLI(t, "monitor", "list", "-c", cfg); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("no sessions: %v %q", err, out)
	}
	if out, _, err := runCLI(t, "monitor", "list", "--json", "-c", cfg); err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("no sessions --json: %v %q", err, out)
	}
}

// TestMonitorModeAndStop: the switch is told the change and which API
// user made it; refusals change nothing.
func TestMonitorModeAndStop(t *testing.T) {
	cfg, f := monitorFixture(t)
	ok := []struct {
		args      []string
		out, want string
	}{
		{[]string{"monitor", "mode", "c1", "barge"}, "supervisor on call c1 now in barge mode", "mode c1 barge admin"},
		{[]string{"monitor", "mode", "c1", "listen", "--token", "sue-token"}, "now in listen mode", "mode c1 listen sue"},
		{[]string{"monitor", "mode", "c1", "whisper"}, "now in whisper mode", "mode c1 whisper admin"},
		{[]string{"monitor", "stop", "c1", "--token", "sue-token"}, "supervisor taken off call c1", "stop c1 sue"},
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
		{[]string{"monitor", "mode", "c9", "listen"}, "no supervisor on call c9"},
		{[]string{"monitor", "stop", "c9"}, "404"},
		{[]string{"monitor", "stop", "c1/../c2"}, "no supervisor on call c1/../c2"}, // the call ID is escaped
		{[]string{"monitor", "mode", "c1", "spy"}, `mode "spy" is not listen, whisper or barge`},
		{[]string{"monitor", "mode", "c1", "Barge"}, "is not listen, whisper or barge"},
		{[]string{"monitor", "mode", "c1", "barge", "--token", "alice-token"}, "403"},
		{[]string{"monitor", "stop", "c1", "--token", "alice-token"}, "403"},
		{[]string{"monitor", "stop", "c1", "--token", "wrong"}, "401"},
		{[]string{"monitor", "mode", "c1"}, "accepts 2 arg(s)"},
		{[]string{"monitor", "stop"}, "accepts 1 arg(s)"},
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

func TestMonitorAudit(t *testing.T) {
	cfg, f := monitorFixture(t)
	before := time.Now()
	out, stderr, err := runCLI(t, "monitor", "audit", "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 4 || stderr != "" ||
		strings.Join(strings.Fields(lines[0]), " ") != "TIME ACTION MODE CALL AGENT SUPERVISOR DETAIL" {
		t.Fatalf("monitor audit: %v %q\n%s", err, stderr, out)
	}
	// The default is the last 24 hours (the line from two days ago is not
	// shown), the server's default limit.
	if ago := before.Sub(f.gotSince); ago < 24*time.Hour-time.Minute || ago > 24*time.Hour+time.Minute ||
		f.gotCallID != "" || f.gotLimit != web.DefaultMonitorAuditLimit {
		t.Errorf("default audit query: since %v, call %q, limit %d", f.gotSince, f.gotCallID, f.gotLimit)
	}
	at := f.audit[1].At.Local().Format(time.DateTime)
	if got := strings.Join(strings.Fields(lines[1]), " "); got != at+" start listen c1 1001 1900 (sue) -" {
		t.Errorf("start line: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) < 8 || f[2] != "refused" || f[3] != "-" || f[4] != "-" || f[5] != "1001" ||
		f[6] != "1003" || !strings.Contains(lines[2], "extension 1003 is not a supervisor's phone") {
		t.Errorf("refused line: %q", lines[2])
	}

	out, _, err = runCLI(t, "monitor", "audit", "--since", "7d", "--call-id", "c1", "--json", "--token", "sue-token", "-c", cfg)
	var entries []web.MonitorAuditEntry
	if err != nil || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 2 || entries[0].Action != "start" ||
		entries[1].Mode != web.MonitorWhisper || f.gotCallID != "c1" {
		t.Fatalf("monitor audit --since 7d --call-id c1 --json: %v\n%s", err, out)
	}
	if ago := time.Since(f.gotSince); ago < 7*24*time.Hour-time.Minute || ago > 7*24*time.Hour+time.Minute {
		t.Errorf("--since 7d asked since %v", f.gotSince)
	}
	out, _, err = runCLI(t, "monitor", "audit", "--since", "7d", "-c", cfg)
	if err != nil || strings.Count(strings.TrimSpace(out), "\n") != 4 || !strings.Contains(out, " c0 ") {
		t.Errorf("monitor audit --since 7d: %v\n%s", err, out)
	}
	if out, _, err := runCLI(t, "monitor", "audit", "--call-id", "c9", "--json", "-c", cfg); err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("no lines --json: %v %q", err, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"monitor", "audit", "--since", "soon"}, "--since"},
		{[]string{"monitor", "audit", "--token", "alice-token"}, "403"},
		{[]string{"monitor", "audit", "c1"}, "unknown command"},
	} {
		if _, _, err := runCLI(t, append(c.args, "-c", cfg)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
}

// TestMonitorNoSwitch: the API without supervisor monitoring is a 503 the
// commands report.
func TestMonitorNoSwitch(t *testing.T) {
	t.Setenv("SWITCHD_TOKEN", "")
	srv := httptest.NewServer(web.NewHandler(web.Config{}, web.Deps{
		Tokens:   cliTokens{"admin-token": {Name: "admin", Role: web.RoleAdmin}},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	}))
	t.Cleanup(srv.Close)
	cfg := writeLiveConfig(t, strings.TrimPrefix(srv.URL, "http://"), true)
	for _, args := range [][]string{{"monitor", "list"}, {"monitor", "audit"}, {"monitor", "stop", "c1"}, {"monitor", "mode", "c1", "listen"}} {
		if _, _, err := runCLI(t, append(args, "-c", cfg)...); err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("%v without monitoring: %v", args, err)
		}
	}
}
