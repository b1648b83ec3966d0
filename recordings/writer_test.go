package recordings

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// openTest creates a writer in a temporary directory on clock c.
func openTest(t *testing.T, c *clock, o Options) *Writer {
	t.Helper()
	o.Now = c.Now
	if o.Start.IsZero() {
		o.Start = t0
	}
	w, err := Create(t.Context(), t.TempDir(), "call-1", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestWriterStereo: the file is where it belongs, 8 kHz 16-bit stereo,
// left and right interleaved per slot, a missing side silent, and the
// result counts what was written.
func TestWriterStereo(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	c := newClock(t0)
	w, err := Create(t.Context(), dir, "0196a1b2-7000.x_y", Options{Start: t0, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "2025", "05", "01", "0196a1b2-7000.x_y.wav"); w.Path() != want {
		t.Fatalf("path %s, want %s", w.Path(), want)
	}
	const n = 100
	for k := range n {
		var l, r *audio.Frame
		if k%10 != 3 {
			l = marked(int16(k + 1))
		}
		if k%10 != 7 {
			r = marked(int16(-k - 1))
		}
		if !w.WriteFrame(l, r) {
			t.Fatalf("frame %d refused", k)
		}
	}
	c.Add(3 * time.Second)
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Path: w.Path(), Format: Stereo, Start: t0, End: t0.Add(3 * time.Second), Duration: 2 * time.Second,
		Bytes: headerSize + n*640, Frames: n, Paused: []Interval{}}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("result\n got %+v\nwant %+v", res, want)
	}
	f := readRaw(t, w.Path())
	if f.channels != 2 || f.declared != n*640 || f.frames() != n {
		t.Fatalf("channels %d, declared %d, frames %d", f.channels, f.declared, f.frames())
	}
	for k := range n {
		wl, wr := int16(k+1), int16(-k-1)
		if k%10 == 3 {
			wl = 0
		}
		if k%10 == 7 {
			wr = 0
		}
		if l, r := f.slot(k, 0), f.slot(k, 1); l != wl || r != wr {
			t.Fatalf("slot %d: %d, %d; want %d, %d", k, l, r, wl, wr)
		}
	}
	if again, err := w.Close(); err != nil || !reflect.DeepEqual(again, res) {
		t.Fatalf("second Close: %+v, %v", again, err)
	}
	if w.WriteFrame(nil, nil) {
		t.Fatal("WriteFrame after Close accepted")
	}
	if err := w.WriteFrameWait(t.Context(), nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteFrameWait after Close: %v", err)
	}
	checkGoroutines(t, before)
}

// TestWriterMonoSaturates: mono is the sum of the sides, clipped to
// 16 bits rather than wrapping.
func TestWriterMonoSaturates(t *testing.T) {
	w := openTest(t, newClock(t0), Options{Format: Mono})
	pairs := [][2]int16{{1000, 234}, {30000, 10000}, {-30000, -10000}, {-5, 0}}
	for _, p := range pairs {
		w.WriteFrame(marked(p[0]), marked(p[1]))
	}
	w.WriteFrame(nil, marked(77))
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	f := readRaw(t, w.Path())
	want := []int16{1234, 32767, -32768, -5, 77}
	if f.channels != 1 || f.frames() != len(want) || res.Bytes != headerSize+int64(len(want))*320 {
		t.Fatalf("channels %d, frames %d, bytes %d", f.channels, f.frames(), res.Bytes)
	}
	for k, v := range want {
		if got := f.slot(k, 0); got != v {
			t.Errorf("slot %d: %d, want %d", k, got, v)
		}
	}
}

// TestWriterPause: paused time is written as silence on the timeline
// (slots overlapping a pause at all), recorded as intervals; two reasons
// pause independently, and resuming one does not unpause the other.
func TestWriterPause(t *testing.T) {
	c := newClock(t0)
	w := openTest(t, c, Options{})
	write := func(from, to int) {
		for k := from; k < to; k++ {
			w.WriteFrame(marked(int16(k+1)), marked(int16(k+1)))
		}
	}
	write(0, 50)
	c.Set(t0.Add(1010 * time.Millisecond)) // inside slot 50
	w.Pause("api")
	w.Pause("api") // already held
	if !w.Stats().Paused {
		t.Fatal("not paused")
	}
	write(50, 100)
	c.Set(t0.Add(1500 * time.Millisecond))
	w.Pause("sensitive")
	c.Set(t0.Add(1600 * time.Millisecond))
	w.Resume("api") // sensitive still holds
	w.Resume("nobody")
	c.Set(t0.Add(2 * time.Second)) // the start of slot 100
	w.Resume("sensitive")
	write(100, 150)
	c.Set(t0.Add(2500 * time.Millisecond))
	w.Pause("api")
	w.Resume("api") // nothing paused: no interval
	c.Set(t0.Add(2800 * time.Millisecond))
	w.Pause("api") // held until the end
	write(150, 200)
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := []Interval{{1010 * time.Millisecond, 2 * time.Second}, {2800 * time.Millisecond, 4 * time.Second}}
	if !reflect.DeepEqual(res.Paused, want) {
		t.Fatalf("paused %v, want %v", res.Paused, want)
	}
	f := readRaw(t, w.Path())
	for k := range 200 {
		silent := k >= 50 && k < 100 || k >= 140
		l := f.slot(k, 0)
		if silent != (l == 0) || f.slot(k, 1) != l {
			t.Fatalf("slot %d: %d, %d; silent %v", k, l, f.slot(k, 1), silent)
		}
	}
}

// TestWriterDropsWhenQueueFull: a stalled writer (a slow disk) never
// blocks WriteFrame: frames that do not fit the queue are counted and
// written as silence in their place, so the timeline keeps its length.
func TestWriterDropsWhenQueueFull(t *testing.T) {
	c := newClock(t0)
	w := openTest(t, c, Options{Queue: 100 * time.Millisecond}) // 5 slots
	c.block()
	w.WriteFrame(marked(1), nil) // the goroutine takes it and stalls
	<-c.waiting
	start := time.Now()
	for k := 1; k < 20; k++ {
		w.WriteFrame(marked(int16(k+1)), nil)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("WriteFrame blocked for %v", d)
	}
	if st := w.Stats(); st.Dropped != 14 {
		t.Fatalf("dropped %d, want 14", st.Dropped)
	}
	c.unblock()
	waitFor(t, "the queue to drain", func() bool { return w.Stats().Frames == 6 })
	w.WriteFrame(marked(21), nil) // the 14 dropped go before it
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Frames != 21 || res.Dropped != 14 || res.Duration != 420*time.Millisecond {
		t.Fatalf("result %+v", res)
	}
	f := readRaw(t, w.Path())
	for k := range 21 {
		want := int16(k + 1)
		if k >= 6 && k < 20 {
			want = 0
		}
		if got := f.slot(k, 0); got != want {
			t.Fatalf("slot %d: %d, want %d", k, got, want)
		}
	}
}

// TestWriterDroppedAtEnd: frames dropped just before Close still take
// their place on the timeline.
func TestWriterDroppedAtEnd(t *testing.T) {
	c := newClock(t0)
	w := openTest(t, c, Options{Queue: 20 * time.Millisecond})
	c.block()
	w.WriteFrame(marked(1), nil)
	<-c.waiting
	w.WriteFrame(marked(2), nil)             // queued
	w.WriteFrame(marked(3), nil)             // dropped
	w.WriteFrame(marked(4), marked(4))       // dropped
	go func() { <-c.waiting; c.unblock() }() // Close's drain reaches Now again
	c.unblock()
	res, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Frames != 4 || res.Dropped != 2 {
		t.Fatalf("result %+v", res)
	}
}

// TestWriterHeaderRewrite: every HeaderInterval the header states the
// sizes written so far, and the file is synced.
func TestWriterHeaderRewrite(t *testing.T) {
	c := newClock(t0)
	w := openTest(t, c, Options{HeaderInterval: 5 * time.Second})
	for k := range 250 {
		w.WriteFrame(marked(int16(k)), nil)
	}
	waitFor(t, "250 frames", func() bool { return w.Stats().Frames == 250 })
	if w.Stats().Syncs != 0 {
		t.Fatal("synced before the interval")
	}
	c.Add(5 * time.Second)
	w.WriteFrame(nil, nil)
	waitFor(t, "a header rewrite", func() bool { return w.Stats().Syncs == 1 })
	f := readRaw(t, w.Path())
	if f.declared != 251*640 || len(f.samples)*2 != 251*640 {
		t.Fatalf("header declares %d bytes; file holds %d", f.declared, len(f.samples)*2)
	}
	for range 49 {
		w.WriteFrame(nil, nil)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if f := readRaw(t, w.Path()); f.declared != 300*640 || len(f.samples)*2 != 300*640 {
		t.Fatalf("final header declares %d bytes; file holds %d", f.declared, len(f.samples)*2)
	}
}

// TestWriterContextEnds: when the writer's context ends, it finalises
// the file by itself; later frames are refused, Close returns the result.
func TestWriterContextEnds(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(t.Context())
	w, err := Create(ctx, t.TempDir(), "call-1", Options{Start: t0, Now: newClock(t0).Now})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		w.WriteFrame(marked(5), marked(6))
	}
	cancel()
	waitFor(t, "the writer to stop", func() bool { return !w.WriteFrame(nil, nil) })
	res, err := w.Close()
	if err != nil || res.Frames < 10 {
		t.Fatalf("result %+v, %v", res, err)
	}
	if f := readRaw(t, w.Path()); f.declared != res.Frames*640 {
		t.Fatalf("header declares %d bytes, want %d", f.declared, res.Frames*640)
	}
	checkGoroutines(t, before)
}

// TestWriterWaitUnblocksOnContext: WriteFrameWait waits for room, and
// gives up when its context ends.
func TestWriterWaitUnblocksOnContext(t *testing.T) {
	c := newClock(t0)
	w := openTest(t, c, Options{Queue: 20 * time.Millisecond})
	c.block()
	w.WriteFrame(nil, nil)
	<-c.waiting
	if err := w.WriteFrameWait(t.Context(), nil, nil); err != nil { // fills the queue
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := w.WriteFrameWait(ctx, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	go func() {
		for {
			<-c.waiting
			c.unblock()
		}
	}()
	c.unblock()
	if res, err := w.Close(); err != nil || res.Frames != 2 {
		t.Fatalf("result %+v, %v", res, err)
	}
}

// TestWriterFileNames: a call's second recording on a day gets its own
// file; IDs that are not plain file names are refused.
func TestWriterFileNames(t *testing.T) {
	dir := t.TempDir()
	o := Options{Start: t0}
	var paths []string
	for range 3 {
		w, err := Create(t.Context(), dir, "call-1", o)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Base(w.Path()))
		w.Close()
	}
	if want := []string{"call-1.wav", "call-1-2.wav", "call-1-3.wav"}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("files %v, want %v", paths, want)
	}
	for _, id := range []string{"", "../x", "a/b", ".hidden", "a b", string(make([]byte, 200))} {
		if _, err := Create(t.Context(), dir, id, o); !errors.Is(err, ErrBadArgument) {
			t.Errorf("call ID %q: err %v", id, err)
		}
	}
	if _, err := Create(t.Context(), dir, "x", Options{Format: 9}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("format 9: err %v", err)
	}
}
