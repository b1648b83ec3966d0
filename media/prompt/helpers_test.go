package prompt

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// writeWAV writes a 16-bit PCM WAV file of 8 kHz mono samples.
func writeWAV(t testing.TB, path string, samples []int16) {
	t.Helper()
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*len(samples)))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))                    // PCM
	le(uint16(1))                    // mono
	le(uint32(audio.SampleRate))     // rate
	le(uint32(2 * audio.SampleRate)) // byte rate
	le(uint16(2))                    // block align
	le(uint16(16))                   // bits
	b.WriteString("data")
	le(uint32(2 * len(samples)))
	le(samples)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// constant returns n samples of value v.
func constant(n int, v int16) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// ramp returns n distinct samples starting at from.
func ramp(n int, from int16) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = from + int16(i)
	}
	return s
}

// wavFile writes samples to name in dir and returns the path.
func wavFile(t testing.TB, dir, name string, samples []int16) string {
	t.Helper()
	p := filepath.Join(dir, name)
	writeWAV(t, p, samples)
	return p
}

// fakeSpeaker is a Speaker that returns a fixed clip and counts calls.
type fakeSpeaker struct {
	mu    sync.Mutex
	calls []string
	clip  *audio.Clip
	err   error
}

var _ Speaker = (*fakeSpeaker)(nil)

func (f *fakeSpeaker) Speak(_ context.Context, text, lang, voice string) (*audio.Clip, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, text+"|"+lang+"|"+voice)
	return f.clip, f.err
}

func (f *fakeSpeaker) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// toneDBm0 returns the level of the component at freq in a frame.
func toneDBm0(f *audio.Frame, freq float64) float64 {
	return audio.PowerDBm0(audio.Goertzel(f[:], freq))
}

// isSilent reports whether a frame is all zero.
func isSilent(f *audio.Frame) bool {
	return *f == audio.Frame{}
}

// frameOf returns frame i of samples, zero-padded.
func frameOf(samples []int16, i int) audio.Frame {
	var f audio.Frame
	if i*audio.FrameSamples < len(samples) {
		copy(f[:], samples[i*audio.FrameSamples:])
	}
	return f
}

// result waits for the Result on ch.
func result(t *testing.T, ch <-chan Result) Result {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("Done closed without a Result")
		}
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no Result")
	}
	return Result{}
}

// noResult fails if ch has a Result already.
func noResult(t *testing.T, ch <-chan Result) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("unexpected Result %+v", r)
	default:
	}
}

// logCounter is a slog handler counting messages.
type logCounter struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCounter) WithGroup(string) slog.Handler            { return l }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

func (l *logCounter) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.EqualFold(m, msg) {
			n++
		}
	}
	return n
}

// sine returns n samples of a sine of freq at amplitude amp.
func sine(n int, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/audio.SampleRate))
	}
	return s
}
