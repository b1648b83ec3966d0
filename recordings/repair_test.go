package recordings

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// kill stops the writer's goroutine as a crash would: what it wrote
// reached the kernel, the header was not rewritten, nothing is finalised.
func (w *Writer) kill() {
	close(w.crash)
	<-w.done
}

// tone is a 1 kHz frame (whole periods, so every frame is the same).
func tone() *audio.Frame {
	var f audio.Frame
	for i := range f {
		f[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/audio.SampleRate))
	}
	return &f
}

// crashedRecording writes n frames of stereo tone, the header rewritten
// after the first `synced` of them, then kills the writer and cuts cut
// bytes off the end (a partial last write). It returns the path.
func crashedRecording(t *testing.T, dir string, n, synced int, cut int64) string {
	t.Helper()
	c := newClock(t0)
	w, err := Create(t.Context(), dir, "crashed", Options{Start: t0, Now: c.Now, HeaderInterval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := tone()
	for k := range n {
		if k == synced && synced > 0 {
			waitFor(t, "the frames before the rewrite", func() bool { return w.Stats().Frames == int64(synced) })
			c.Add(5 * time.Second)
		}
		w.WriteFrame(f, f)
	}
	waitFor(t, "every frame", func() bool { return w.Stats().Frames == int64(n) })
	w.kill()
	if want := int64(min(synced+1, n)); synced > 0 && w.Stats().Syncs != 1 {
		t.Fatalf("syncs %d (want 1, at frame %d)", w.Stats().Syncs, want)
	}
	if cut > 0 {
		st, err := os.Stat(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(w.Path(), st.Size()-cut); err != nil {
			t.Fatal(err)
		}
	}
	return w.Path()
}

// soxDuration is `sox --i -D path`, or ok false when sox is not installed.
func soxDuration(t *testing.T, path string) (d time.Duration, ok bool) {
	t.Helper()
	sox, err := exec.LookPath("sox")
	if err != nil {
		return 0, false
	}
	out, err := exec.Command(sox, "--i", "-D", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i -D %s: %v\n%s", path, err, out)
	}
	s, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("sox --i -D %s: %q", path, out)
	}
	return time.Duration(s * float64(time.Second)), true
}

// TestRepairAfterCrash: a recording whose writer died 5 s after its last
// header rewrite, its last sample frame half written: the header states
// 5 s, the file holds 10. Repair cuts the partial sample and rewrites the
// sizes from the length; the file then reads (media/audio's reader, and
// sox when installed) as the 10 s written, and a second Repair finds
// nothing to do.
func TestRepairAfterCrash(t *testing.T) {
	dir := t.TempDir()
	path := crashedRecording(t, dir, 500, 250, 3)

	before, err := audio.LoadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := before.Duration(); d > 5100*time.Millisecond {
		t.Fatalf("before repair the header should state about 5 s: %v", d)
	}

	reps, err := Repair(dir)
	if err != nil {
		t.Fatal(err)
	}
	const data = 500*640 - 4
	want := Repaired{Path: path, Declared: 251 * 640, Data: data, Cut: 1, Size: headerSize + data,
		Duration: 10*time.Second - time.Second/audio.SampleRate}
	if len(reps) != 1 || reps[0] != want {
		t.Fatalf("repaired %+v\nwant %+v", reps, want)
	}

	clip, err := audio.LoadWAV(path)
	if err != nil {
		t.Fatalf("repaired file does not parse: %v", err)
	}
	if d := clip.Duration(); clip.SourceChannels != 2 || (d-10*time.Second).Abs() > time.Second {
		t.Fatalf("repaired file: %d channels, %v; want 2, 10 s ± 1 s", clip.SourceChannels, d)
	}
	f := readRaw(t, path)
	if f.declared != data {
		t.Fatalf("header declares %d bytes, want %d", f.declared, data)
	}
	if got, want := f.sample(499, 2, 1), tone()[2]; want == 0 || got != want {
		t.Fatalf("the last whole slot's right channel: sample 2 is %d, want the tone's %d", got, want)
	}
	if d, ok := soxDuration(t, path); ok {
		if (d - 10*time.Second).Abs() > time.Second {
			t.Fatalf("sox --i -D: %v, want 10 s ± 1 s", d)
		}
		t.Logf("sox --i -D: %v", d)
	} else {
		t.Log("sox is not installed: checked with media/audio's WAV reader only")
	}

	if again, err := Repair(dir); err != nil || len(again) != 0 {
		t.Fatalf("second repair: %+v, %v", again, err)
	}
}

// TestRepairNeverRewritten: a writer that died before its first header
// rewrite left sizes of 0; Repair sets them from the length.
func TestRepairNeverRewritten(t *testing.T) {
	dir := t.TempDir()
	path := crashedRecording(t, dir, 150, 0, 0)
	reps, err := Repair(dir)
	if err != nil || len(reps) != 1 || reps[0].Declared != 0 || reps[0].Data != 150*640 || reps[0].Duration != 3*time.Second {
		t.Fatalf("repaired %+v, %v", reps, err)
	}
	if d, ok := soxDuration(t, path); ok && d != 3*time.Second {
		t.Fatalf("sox --i -D: %v", d)
	}
}

// TestRepairLeavesOthersAlone: finished recordings, a WAV with a chunk
// after its data, and files that are not WAV are not touched; a file
// that is not WAV is reported, after the crashed one is repaired; a file
// cut short of what its header states is repaired down.
func TestRepairLeavesOthersAlone(t *testing.T) {
	dir := t.TempDir()
	crashed := crashedRecording(t, dir, 100, 0, 0)

	w, err := Create(t.Context(), dir, "done", Options{Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		w.WriteFrame(tone(), nil)
	}
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	empty, err := Create(t.Context(), dir, "empty", Options{Start: t0, Format: Mono})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Close(); err != nil {
		t.Fatal(err)
	}

	// A WAV from elsewhere: data, then a LIST chunk.
	h := wavHeader(1, 320)
	tail := append([]byte("LIST"), 4, 0, 0, 0, 'I', 'N', 'F', 'O')
	foreign := append(append(h[:], make([]byte, 320)...), tail...)
	binary := filepath.Join(dir, "foreign.wav")
	junk := filepath.Join(dir, "junk.wav")
	other := filepath.Join(dir, "notes.txt")
	for p, b := range map[string][]byte{binary: foreign, junk: []byte("not a wav"), other: []byte("x")} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keep := map[string][]byte{}
	for _, p := range []string{res.Path, empty.Path(), binary, junk, other} {
		keep[p], _ = os.ReadFile(p)
	}

	reps, err := Repair(dir)
	if !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), "junk.wav") {
		t.Fatalf("err %v, want ErrBadFile naming junk.wav", err)
	}
	if len(reps) != 1 || reps[0].Path != crashed {
		t.Fatalf("repaired %+v", reps)
	}
	for p, b := range keep {
		if now, _ := os.ReadFile(p); !bytes.Equal(now, b) {
			t.Errorf("%s changed", p)
		}
	}

	// Cut a finished recording short (a lost tail): repaired down.
	if err := os.Truncate(res.Path, headerSize+20*640+2); err != nil {
		t.Fatal(err)
	}
	rep, fixed, err := RepairFile(res.Path)
	if err != nil || !fixed || rep.Declared != 50*640 || rep.Data != 20*640 || rep.Cut != 2 {
		t.Fatalf("repaired %+v %v %v", rep, fixed, err)
	}

	if reps, err := Repair(filepath.Join(dir, "missing")); err != nil || reps != nil {
		t.Fatalf("missing dir: %v %v", reps, err)
	}
}

// FuzzRepairFile: any file named .wav, however broken, is refused with
// ErrBadFile or repaired into a file whose header agrees with its length
// (a second repair finds nothing to do); RepairFile never panics.
func FuzzRepairFile(f *testing.F) {
	h := wavHeader(2, 0)
	f.Add(h[:])
	f.Add(append(h[:], make([]byte, 643)...))
	h1 := wavHeader(1, 320)
	f.Add(append(append(h1[:], make([]byte, 320)...), "LIST\x04\x00\x00\x00INFO"...))
	f.Add(h[:30])
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEjunk\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "f.wav")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, fixed, err := RepairFile(path)
		if err != nil {
			if !errors.Is(err, ErrBadFile) {
				t.Fatalf("error %v does not wrap ErrBadFile", err)
			}
			return
		}
		st, _ := os.Stat(path)
		if fixed && rep.Size != st.Size() {
			t.Fatalf("repaired to %d bytes, file has %d", rep.Size, st.Size())
		}
		if _, again, err := RepairFile(path); err != nil || again {
			t.Fatalf("second repair: fixed %v, %v", again, err)
		}
	})
}
