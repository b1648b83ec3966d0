package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/recordings"
)

// rec is a recording of call id started d after t0.
func rec(id, caller, agent string, d time.Duration) recordings.Record {
	return recordings.Record{CallID: id, Queue: "sales", Caller: caller, Callee: "+862155550100", Agent: agent,
		Path: "/var/rec/" + id + ".wav", Format: recordings.Stereo, Start: at(d)}
}

// sameRecording compares records with times in UTC.
func sameRecording(t *testing.T, got, want recordings.Record) {
	t.Helper()
	norm := func(r recordings.Record) recordings.Record {
		r.Start, r.End, r.Deleted = r.Start.UTC(), r.End.UTC(), r.Deleted.UTC()
		return r
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("recording\n got %+v\nwant %+v", g, w)
	}
}

// TestRecordingLifecycle: a recording is added when it starts, finished
// with what the writer reports (the agent known only then), and read back
// whole; finishing twice is refused.
func TestRecordingLifecycle(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	r := rec("call-1", "+442071234567", "", 0)
	id, err := st.AddRecording(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Recording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.ID, want.State, want.Paused = id, recordings.StateRecording, []recordings.Interval{}
	sameRecording(t, got, want)

	r.ID, r.Agent = id, "alice"
	r.Finish(recordings.Result{End: at(65 * time.Second), Duration: 64*time.Second + 980*time.Millisecond, Bytes: 2_079_404,
		Paused: []recordings.Interval{{Start: 10 * time.Second, End: 25500 * time.Millisecond}}, Dropped: 3, Lost: 7})
	if err := st.FinishRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err = st.Recording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	sameRecording(t, got, r)
	if got.State != recordings.StateComplete || got.Queue != "sales" {
		t.Fatalf("state %s, queue %q", got.State, got.Queue)
	}
	var paused string
	st.r.QueryRow("SELECT paused FROM recordings WHERE id=?", id).Scan(&paused)
	if paused != "[[10000,25500]]" {
		t.Fatalf("paused column %s", paused)
	}
	if err := st.FinishRecording(ctx, r); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second finish: %v", err)
	}
	if _, err := st.Recording(ctx, id+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

// TestAddRecordingRefuses: a path recorded twice, an unknown format and a
// missing call ID are refused.
func TestAddRecordingRefuses(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	r := rec("call-1", "", "", 0)
	if _, err := st.AddRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddRecording(ctx, r); !errors.Is(err, ErrExists) {
		t.Fatalf("same path: %v", err)
	}
	bad := rec("call-2", "", "", 0)
	bad.Format = 0
	if _, err := st.AddRecording(ctx, bad); err == nil {
		t.Fatal("unknown format accepted")
	}
	bad = rec("", "", "", 0)
	if _, err := st.AddRecording(ctx, bad); err == nil {
		t.Fatal("empty call ID accepted")
	}
}

// TestListRecordings: filters by start, caller, agent, call and state,
// newest first, with a limit.
func TestListRecordings(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	ids := map[string]int64{}
	for i, r := range []recordings.Record{
		rec("a", "+441", "alice", 0),
		rec("b", "+442", "bob", time.Hour),
		rec("c", "+441", "bob", 2*time.Hour),
		rec("d", "+443", "", 3*time.Hour),
	} {
		id, err := st.AddRecording(ctx, r)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		ids[r.CallID] = id
	}
	if err := st.MarkRecordingDeleted(ctx, ids["a"], at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    RecordingFilter
		want []string
	}{
		{RecordingFilter{}, []string{"d", "c", "b", "a"}},
		{RecordingFilter{Limit: 2}, []string{"d", "c"}},
		{RecordingFilter{Since: at(time.Hour)}, []string{"d", "c", "b"}},
		{RecordingFilter{Until: at(time.Hour)}, []string{"a"}},
		{RecordingFilter{Caller: "+441"}, []string{"c", "a"}},
		{RecordingFilter{Agent: "bob"}, []string{"c", "b"}},
		{RecordingFilter{CallID: "b"}, []string{"b"}},
		{RecordingFilter{State: recordings.StateDeleted}, []string{"a"}},
		{RecordingFilter{Caller: "+441", State: recordings.StateRecording}, []string{"c"}},
	} {
		list, err := st.ListRecordings(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list {
			got = append(got, r.CallID)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
	}
}

// TestRecordingRecovery: the recordings a crash left open are listed,
// marked repaired with their files' duration (ending at start plus it),
// and no longer open.
func TestRecordingRecovery(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	open, err := st.AddRecording(ctx, rec("a", "", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	done, err := st.AddRecording(ctx, rec("b", "", "", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRecording(ctx, recordings.Record{ID: done, End: at(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	list, err := st.OpenRecordings(ctx)
	if err != nil || len(list) != 1 || list[0].ID != open {
		t.Fatalf("open %+v, %v", list, err)
	}
	if err := st.MarkRecordingRepaired(ctx, open, 42*time.Second, 1_344_044); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkRecordingRepaired(ctx, done, time.Second, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("repairing a complete recording: %v", err)
	}
	got, err := st.Recording(ctx, open)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != recordings.StateRepaired || got.Duration != 42*time.Second || !got.End.Equal(at(42*time.Second)) || got.Bytes != 1_344_044 {
		t.Fatalf("repaired %+v", got)
	}
	if list, err := st.OpenRecordings(ctx); err != nil || len(list) != 0 {
		t.Fatalf("open after repair %+v, %v", list, err)
	}
}

// TestExpiredRecordings: what ended (or, still open, started) before the
// cutoff and is not deleted, oldest first, up to the limit; deleting is
// idempotent and takes a row out of the expired.
func TestExpiredRecordings(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	add := func(id string, start, end time.Duration) int64 {
		t.Helper()
		n, err := st.AddRecording(ctx, rec(id, "", "", start))
		if err != nil {
			t.Fatal(err)
		}
		if end > 0 {
			if err := st.FinishRecording(ctx, recordings.Record{ID: n, End: at(end)}); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	a := add("a", 0, 50*time.Minute) // ended late
	b := add("b", 10*time.Minute, 0) // never ended
	c := add("c", 20*time.Minute, 30*time.Minute)
	add("d", 40*time.Minute, 2*time.Hour) // ends after the cutoff
	names := func(list []recordings.Record) []int64 {
		var out []int64
		for _, r := range list {
			out = append(out, r.ID)
		}
		return out
	}
	cutoff := at(time.Hour)
	list, err := st.ExpiredRecordings(ctx, cutoff, 0)
	if err != nil || !reflect.DeepEqual(names(list), []int64{b, c, a}) {
		t.Fatalf("expired %v, %v", names(list), err)
	}
	if list, _ := st.ExpiredRecordings(ctx, cutoff, 2); !reflect.DeepEqual(names(list), []int64{b, c}) {
		t.Fatalf("limit 2: %v", names(list))
	}
	if err := st.MarkRecordingDeleted(ctx, c, at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkRecordingDeleted(ctx, c, at(3*time.Hour)); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if err := st.MarkRecordingDeleted(ctx, 999, at(0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if got, _ := st.Recording(ctx, c); got.State != recordings.StateDeleted || !got.Deleted.Equal(at(2*time.Hour)) {
		t.Fatalf("deleted %+v", got)
	}
	if list, _ := st.ExpiredRecordings(ctx, cutoff, 0); !reflect.DeepEqual(names(list), []int64{b, a}) {
		t.Fatalf("expired after delete: %v", names(list))
	}
	// The sweeper's query uses the partial expiry index.
	var plan string
	rows, err := st.r.Query(`EXPLAIN QUERY PLAN SELECT id FROM recordings
		WHERE state <> 'deleted' AND coalesce(ended_at, started_at) < ? ORDER BY coalesce(ended_at, started_at), id`, ms(cutoff))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan += detail + "; "
	}
	rows.Close()
	if !strings.Contains(plan, "recordings_expiry") {
		t.Errorf("plan %s", plan)
	}
}
