package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/recordings"
)

// recordingsFixture writes a config whose data_dir holds recordings and
// their index: call-1 (alice, paused once), call-2 recorded twice, call-3
// deleted by retention, call-4 still recording. It returns the config
// and the indexed records by call ID (call-2's newest).
func recordingsFixture(t *testing.T) (string, map[string]recordings.Record) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchd.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "switchd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	recDir := filepath.Join(dir, "recordings")
	t0 := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	out := map[string]recordings.Record{}
	add := func(callID, caller, agent string, start time.Time, frames int, finish bool) recordings.Record {
		w, err := recordings.Create(ctx, recDir, callID, recordings.Options{Start: start})
		if err != nil {
			t.Fatal(err)
		}
		var f audio.Frame
		f[0] = int16(frames)
		for range frames {
			w.WriteFrame(&f, nil)
		}
		r := recordings.Record{CallID: callID, Queue: "sales", Caller: caller, Callee: "+862155550100",
			Path: w.Path(), Format: w.Format(), Start: start}
		if r.ID, err = st.AddRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		res, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if finish {
			r.Agent = agent
			r.Finish(res)
			if callID == "call-1" {
				r.Paused = []recordings.Interval{{Start: 500 * time.Millisecond, End: 1500 * time.Millisecond}}
			}
			if err := st.FinishRecording(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		out[callID] = r
		return r
	}
	add("call-1", "+442071234567", "alice", t0, 150, true)
	add("call-2", "+15550100", "bob", t0.Add(10*time.Minute), 50, true)
	add("call-2", "+15550100", "carol", t0.Add(20*time.Minute), 100, true)
	del := add("call-3", "+15550101", "bob", t0.Add(30*time.Minute), 10, true)
	os.Remove(del.Path)
	if err := st.MarkRecordingDeleted(ctx, del.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// call-4 is in progress: its header lags, its last sample half written.
	live := add("call-4", "+15550102", "", t0.Add(90*time.Minute), 25, false)
	f, err := os.OpenFile(live.Path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 640*25+3))
	f.Close()
	return cfg, out
}

func TestRecordingsList(t *testing.T) {
	cfg, recs := recordingsFixture(t)
	out, err := run(t, "-c", cfg, "recordings", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "START") {
		t.Fatalf("table:\n%s", out)
	}
	for i, want := range [][]string{
		{"call-4", "recording", "+15550102"},
		{"call-3", "deleted", "bob"},
		{"call-2", "2s", "carol", "complete"},
		{"call-2", "1s", "bob"},
		{"call-1", "3s", "alice", "stereo", "1s (1)", "+442071234567"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("row %d lacks %q: %s", i+1, w, lines[i+1])
			}
		}
	}

	out, err = run(t, "-c", cfg, "recordings", "list", "--json", "--agent", "alice")
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("JSON %s: %v", out, err)
	}
	r := got[0]
	if r["call_id"] != "call-1" || r["format"] != "stereo" || r["state"] != "complete" || r["duration_ms"] != 3000.0 ||
		r["path"] != recs["call-1"].Path || r["bytes"] != float64(44+150*640) {
		t.Fatalf("JSON %v", r)
	}
	if p, _ := json.Marshal(r["paused"]); string(p) != "[[500,1500]]" {
		t.Fatalf("paused %s", p)
	}

	for args, want := range map[string][]string{
		"--call-id call-2":      {"call-2", "call-2"},
		"--caller +15550101":    {"call-3"},
		"--since 95m":           {"call-4", "call-3"},
		"--until 115m":          {"call-1"},
		"--state repaired":      nil,
		"--state recording":     {"call-4"},
		"--agent bob -n 1":      {"call-3"},
		"--agent bob --limit 5": {"call-3", "call-2"},
	} {
		out, err := run(t, append([]string{"-c", cfg, "recordings", "list", "--json"}, strings.Fields(args)...)...)
		if err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		var list []recordingJSON
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		var ids []string
		for _, r := range list {
			ids = append(ids, r.CallID)
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("%s: %v, want %v", args, ids, want)
		}
	}
	for _, args := range [][]string{{"--since", "bogus"}, {"--limit", "0"}, {"--state", "lost"}} {
		if _, err := run(t, append([]string{"-c", cfg, "recordings", "list"}, args...)...); err == nil {
			t.Errorf("recordings list %v accepted", args)
		}
	}
}

func TestRecordingsExport(t *testing.T) {
	cfg, recs := recordingsFixture(t)
	dst := filepath.Join(t.TempDir(), "out.wav")
	out, err := run(t, "-c", cfg, "recordings", "export", "call-1", "-o", dst)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, dst) || !strings.Contains(out, "3s") {
		t.Fatalf("output %q", out)
	}
	src, _ := os.ReadFile(recs["call-1"].Path)
	if b, err := os.ReadFile(dst); err != nil || !bytes.Equal(b, src) {
		t.Fatalf("copy differs: %v", err)
	}
	if clip, err := audio.LoadWAV(dst); err != nil || clip.Duration() != 3*time.Second || clip.SourceChannels != 2 {
		t.Fatalf("exported WAV: %v", err)
	}

	// Stdout.
	if out, err = run(t, "-c", cfg, "recordings", "export", "call-1", "-o", "-"); err != nil || out != string(src) {
		t.Fatalf("stdout export: %d bytes, %v", len(out), err)
	}

	// Two recordings: --id chooses.
	if _, err := run(t, "-c", cfg, "recordings", "export", "call-2", "-o", dst); err == nil || !strings.Contains(err.Error(), "--id") {
		t.Fatalf("ambiguous export: %v", err)
	}
	id := recs["call-2"].ID
	if _, err := run(t, "-c", cfg, "recordings", "export", "call-2", "--id", strconv.FormatInt(id, 10), "-o", dst); err != nil {
		t.Fatal(err)
	}
	if clip, err := audio.LoadWAV(dst); err != nil || clip.Duration() != 2*time.Second {
		t.Fatalf("call-2 --id %d: %v", id, err)
	}

	// In progress: the copy's header matches the copy; the source is untouched.
	before, _ := os.ReadFile(recs["call-4"].Path)
	if _, err := run(t, "-c", cfg, "recordings", "export", "call-4", "-o", dst); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(dst)
	if len(b) != 44+50*640 || binary.LittleEndian.Uint32(b[40:]) != 50*640 {
		t.Fatalf("in-progress copy: %d bytes, header %d", len(b), binary.LittleEndian.Uint32(b[40:]))
	}
	if after, _ := os.ReadFile(recs["call-4"].Path); !bytes.Equal(after, before) {
		t.Fatal("export changed the recording")
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"call-3", "-o", dst}, "deleted"},
		{[]string{"call-9", "-o", dst}, "no recording"},
		{[]string{"call-2", "--id", "999", "-o", dst}, "no recording 999"},
		{[]string{"call-1"}, "output"},
	} {
		_, err := run(t, append([]string{"-c", cfg, "recordings", "export"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("export %v: %v, want %q", c.args, err, c.want)
		}
		if c.want != "output" && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("export %v: %v is not ErrNotFound", c.args, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(dst)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}
