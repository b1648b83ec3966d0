package recordings

import (
	"encoding/binary"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

var t0 = time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)

// clock is a settable clock; block makes Now wait (stalling the writer's
// goroutine as a slow disk would) until unblock.
type clock struct {
	mu      sync.Mutex
	t       time.Time
	gate    chan struct{} // non-nil: Now waits for it to close
	waiting chan struct{} // signalled when Now starts waiting
}

func newClock(t time.Time) *clock { return &clock{t: t, waiting: make(chan struct{}, 1)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	g := c.gate
	c.mu.Unlock()
	if g != nil {
		select {
		case c.waiting <- struct{}{}:
		default:
		}
		<-g
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) block() {
	c.mu.Lock()
	c.gate = make(chan struct{})
	c.mu.Unlock()
}

func (c *clock) unblock() {
	c.mu.Lock()
	close(c.gate)
	c.gate = nil
	c.mu.Unlock()
}

// marked is a frame whose samples all hold v.
func marked(v int16) *audio.Frame {
	var f audio.Frame
	for i := range f {
		f[i] = v
	}
	return &f
}

// wavFile is a recording read back raw.
type wavFile struct {
	channels int
	declared int64 // data size in the header
	samples  []int16
}

// slot returns the first sample of slot k in channel ch.
func (w *wavFile) slot(k, ch int) int16 {
	return w.samples[k*audio.FrameSamples*w.channels+ch]
}

// sample returns sample i of slot k in channel ch.
func (w *wavFile) sample(k, i, ch int) int16 {
	return w.samples[(k*audio.FrameSamples+i)*w.channels+ch]
}

// frames is the number of whole slots in the file.
func (w *wavFile) frames() int { return len(w.samples) / (audio.FrameSamples * w.channels) }

func readRaw(t testing.TB, path string) *wavFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < headerSize || string(b[0:4]) != "RIFF" || string(b[36:40]) != "data" {
		t.Fatalf("%s: not a canonical WAV header: % x", path, b[:min(len(b), headerSize)])
	}
	le := binary.LittleEndian
	w := &wavFile{channels: int(le.Uint16(b[22:24])), declared: int64(le.Uint32(b[40:44]))}
	if rate := le.Uint32(b[24:28]); rate != audio.SampleRate || le.Uint16(b[34:36]) != 16 {
		t.Fatalf("%s: %d Hz, %d bits", path, rate, le.Uint16(b[34:36]))
	}
	for i := headerSize; i+1 < len(b); i += 2 {
		w.samples = append(w.samples, int16(le.Uint16(b[i:])))
	}
	return w
}

// checkGoroutines fails if the goroutine count does not return to before
// within a second.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
