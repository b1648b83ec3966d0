package prompt

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// label names the file a music frame comes from by its constant sample
// value: 'a' for 1000, 'b' for 2000 and so on, '-' for silence.
func label(t *testing.T, f *audio.Frame) byte {
	t.Helper()
	if isSilent(f) {
		return '-'
	}
	v := f[0]
	for _, s := range f {
		if s != v {
			t.Fatalf("mixed frame %v…", f[:4])
		}
	}
	return byte('a' + v/1000 - 1)
}

// TestMOHLoopsAndRescans plays a folder of two files round after round and
// picks up a third file added later, without a gap between files.
func TestMOHLoopsAndRescans(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		wavFile(t, dir, "a.wav", constant(3*audio.FrameSamples, 1000))
		wavFile(t, dir, "b.wav", constant(2*audio.FrameSamples, 2000))
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not music"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := NewPlayer(Config{})
		defer p.Stop()
		if err := p.StartMOH(dir); err != nil {
			t.Fatal(err)
		}
		play := func(n int) string {
			var f audio.Frame
			got := make([]byte, n)
			for i := range got {
				synctest.Wait() // the loader has the next file ready
				if !p.Next(&f) {
					t.Fatal("music stopped")
				}
				got[i] = label(t, &f)
			}
			return string(got)
		}
		if got, want := play(15), "aaabbaaabbaaabb"; got != want {
			t.Fatalf("played %q, want %q", got, want)
		}
		wavFile(t, dir, "c.wav", constant(audio.FrameSamples, 3000))
		// The round listed before c appeared (while the last b played)
		// finishes first.
		got := play(5 + 6 + 5)
		if want := "aaabbaaabbcaaabb"; got != want {
			t.Fatalf("after adding c, played %q, want %q", got, want)
		}
		done := p.Done()
		p.Stop()
		if r := <-done; r.Completed || r.Played != 31*audio.FrameDuration {
			t.Fatalf("Result = %+v", r)
		}
	})
}

// TestMOHEmptyFolder plays the fallback tone, logs once, and switches to
// music when a file appears.
func TestMOHEmptyFolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		wavFile(t, dir, ".hidden.wav", constant(audio.FrameSamples, 1000))
		if err := os.WriteFile(filepath.Join(dir, "broken.wav"), []byte("RIFF junk"), 0o644); err != nil {
			t.Fatal(err)
		}
		logs := &logCounter{}
		p := NewPlayer(Config{Logger: slog.New(logs), MOHRetry: time.Second})
		defer p.Stop()
		if err := p.StartMOH(dir); err != nil {
			t.Fatal(err)
		}
		var f audio.Frame
		for i := range 10 { // the default fallback: 200 ms of 440 Hz
			p.Next(&f)
			if lvl := toneDBm0(&f, 440); lvl < -27 || lvl > -22 {
				t.Fatalf("frame %d: 440 Hz at %.1f dBm0", i, lvl)
			}
		}
		p.Next(&f)
		if !isSilent(&f) {
			t.Fatal("fallback beep longer than 200 ms")
		}
		time.Sleep(5 * time.Second) // five more listings
		synctest.Wait()
		if n := logs.count("moh_no_playable_file"); n != 1 {
			t.Fatalf("logged no_playable_file %d times", n)
		}
		if n := logs.count("moh_file_skipped"); n != 1 {
			t.Fatalf("logged file_skipped %d times", n)
		}
		wavFile(t, dir, "b.wav", constant(2*audio.FrameSamples, 2000))
		time.Sleep(time.Second)
		synctest.Wait()
		for i := range 4 {
			synctest.Wait()
			p.Next(&f)
			if got := label(t, &f); got != 'b' {
				t.Fatalf("frame %d after adding a file: %c", i, got)
			}
		}
	})
}

// TestMOHShuffle plays every file once per round in random order.
func TestMOHShuffle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		for i, name := range []string{"a.wav", "b.WAV", "c.wav"} {
			wavFile(t, dir, name, constant(audio.FrameSamples, int16(1000*(i+1))))
		}
		p := NewPlayer(Config{MOHShuffle: true})
		defer p.Stop()
		if err := p.StartMOH(dir); err != nil {
			t.Fatal(err)
		}
		orders := map[string]bool{}
		var f audio.Frame
		for range 50 {
			var round []byte
			for range 3 {
				synctest.Wait()
				p.Next(&f)
				round = append(round, label(t, &f))
			}
			seen := map[byte]bool{round[0]: true, round[1]: true, round[2]: true}
			if len(seen) != 3 || !seen['a'] || !seen['b'] || !seen['c'] {
				t.Fatalf("round %q is not a permutation of abc", round)
			}
			orders[string(round)] = true
		}
		if len(orders) < 2 {
			t.Fatalf("50 rounds, all in order %v", orders)
		}
	})
}

// TestMOHUnreadable refuses a folder that cannot be listed (a file), and
// plays the fallback for one that does not exist.
func TestMOHUnreadable(t *testing.T) {
	p := NewPlayer(Config{})
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.StartMOH(filepath.Join(t.TempDir(), "missing")); err != nil || !p.Playing() {
		t.Fatalf("StartMOH of a missing folder = %v, playing %v; want the fallback", err, p.Playing())
	}
	p.Stop()
	if err := p.StartMOH(file); !errors.Is(err, ErrMOH) {
		t.Fatalf("StartMOH = %v", err)
	}
	if p.Playing() {
		t.Fatal("playing after a failed StartMOH")
	}
}

// TestMOHReplacedByPrompt ends the music (and its loader) when a prompt
// starts.
func TestMOHReplacedByPrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		wavFile(t, dir, "a.wav", constant(audio.FrameSamples, 1000))
		p := NewPlayer(Config{})
		if err := p.StartMOH(dir); err != nil {
			t.Fatal(err)
		}
		moh := p.Done()
		var f audio.Frame
		p.Next(&f)
		if err := p.Start(t.Context(), Prompt{Items: []Item{{Silence: 20 * time.Millisecond}}}); err != nil {
			t.Fatal(err)
		}
		if r := <-moh; r.Completed || !errors.Is(r.Err, ErrReplaced) || r.Played != audio.FrameDuration {
			t.Fatalf("music Result = %+v", r)
		}
		p.Next(&f)
		if r := <-p.Done(); !r.Completed {
			t.Fatalf("prompt Result = %+v", r)
		}
		// synctest.Test fails if the loader goroutine is still running.
	})
}
