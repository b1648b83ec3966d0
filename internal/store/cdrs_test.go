package store

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// sameCDR compares records field by field (quality by value, times in
// UTC), ignoring the row's own created and updated times.
func sameCDR(t *testing.T, got, want CDR) {
	t.Helper()
	norm := func(c CDR) CDR {
		c.Created, c.Updated = time.Time{}, time.Time{}
		c.Start, c.Answer, c.End = c.Start.UTC(), c.Answer.UTC(), c.End.UTC()
		return c
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("CDR\n got %+v %+v %+v\nwant %+v %+v %+v", g, g.QualityA, g.QualityB, w, w.QualityA, w.QualityB)
	}
}

func TestCDRLifecycle(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	base := CDR{ID: "0196a1b2-0000-7000-8000-000000000001", Medium: "voice", Direction: "inbound",
		Caller: "+442071234567", CallerName: "Alice", Callee: "100", CalleeName: "Sales"}
	start := base
	start.Start = at(0)
	if err := st.CreateCDR(ctx, start); err != nil {
		t.Fatal(err)
	}
	open, err := st.CDR(ctx, base.ID)
	if err != nil || !open.Open() || !open.Start.Equal(at(0)) || open.Caller != "+442071234567" || open.Cause != "" {
		t.Fatalf("open CDR %+v %v", open, err)
	}
	ans := base
	ans.Answer = at(4 * time.Second)
	if err := st.AnswerCDR(ctx, ans); err != nil {
		t.Fatal(err)
	}
	end := base
	end.End, end.Cause, end.HangupSide = at(64*time.Second+250*time.Millisecond), "normal_clearing", "caller"
	end.CodecA, end.CodecB = "PCMU", "PCMA"
	end.QualityA = &MediaQuality{PacketsLost: 3, JitterMS: 4.5}
	if err := st.CompleteCDR(ctx, end); err != nil {
		t.Fatal(err)
	}
	want := base
	want.Start, want.Answer, want.End = at(0), at(4*time.Second), end.End
	want.Duration, want.Billable = 64250*time.Millisecond, 60250*time.Millisecond
	want.Cause, want.HangupSide, want.CodecA, want.CodecB = "normal_clearing", "caller", "PCMU", "PCMA"
	want.QualityA = &MediaQuality{PacketsLost: 3, JitterMS: 4.5}
	got, err := st.CDR(ctx, base.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameCDR(t, got, want)

	// Replays and late changes alter nothing: a second create, an answer
	// after the end, a second completion.
	late := base
	late.Start, late.Answer = at(time.Hour), at(time.Hour)
	again := end
	again.Cause, again.End = "failure", at(2*time.Hour)
	err = st.WriteCDRs(ctx, []CDRChange{{CDRCreate, late}, {CDRAnswer, late}, {CDRComplete, again}})
	if err != nil {
		t.Fatal(err)
	}
	got2, _ := st.CDR(ctx, base.ID)
	sameCDR(t, got2, want)
	if !got2.Updated.Equal(got.Updated) {
		t.Fatal("a no-op replay touched updated_at")
	}
	if _, err := st.CDR(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing CDR: %v", err)
	}
}

func TestCDRChangesWithoutCreateStillRecord(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	// A recorder that started mid-call sees only the answer and the end.
	c := CDR{ID: "a", Direction: "outbound", Caller: "100", Callee: "+15551234"}
	c.Answer = at(10 * time.Second)
	if err := st.AnswerCDR(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.End, c.Cause, c.HangupSide = at(70*time.Second), "normal_clearing", "callee"
	// Only the end: the record starts (and was answered) at the end.
	d := CDR{ID: "b", Callee: "200", End: at(5 * time.Second), Cause: "busy", HangupSide: "callee"}
	if err := st.WriteCDRs(ctx, []CDRChange{{CDRComplete, c}, {CDRComplete, d}}); err != nil {
		t.Fatal(err)
	}
	a, _ := st.CDR(ctx, "a")
	if !a.Start.Equal(at(10*time.Second)) || a.Duration != time.Minute || a.Billable != time.Minute || a.Open() {
		t.Fatalf("a = %+v", a)
	}
	b, _ := st.CDR(ctx, "b")
	if !b.Start.Equal(at(5*time.Second)) || b.Duration != 0 || b.Billable != 0 || !b.Answer.IsZero() || b.Cause != "busy" {
		t.Fatalf("b = %+v", b)
	}
	if err := st.WriteCDRs(ctx, []CDRChange{{Kind: 9, CDR: CDR{ID: "x"}}}); err == nil {
		t.Fatal("unknown change kind accepted")
	}
	if err := st.CreateCDR(ctx, CDR{Start: t0}); err == nil {
		t.Fatal("CDR without id accepted")
	}
}

func TestCloseOpenCDRs(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	changes := []CDRChange{
		{CDRCreate, CDR{ID: "done", Start: at(0)}},
		{CDRComplete, CDR{ID: "done", End: at(time.Minute), Cause: "busy", HangupSide: "callee"}},
		{CDRCreate, CDR{ID: "talking", Start: at(0)}},
		{CDRAnswer, CDR{ID: "talking", Answer: at(20 * time.Second)}},
		{CDRCreate, CDR{ID: "ringing", Start: at(30 * time.Second)}},
	}
	if err := st.WriteCDRs(ctx, changes); err != nil {
		t.Fatal(err)
	}
	restart := at(5 * time.Minute)
	n, err := st.CloseOpenCDRs(ctx, "switch_restart", restart)
	if err != nil || n != 2 {
		t.Fatalf("closed %d, %v; want 2", n, err)
	}
	talking, _ := st.CDR(ctx, "talking")
	if !talking.End.Equal(restart) || talking.Cause != "switch_restart" || talking.HangupSide != "switch" ||
		talking.Duration != 5*time.Minute || talking.Billable != 4*time.Minute+40*time.Second {
		t.Fatalf("talking = %+v", talking)
	}
	ringing, _ := st.CDR(ctx, "ringing")
	if ringing.Duration != 4*time.Minute+30*time.Second || ringing.Billable != 0 || ringing.Cause != "switch_restart" {
		t.Fatalf("ringing = %+v", ringing)
	}
	done, _ := st.CDR(ctx, "done")
	if done.Cause != "busy" || !done.End.Equal(at(time.Minute)) {
		t.Fatalf("a completed CDR was touched: %+v", done)
	}
	if n, err := st.CloseOpenCDRs(ctx, "switch_restart", restart); n != 0 || err != nil {
		t.Fatalf("second recovery closed %d, %v", n, err)
	}
}

func TestListAndExportCDRs(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	var changes []CDRChange
	for i := range 10 {
		changes = append(changes, CDRChange{CDRCreate, CDR{
			ID: fmt.Sprintf("id%02d", i), Caller: fmt.Sprintf("10%d", i%3), Callee: fmt.Sprintf("20%d", i%2),
			Start: at(time.Duration(i) * time.Hour),
		}})
	}
	if err := st.WriteCDRs(ctx, changes); err != nil {
		t.Fatal(err)
	}
	ids := func(cs []CDR) string {
		s := ""
		for _, c := range cs {
			s += c.ID[2:] + " "
		}
		return s
	}
	cases := []struct {
		f    CDRFilter
		want string
	}{
		{CDRFilter{}, "09 08 07 06 05 04 03 02 01 00 "},
		{CDRFilter{Limit: 3}, "09 08 07 "},
		{CDRFilter{Since: at(7 * time.Hour)}, "09 08 07 "},
		{CDRFilter{Since: at(2 * time.Hour), Until: at(5 * time.Hour)}, "04 03 02 "},
		{CDRFilter{Caller: "100"}, "09 06 03 00 "},
		{CDRFilter{Caller: "101", Callee: "201"}, "07 01 "},
		{CDRFilter{Callee: "nobody"}, ""},
	}
	for _, c := range cases {
		got, err := st.ListCDRs(ctx, c.f)
		if err != nil || ids(got) != c.want {
			t.Errorf("ListCDRs(%+v) = %q, %v; want %q", c.f, ids(got), err, c.want)
		}
	}
	var asc []CDR
	for c, err := range st.ExportCDRs(ctx, CDRFilter{Since: at(6 * time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
		asc = append(asc, c)
	}
	if ids(asc) != "06 07 08 09 " {
		t.Fatalf("export order %q", ids(asc))
	}
	// Breaking out of the iterator releases its connection: more early
	// breaks than the reader pool holds, then a query still works.
	for range 10 {
		for range st.ExportCDRs(ctx, CDRFilter{}) {
			break
		}
	}
	if all, err := st.ListCDRs(ctx, CDRFilter{}); err != nil || len(all) != 10 {
		t.Fatalf("after early breaks: %d, %v", len(all), err)
	}
}

// TestMigrateV1DatabaseAddsCDRs upgrades a database created by a switchd
// that knew only migration 0001; its data survives.
func TestMigrateV1DatabaseAddsCDRs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchd.db")
	ms, err := migrations()
	if err != nil || len(ms) < 2 || ms[0].version != 1 || ms[1].version != 2 {
		t.Fatalf("migrations %v %v", ms, err)
	}
	db, _ := sql.Open("sqlite3", "file:"+path)
	if _, err := db.Exec(ms[0].sql + "; PRAGMA user_version = 1;" +
		`INSERT INTO extensions(number, realm, ha1_md5, ha1_sha256, created_at, updated_at) VALUES ('1001','r','m','s',0,0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Extension(t.Context(), "1001"); err != nil {
		t.Fatalf("extension lost in migration: %v", err)
	}
	if err := st.CreateCDR(t.Context(), CDR{ID: "x", Start: t0}); err != nil {
		t.Fatal(err)
	}
	// STRICT: a value of the wrong type is refused.
	if _, err := st.w.Exec(`INSERT INTO cdrs(id, start_at, created_at, updated_at) VALUES ('y', 'soon', 0, 0)`); err == nil {
		t.Fatal("STRICT table accepted text in an INTEGER column")
	}
}

// TestCDRRouting: trunk, DID and route are written on create; an answer or
// completion that names them overrides (the trunk that finally carried an
// outbound call is known late), one that leaves them empty keeps them.
func TestCDRRouting(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	changes := []CDRChange{
		{CDRCreate, CDR{ID: "out", Direction: "outbound", Caller: "1001", Callee: "+15550100", Start: at(0),
			DID: "+15550100", Route: "rule international via carrier-a", Trunk: "carrier-a"}},
		{CDRAnswer, CDR{ID: "out", Answer: at(time.Second)}},
		{CDRComplete, CDR{ID: "out", End: at(time.Minute), Cause: "normal_clearing", HangupSide: "caller",
			Trunk: "carrier-b", Route: "rule international via carrier-b (failover)"}},
		{CDRCreate, CDR{ID: "in", Direction: "inbound", Start: at(0), Trunk: "carrier-a", DID: "+862155550100",
			Route: "did +862155550100 -> extension 1001"}},
		{CDRAnswer, CDR{ID: "in", Answer: at(time.Second), Trunk: "carrier-c"}},
		{CDRComplete, CDR{ID: "in", End: at(time.Minute), Cause: "normal_clearing"}},
		// A recorder that started mid-call: only the end, with routing.
		{CDRComplete, CDR{ID: "late", End: at(time.Minute), Trunk: "carrier-a", DID: "+15550199", Route: "r"}},
	}
	if err := st.WriteCDRs(ctx, changes); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{
		"out":  {"carrier-b", "+15550100", "rule international via carrier-b (failover)"},
		"in":   {"carrier-c", "+862155550100", "did +862155550100 -> extension 1001"},
		"late": {"carrier-a", "+15550199", "r"},
	}
	list, err := st.ListCDRs(ctx, CDRFilter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("list %d %v", len(list), err)
	}
	for _, c := range list {
		if got := [3]string{c.Trunk, c.DID, c.Route}; got != want[c.ID] {
			t.Errorf("%s: trunk, did, route = %q, want %q", c.ID, got, want[c.ID])
		}
	}
	for c, err := range st.ExportCDRs(ctx, CDRFilter{}) {
		if err != nil || [3]string{c.Trunk, c.DID, c.Route} != want[c.ID] {
			t.Errorf("export %s: %+v %v", c.ID, c, err)
		}
	}
	// After the end nothing changes them any more.
	if err := st.CompleteCDR(ctx, CDR{ID: "out", End: at(time.Hour), Trunk: "carrier-z"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.CDR(ctx, "out"); c.Trunk != "carrier-b" {
		t.Fatalf("a replayed completion changed the trunk: %+v", c)
	}
}
