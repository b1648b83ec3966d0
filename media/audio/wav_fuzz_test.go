package audio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// FuzzReadWAV checks that ReadWAV never panics, that every error wraps
// ErrBadWAV, that a clip is consistent, and that memory follows the
// input's real length, not the sizes its header claims. The seed corpus
// is the golden inputs of testdata/wav.
func FuzzReadWAV(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(wavDir, "*.wav"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := ReadWAV(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		// Input buffers, the decoded output (at most 8 samples per input
		// byte, from MinWAVRate) with append's slack, and the largest
		// resampling filter.
		limit := uint64(64*len(data)) + 4*maxFilterTaps + 1<<20
		if n := after.TotalAlloc - before.TotalAlloc; n > limit {
			t.Fatalf("ReadWAV of %d bytes allocated %d bytes", len(data), n)
		}
		if err != nil {
			if c != nil || !errors.Is(err, ErrBadWAV) {
				t.Fatalf("ReadWAV = %v, %v", c, err)
			}
			return
		}
		if c.SourceRate < MinWAVRate || c.SourceRate > MaxWAVRate || c.SourceChannels < 1 || c.SourceChannels > 2 {
			t.Fatalf("clip from %d Hz, %d channels", c.SourceRate, c.SourceChannels)
		}
		if len(c.Samples) > len(data)*SampleRate/MinWAVRate {
			t.Fatalf("%d samples from %d bytes", len(c.Samples), len(data))
		}
		var fr Frame
		for i := range c.Frames() {
			c.Frame(i, &fr)
		}
	})
}
