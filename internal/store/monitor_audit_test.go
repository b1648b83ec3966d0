package store

import (
	"context"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// audit is a supervisor's action on call id d after t0.
func audit(d time.Duration, callID, action, mode string) MonitorAudit {
	return MonitorAudit{At: at(d), Supervisor: "sue", SupervisorExt: "1900", CallID: callID, AgentExt: "1001",
		Action: action, Mode: mode}
}

func mustAudit(t testing.TB, st *Store, list ...MonitorAudit) {
	t.Helper()
	for _, a := range list {
		if err := st.AddMonitorAudit(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
}

// sameAudits compares audit lines as the store keeps them: IDs ignored,
// times at millisecond precision in UTC.
func sameAudits(t *testing.T, got, want []MonitorAudit) {
	t.Helper()
	norm := func(list []MonitorAudit) []MonitorAudit {
		out := make([]MonitorAudit, len(list))
		for i, a := range list {
			a.ID, a.At = 0, a.At.Truncate(time.Millisecond).UTC()
			out[i] = a
		}
		return out
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("audit\n got %+v\nwant %+v", g, w)
	}
}

// TestMonitorAuditRoundTrip: every field is kept, in a file that outlives
// the process (the log is for compliance); lines come back oldest first
// whatever order they were added in, with increasing IDs.
func TestMonitorAuditRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchd.db")
	st, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	refused := MonitorAudit{At: at(30*time.Second + 123456*time.Microsecond), SupervisorExt: "1003", AgentExt: "1001",
		Action: "refused", Detail: "extension 1003 is not a supervisor's phone"}
	stop := audit(time.Minute, "c1", "stop", "")
	stop.Supervisor, stop.Detail = "root", "stopped by root"
	start, whisper := audit(0, "c1", "start", "listen"), audit(20*time.Second, "c1", "mode", "whisper")
	mustAudit(t, st, start, stop, refused, whisper) // out of order
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	got, err := st.MonitorAudits(t.Context(), at(0), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	sameAudits(t, got, []MonitorAudit{start, whisper, refused, stop})
	ids := map[int64]bool{}
	for _, a := range got {
		if a.ID <= 0 || ids[a.ID] {
			t.Fatalf("IDs %+v: want distinct positive ones", got)
		}
		ids[a.ID] = true
	}
	if got[0].ID >= got[1].ID {
		t.Errorf("start line %+v added before the mode line %+v has the higher ID", got[0], got[1])
	}
	if want := at(30*time.Second + 123*time.Millisecond); !got[2].At.Equal(want) {
		t.Errorf("refused at %v, want %v (milliseconds)", got[2].At, want)
	}
}

// TestMonitorAuditDefaultsToNow: a line without a time is stamped with
// the store's clock.
func TestMonitorAuditDefaultsToNow(t *testing.T) {
	now := at(time.Hour + 250*time.Millisecond)
	st := openTestAt(t, now)
	a := audit(0, "c1", "start", "barge")
	a.At = time.Time{}
	mustAudit(t, st, a)
	got, err := st.MonitorAudits(t.Context(), now, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	a.At = now
	sameAudits(t, got, []MonitorAudit{a})
}

// TestMonitorAuditFilters: since is inclusive, the call filter applies
// when given, and lines in one millisecond keep the order they were added
// in.
func TestMonitorAuditFilters(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	c1start, c2start := audit(0, "c1", "start", "listen"), audit(10*time.Second, "c2", "start", "listen")
	c1mode, c1stop := audit(20*time.Second, "c1", "mode", "barge"), audit(20*time.Second, "c1", "stop", "")
	refused := MonitorAudit{At: at(25 * time.Second), SupervisorExt: "1003", AgentExt: "1002", Action: "refused", Detail: "no call"}
	mustAudit(t, st, c1start, c2start, c1mode, c1stop, refused)

	cases := []struct {
		name   string
		since  time.Time
		callID string
		want   []MonitorAudit
	}{
		{"everything", time.Time{}, "", []MonitorAudit{c1start, c2start, c1mode, c1stop, refused}},
		{"since inclusive", at(10 * time.Second), "", []MonitorAudit{c2start, c1mode, c1stop, refused}},
		{"since a millisecond later", at(10*time.Second + time.Millisecond), "", []MonitorAudit{c1mode, c1stop, refused}},
		{"one call", time.Time{}, "c1", []MonitorAudit{c1start, c1mode, c1stop}},
		{"one call since", at(time.Second), "c1", []MonitorAudit{c1mode, c1stop}},
		{"other call", time.Time{}, "c2", []MonitorAudit{c2start}},
		{"unknown call", time.Time{}, "c9", nil},
		{"after the last", at(time.Hour), "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := st.MonitorAudits(ctx, c.since, c.callID, 100)
			if err != nil {
				t.Fatal(err)
			}
			sameAudits(t, got, c.want)
		})
	}
}

// TestMonitorAuditLimit: a limit keeps the most recent lines, still
// oldest first; none, a negative one or one over 10000 is 1000.
func TestMonitorAuditLimit(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	all := make([]MonitorAudit, 1005)
	for i := range all {
		all[i] = audit(time.Duration(i)*time.Millisecond, "c"+strconv.Itoa(i%2), "mode", "listen")
	}
	// Insert in one transaction: this is about reading.
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_audit(at, supervisor, supervisor_ext, call_id, agent_ext, action, mode)
			VALUES (?,?,?,?,?,?,?)`, ms(a.At), a.Supervisor, a.SupervisorExt, a.CallID, a.AgentExt, a.Action, a.Mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	got, err := st.MonitorAudits(ctx, time.Time{}, "", 5)
	if err != nil {
		t.Fatal(err)
	}
	sameAudits(t, got, all[len(all)-5:])
	got, err = st.MonitorAudits(ctx, time.Time{}, "c0", 2)
	if err != nil {
		t.Fatal(err)
	}
	sameAudits(t, got, []MonitorAudit{all[1002], all[1004]})
	got, err = st.MonitorAudits(ctx, at(1000*time.Millisecond), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	sameAudits(t, got, all[1000:]) // since before limit: fewer than the limit
	for _, limit := range []int{0, -1, 10001, 1 << 30} {
		got, err := st.MonitorAudits(ctx, time.Time{}, "", limit)
		if err != nil {
			t.Fatal(err)
		}
		sameAudits(t, got, all[len(all)-1000:])
	}
	got, err = st.MonitorAudits(ctx, time.Time{}, "", 10000)
	if err != nil {
		t.Fatal(err)
	}
	sameAudits(t, got, all)
}

// TestMonitorAuditErrors: a failing database is reported, named.
func TestMonitorAuditErrors(t *testing.T) {
	st := openTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := st.AddMonitorAudit(ctx, audit(0, "c1", "start", "listen")); err == nil || !strings.Contains(err.Error(), "add monitor audit") {
		t.Errorf("add with a cancelled context: %v", err)
	}
	if _, err := st.MonitorAudits(ctx, time.Time{}, "", 10); err == nil || !strings.Contains(err.Error(), "monitor audit") {
		t.Errorf("read with a cancelled context: %v", err)
	}
	if got, _ := st.MonitorAudits(t.Context(), time.Time{}, "", 10); len(got) != 0 {
		t.Errorf("a refused add left %+v", got)
	}
}
