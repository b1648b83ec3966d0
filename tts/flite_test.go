//go:build flite

package tts

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

func newFlite(tb testing.TB) Synthesizer {
	tb.Helper()
	f, err := NewFlite()
	if err != nil {
		tb.Fatalf("NewFlite: %v (Debian packages flite1-dev to build, libflite1 to run)", err)
	}
	return f
}

func TestFliteEnglish(t *testing.T) {
	f := newFlite(t)
	if f.Name() != FliteName || !f.Supports("en-US") || !f.Supports("en") || f.Supports("de") || f.Supports("zh") {
		t.Errorf("Name %q / Supports wrong", f.Name())
	}
	start := time.Now()
	clip, err := f.Synthesize(t.Context(), Request{Text: englishPrompt, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rendered in %v", time.Since(start))
	lo, hi := perWord(englishPrompt)
	checkSpeech(t, clip, 8000, lo, hi) // kal is natively 8 kHz: no resampling
}

// TestFliteVoices renders with each linked voice; all but kal are 16 kHz
// and resampled.
func TestFliteVoices(t *testing.T) {
	f := newFlite(t)
	for voice, rate := range map[string]int{"kal": 8000, "kal16": 16000, "slt": 16000, "rms": 16000, "awb": 16000} {
		t.Run(voice, func(t *testing.T) {
			clip, err := f.Synthesize(t.Context(), Request{Text: benchPrompt, Language: "en", Voice: voice})
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := perWord(benchPrompt)
			checkSpeech(t, clip, rate, lo, hi)
		})
	}
	if _, err := f.Synthesize(t.Context(), Request{Text: "hi", Voice: "en-us"}); !errors.Is(err, ErrUnknownVoice) {
		t.Errorf("espeak voice: err = %v, want ErrUnknownVoice", err)
	}
	if _, err := f.Synthesize(t.Context(), Request{Text: "Hallo", Language: "de"}); !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("German: err = %v, want ErrUnsupportedLanguage", err)
	}
	if _, err := f.Synthesize(t.Context(), Request{Text: " "}); !errors.Is(err, ErrEmptyText) {
		t.Errorf("empty: err = %v, want ErrEmptyText", err)
	}
	// Text flite has no words for still returns, without crashing.
	for _, text := range []string{mandarinPrompt, "\x01\x02", "!!!", "1234567890123456789012345678901234567890"} {
		if _, err := f.Synthesize(t.Context(), Request{Text: text}); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// TestFliteMatchesBinary compares the in-process rendering with Debian's
// flite program using the same voice: the samples must be identical.
func TestFliteMatchesBinary(t *testing.T) {
	bin, err := exec.LookPath("flite")
	if err != nil {
		t.Fatalf("flite program not installed (%v): install the Debian package flite", err)
	}
	out := filepath.Join(t.TempDir(), "kal.wav")
	if b, err := exec.Command(bin, "-voice", "kal", "-t", benchPrompt, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", bin, err, b)
	}
	want, err := audio.LoadWAV(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newFlite(t).Synthesize(t.Context(), Request{Text: benchPrompt})
	if err != nil {
		t.Fatal(err)
	}
	if want.SourceRate != 8000 || !slices.Equal(got.Samples, want.Samples) {
		t.Errorf("in-process %d samples, flite program %d samples at %d Hz: differ", len(got.Samples), len(want.Samples), want.SourceRate)
	}
	_ = os.Remove(out)
}

// TestFliteConcurrent renders from many goroutines at once (run with
// -race): libflite is serialised, results are the same as serial ones.
func TestFliteConcurrent(t *testing.T) {
	f := newFlite(t)
	texts := []string{benchPrompt, englishPrompt, "Goodbye."}
	want := make(map[string][]int16)
	for _, text := range texts {
		c, err := f.Synthesize(t.Context(), Request{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		want[text] = c.Samples
	}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			text := texts[i%len(texts)]
			voice := []string{"kal", "slt"}[i%2]
			c, err := f.Synthesize(t.Context(), Request{Text: text, Voice: voice})
			if err != nil {
				t.Error(err)
				return
			}
			if voice == "kal" && !slices.Equal(c.Samples, want[text]) {
				t.Errorf("%q rendered concurrently differs", text)
			}
		})
	}
	wg.Wait()
}

// TestFliteWaitHonoursContext: a request waiting for the engine gives up
// when its context ends.
func TestFliteWaitHonoursContext(t *testing.T) {
	f := newFlite(t)
	fliteLock <- struct{}{} // as if another render were running
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := f.Synthesize(ctx, Request{Text: "hello"})
	<-fliteLock
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}

// TestRouterPrefersFlite: with flite built in, English goes to flite
// unless the voice asks for espeak-ng.
func TestRouterPrefersFlite(t *testing.T) {
	requireEspeak(t)
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Engines(); !slices.Equal(got, []string{FliteName, EspeakName}) {
		t.Fatalf("engines %v", got)
	}
	for voice, rate := range map[string]int{"": 8000, "slt": 16000, "espeak": 22050, "espeak-ng:en-us": 22050, "en-gb-x-rp": 22050} {
		c, err := r.Synthesize(t.Context(), Request{Text: benchPrompt, Language: "en-US", Voice: voice})
		if err != nil {
			t.Fatalf("voice %q: %v", voice, err)
		}
		if c.SourceRate != rate {
			t.Errorf("voice %q: source %d Hz, want %d (wrong engine)", voice, c.SourceRate, rate)
		}
	}
}

func BenchmarkFlite(b *testing.B) {
	benchSynth(b, newFlite(b), Request{Text: benchPrompt, Language: "en"})
}

func BenchmarkFliteSlt(b *testing.B) {
	benchSynth(b, newFlite(b), Request{Text: benchPrompt, Language: "en", Voice: "slt"})
}
