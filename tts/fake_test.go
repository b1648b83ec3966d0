package tts

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// fakeEngine is a Synthesizer for tests: it counts calls, records the
// last request, can block until released or fail, and renders a tone
// whose length and pitch follow the text.
type fakeEngine struct {
	name   string
	langs  []string // base languages it supports
	voices []string // voices it knows; nil: any (no HasVoice)
	fail   error
	gate   chan struct{} // if set, Synthesize waits for it (or ctx)

	calls atomic.Int32
	mu    sync.Mutex
	last  Request
}

var _ Synthesizer = (*fakeEngine)(nil)

func (f *fakeEngine) Name() string { return f.name }

func (f *fakeEngine) Supports(lang string) bool {
	return slices.Contains(f.langs, baseLanguage(CanonicalLanguage(lang)))
}

func (f *fakeEngine) Synthesize(ctx context.Context, r Request) (*audio.Clip, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.last = r
	f.mu.Unlock()
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, fmt.Errorf("fake: %w", ctx.Err())
		}
	}
	if f.fail != nil {
		return nil, f.fail
	}
	return toneClip(r.Text+"|"+r.Voice, 16000), nil
}

func (f *fakeEngine) lastRequest() Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// voiceFake is a fakeEngine that knows its voices.
type voiceFake struct{ *fakeEngine }

func (v voiceFake) HasVoice(voice string) bool { return slices.Contains(v.voices, voice) }

// toneClip renders s as a tone: 100 ms per byte at a pitch from its
// bytes, so different inputs give different audio.
func toneClip(s string, sourceRate int) *audio.Clip {
	var sum int
	for _, b := range []byte(s) {
		sum += int(b)
	}
	freq := 300 + float64(sum%1000)
	samples := make([]int16, len(s)*audio.SampleRate/10)
	for i := range samples {
		samples[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/audio.SampleRate))
	}
	return &audio.Clip{Samples: samples, SourceRate: sourceRate, SourceChannels: 1}
}

// wavBytes returns samples as a WAV file (8 kHz mono 16-bit) written by
// audio.WriteWAV.
func wavBytes(t *testing.T, samples []int16) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.wav")
	if err := audio.WriteWAV(path, audio.SampleRate, 1, samples); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
