package recordings_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/recordings"
)

// These tests run the sweeper and start-up recovery against the real
// index (internal/store on a SQLite file).

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "switchd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// record writes a finished recording of n frames of call id started at
// start into dir, and indexes it (finished unless open).
func record(t *testing.T, st *store.Store, dir, id string, start time.Time, n int, open bool) recordings.Record {
	t.Helper()
	w, err := recordings.Create(t.Context(), dir, id, recordings.Options{Start: start})
	if err != nil {
		t.Fatal(err)
	}
	var f audio.Frame
	f[0] = 1000
	for range n {
		w.WriteFrame(&f, &f)
	}
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := recordings.Record{CallID: id, Caller: "+441", Path: w.Path(), Format: w.Format(), Start: start}
	if r.ID, err = st.AddRecording(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if !open {
		r.Finish(res)
		r.End = start.Add(res.Duration)
		if err := st.FinishRecording(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func appendBytes(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
}

// TestRecover: at start-up every recording the index still has open is
// closed: repaired from its file's length when a crash left its header
// stale, marked repaired with its duration when the header happened to be
// right, given a fresh header when the crash came before the header
// reached the disk, marked deleted when its file is gone. Finished ones
// are left as they are, and a stale file the index does not know is
// repaired too.
func TestRecover(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	dir := t.TempDir()
	start := time.Now().Add(-time.Hour)
	stale := record(t, st, dir, "stale", start, 50, true)
	appendBytes(t, stale.Path, 50*640+3) // 1 s more than the header says, a partial sample
	right := record(t, st, dir, "right", start, 100, true)
	gone := record(t, st, dir, "gone", start, 10, true)
	os.Remove(gone.Path)
	empty := record(t, st, dir, "empty", start, 10, true)
	os.WriteFile(empty.Path, []byte("RIFF"), 0o640)
	done := record(t, st, dir, "done", start, 10, false)
	orphan := record(t, st, dir, "orphan", start, 10, false)
	appendBytes(t, orphan.Path, 640)

	now := time.Now()
	reps, err := recordings.Recover(ctx, st, dir, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 {
		t.Fatalf("repaired %+v", reps)
	}
	for _, c := range []struct {
		r     recordings.Record
		state recordings.State
		dur   time.Duration
		bytes int64
	}{
		{stale, recordings.StateRepaired, 2 * time.Second, 44 + 100*640},
		{right, recordings.StateRepaired, 2 * time.Second, 44 + 100*640},
		{gone, recordings.StateDeleted, 0, 0},
		{empty, recordings.StateRepaired, 0, 44},
		{done, recordings.StateComplete, 200 * time.Millisecond, 44 + 10*640},
	} {
		got, err := st.Recording(ctx, c.r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != c.state || got.Duration != c.dur || got.Bytes != c.bytes {
			t.Errorf("%s: %s %v %d; want %s %v %d", c.r.CallID, got.State, got.Duration, got.Bytes, c.state, c.dur, c.bytes)
		}
	}
	if clip, err := audio.LoadWAV(stale.Path); err != nil || clip.Duration() != 2*time.Second {
		t.Fatalf("repaired file: %v", err)
	}
	if clip, err := audio.LoadWAV(empty.Path); err != nil || clip.Duration() != 0 {
		t.Fatalf("file given a header: %v", err)
	}
	if open, _ := st.OpenRecordings(ctx); len(open) != 0 {
		t.Fatalf("still open: %+v", open)
	}
}

// TestSweeper: one sweep deletes the files of the recordings that ended
// more than the retention ago and marks their rows deleted (a file
// already gone too), deletes stray WAV files of day directories past the
// retention and the directories left empty; newer recordings and
// directories that are not dates stay. A second sweep finds nothing; a
// retention of 0 keeps everything.
func TestSweeper(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.Local)
	old := now.AddDate(0, 0, -40)
	a := record(t, st, dir, "old-a", old, 10, false)
	b := record(t, st, dir, "old-b", old.Add(time.Hour), 10, false)
	os.Remove(b.Path)
	recent := record(t, st, dir, "recent", now.AddDate(0, 0, -1), 10, false)
	stray := filepath.Join(filepath.Dir(a.Path), "stray.wav")
	keepDir := filepath.Join(dir, "imports")
	keep := filepath.Join(keepDir, "old.wav")
	os.MkdirAll(keepDir, 0o750)
	for _, p := range []string{stray, keep} {
		if err := os.WriteFile(p, make([]byte, 100), 0o640); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	os.Chtimes(a.Path, old, old)

	if res, err := (&recordings.Sweeper{Store: st, Dir: dir}).SweepOnce(ctx, now); err != nil || res != (recordings.SweepResult{}) {
		t.Fatalf("retention 0: %+v, %v", res, err)
	}
	s := &recordings.Sweeper{Store: st, Dir: dir, RetentionDays: 30}
	res, err := s.SweepOnce(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := (recordings.SweepResult{Deleted: 2, Orphans: 1, Bytes: a.Bytes + b.Bytes + 100}); res != want {
		// a's and b's Bytes are set by record from their results.
		t.Fatalf("sweep %+v, want %+v", res, want)
	}
	for _, r := range []recordings.Record{a, b} {
		got, err := st.Recording(ctx, r.ID)
		if err != nil || got.State != recordings.StateDeleted || !got.Deleted.Equal(now.Truncate(time.Millisecond)) {
			t.Fatalf("%s: %+v, %v", r.CallID, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, old.Format("2006"), old.Format("01"))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old month directory: %v", err)
	}
	for _, p := range []string{recent.Path, keep} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if got, _ := st.Recording(ctx, recent.ID); got.State != recordings.StateComplete {
		t.Fatalf("recent: %s", got.State)
	}
	if res, err := s.SweepOnce(ctx, now); err != nil || res != (recordings.SweepResult{}) {
		t.Fatalf("second sweep %+v, %v", res, err)
	}
}

// TestSweeperRun: Run sweeps at once, then waits for the next interval
// until its context ends.
func TestSweeperRun(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	old := time.Now().AddDate(0, 0, -10)
	a := record(t, st, dir, "a", old, 1, false)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- (&recordings.Sweeper{Store: st, Dir: dir, RetentionDays: 7}).Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(a.Path); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first sweep did not delete the expired recording")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
