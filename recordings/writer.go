package recordings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// bufSize is the writer's buffer: a second of stereo audio. It is written
// out when full and at every header rewrite.
const bufSize = 32 << 10

// maxCallIDLen bounds the call ID that names a file.
const maxCallIDLen = 128

// Writer writes one recording: a WAV file fed one slot of the timeline
// (20 ms, one frame per channel) at a time. WriteFrame never blocks: it
// queues the frames for the writer's goroutine, or, when the queue is full
// (a disk too slow), counts them dropped and has the goroutine write
// silence in their place, so the timeline stays true. Pause and Resume,
// Stats and Close may be called from any goroutine; WriteFrame from one
// at a time.
type Writer struct {
	path   string
	format Format
	start  time.Time
	o      Options
	log    *slog.Logger
	f      *os.File

	// mu orders the sends on ch against closing it: held for reading
	// around a send (WriteFrame's never waits; WriteFrameWait's is
	// released by stopping), for writing around the close.
	mu     sync.RWMutex
	closed bool
	ch     chan *slotMsg
	owed   atomic.Int64 // slots dropped since the last one queued
	// stopping is closed when the goroutine stops reading ch early (its
	// context ended), to release WriteFrameWait.
	stopping chan struct{}
	done     chan struct{} // closed when the goroutine has finished
	crash    chan struct{} // tests: stop without finalising, as a crash would

	pmu       sync.Mutex
	holds     map[string]bool // the reasons holding a pause
	paused    []Interval      // End < 0: still open
	hasPauses atomic.Bool

	frames, dropped, syncs, written atomic.Int64

	// The goroutine's own.
	buf      []byte
	data     int64 // sample bytes in the file or buf
	lastSync time.Time
	werr     error // sticky write error
	full     bool  // reached the 4 GiB limit of RIFF

	// Set by the goroutine before done is closed.
	res Result
	err error
}

// slotMsg is one queued slot. Messages are pooled: the channel holds
// pointers, so a long queue costs memory only while it is full.
type slotMsg struct {
	l, r audio.Frame
	has  uint8 // 1: l is audio, 2: r is audio; otherwise silence
	skip int64 // dropped slots before this one, written as silence
}

var msgPool = sync.Pool{New: func() any { return new(slotMsg) }}

// Result is what a finished recording holds.
type Result struct {
	Path   string
	Format Format
	// Start is the timeline's start; End the clock's time at Close.
	Start, End time.Time
	// Duration is the audio written: Frames × 20 ms, paused time included.
	Duration time.Duration
	// Bytes is the file's size, header included.
	Bytes int64
	// Frames is the number of slots written.
	Frames int64
	// Dropped slots did not fit the writer's queue; Lost (set by a Feed)
	// are frames the taps dropped, or that came too late or too early to
	// place. All were written as silence.
	Dropped, Lost int64
	// Paused are the intervals written as silence by Pause.
	Paused []Interval
}

// Stats are a live recording's counters.
type Stats struct {
	Frames  int64 // slots written (to the file or its buffer)
	Dropped int64 // slots dropped because the queue was full
	Syncs   int64 // header rewrites with fsync
	Bytes   int64 // bytes written to the file so far, header included
	Paused  bool  // a pause is held
}

// Create opens <dir>/<yyyy>/<mm>/<dd>/<callID>.wav (the date of o.Start,
// in its location; <callID>-2.wav and on if the call already has a file
// that day), writes its header and starts the writer's goroutine, which
// ends with Close or when ctx is done (the file is then finalised as
// Close does, and later frames are refused). Give it a context that
// outlives the call, e.g. context.WithoutCancel of the call's, so that
// teardown can still write the last frames. callID may hold letters,
// digits, '.', '_' and '-'.
func Create(ctx context.Context, dir, callID string, o Options) (*Writer, error) {
	if err := checkCallID(callID); err != nil {
		return nil, err
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	day := filepath.Join(abs, o.Start.Format("2006"), o.Start.Format("01"), o.Start.Format("02"))
	if err := os.MkdirAll(day, 0o750); err != nil {
		return nil, fmt.Errorf("recordings: create directory: %w", err)
	}
	f, path, err := createFile(day, callID)
	if err != nil {
		return nil, err
	}
	h := wavHeader(o.Format.Channels(), 0)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("recordings: write header: %w", err)
	}
	w := &Writer{
		path: path, format: o.Format, start: o.Start, o: o, f: f,
		log:      o.Logger.With("call_id", callID, "path", path),
		ch:       make(chan *slotMsg, slots(o.Queue)),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		crash:    make(chan struct{}),
		holds:    map[string]bool{},
		buf:      make([]byte, 0, bufSize),
		lastSync: o.Now(),
	}
	w.written.Store(headerSize)
	go w.run(ctx)
	return w, nil
}

// checkCallID refuses IDs that are not a plain file name.
func checkCallID(id string) error {
	if id == "" || len(id) > maxCallIDLen || id[0] == '.' {
		return fmt.Errorf("%w: call ID %q as a file name", ErrBadArgument, id)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: call ID %q as a file name", ErrBadArgument, id)
		}
	}
	return nil
}

// createFile creates a new file for callID in day, never replacing one.
func createFile(day, callID string) (*os.File, string, error) {
	for i := 1; i < 100; i++ {
		name := callID + ".wav"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.wav", callID, i)
		}
		path := filepath.Join(day, name)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err == nil {
			return f, path, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", fmt.Errorf("recordings: create: %w", err)
		}
	}
	return nil, "", fmt.Errorf("recordings: create: 99 files for call %s in %s: %w", callID, day, fs.ErrExist)
}

// Path returns the file's path (absolute).
func (w *Writer) Path() string { return w.path }

// Format returns the recording's format.
func (w *Writer) Format() Format { return w.format }

// Start returns the time of the timeline's first slot.
func (w *Writer) Start() time.Time { return w.start }

// WriteFrame queues the next slot of the timeline: left and right (the
// customer's and the agent's 20 ms), nil meaning silence; Mono mixes
// them. It never blocks: it reports false when the frame was not queued —
// the queue was full (counted in Stats.Dropped, and written as silence)
// or the writer is closed.
func (w *Writer) WriteFrame(left, right *audio.Frame) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return false
	}
	m := w.msg(left, right)
	select {
	case w.ch <- m:
		return true
	default:
		w.owed.Add(m.skip + 1)
		msgPool.Put(m)
		if w.dropped.Add(1) == 1 {
			w.log.Warn("recording_frames_dropped", "queue", w.o.Queue)
		}
		return false
	}
}

// WriteFrameWait is WriteFrame waiting for room in the queue, for writers
// that are not on a media path (conversions, benchmarks). It returns
// ErrClosed after Close, or ctx's error.
func (w *Writer) WriteFrameWait(ctx context.Context, left, right *audio.Frame) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	m := w.msg(left, right)
	select {
	case w.ch <- m:
		return nil
	case <-ctx.Done():
		w.owed.Add(m.skip)
		msgPool.Put(m)
		return ctx.Err()
	case <-w.stopping:
		msgPool.Put(m)
		return ErrClosed
	}
}

// msg fills a pooled message with a slot.
func (w *Writer) msg(left, right *audio.Frame) *slotMsg {
	m := msgPool.Get().(*slotMsg)
	m.has = 0
	if left != nil {
		m.l, m.has = *left, m.has|1
	}
	if right != nil {
		m.r, m.has = *right, m.has|2
	}
	m.skip = w.owed.Swap(0)
	return m
}

// Stats returns the live counters.
func (w *Writer) Stats() Stats {
	w.pmu.Lock()
	p := len(w.holds) > 0
	w.pmu.Unlock()
	return Stats{Frames: w.frames.Load(), Dropped: w.dropped.Load(), Syncs: w.syncs.Load(), Bytes: w.written.Load(), Paused: p}
}

// Close writes what is queued, rewrites the header with the final sizes,
// fsyncs and closes the file, and returns the result. It waits for the
// writer's goroutine; it is idempotent (later calls return the same).
func (w *Writer) Close() (Result, error) {
	w.shut()
	<-w.done
	return w.res, w.err
}

// shut refuses further frames and closes the queue, once.
func (w *Writer) shut() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
}

// run is the writer's goroutine.
func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	for {
		select {
		case m, ok := <-w.ch:
			if !ok {
				w.finish()
				return
			}
			w.put(m)
		case <-ctx.Done():
			close(w.stopping)
			w.shut()
			for m := range w.ch {
				w.put(m)
			}
			w.finish()
			return
		case <-w.crash:
			// As if the process died: what reached the kernel stays, the
			// header is not rewritten.
			close(w.stopping)
			w.flush()
			w.f.Close()
			w.err = ErrClosed
			return
		}
	}
}

// put writes one queued slot, and the header when it is due.
func (w *Writer) put(m *slotMsg) {
	for range m.skip {
		w.writeSlot(nil, nil)
	}
	var l, r *audio.Frame
	if m.has&1 != 0 {
		l = &m.l
	}
	if m.has&2 != 0 {
		r = &m.r
	}
	w.writeSlot(l, r)
	msgPool.Put(m)
	if now := w.o.Now(); now.Sub(w.lastSync) >= w.o.HeaderInterval {
		w.lastSync = now
		w.sync()
	}
}

// writeSlot encodes one slot into the buffer: silence where a side is
// missing or the slot overlaps a pause.
func (w *Writer) writeSlot(l, r *audio.Frame) {
	k := w.frames.Load()
	w.frames.Store(k + 1)
	if w.pausedAt(k) {
		l, r = nil, nil
	}
	n := audio.FrameSamples * bytesPerSample * w.format.Channels()
	if w.werr != nil || w.full {
		return
	}
	if w.data+int64(n) > maxData {
		w.full = true
		w.log.Error("recording_too_large", "bytes", w.data)
		return
	}
	if len(w.buf)+n > cap(w.buf) {
		w.flush()
	}
	b := w.buf[len(w.buf) : len(w.buf)+n]
	w.buf = w.buf[:len(w.buf)+n]
	w.data += int64(n)
	if w.format == Mono {
		encodeMono(b, l, r)
	} else {
		encodeStereo(b, l, r)
	}
}

// encodeStereo interleaves l and r (nil: silence) as 16-bit little endian.
func encodeStereo(b []byte, l, r *audio.Frame) {
	if l == nil && r == nil {
		clear(b)
		return
	}
	var zero audio.Frame
	if l == nil {
		l = &zero
	}
	if r == nil {
		r = &zero
	}
	for i := range audio.FrameSamples {
		j := 4 * i
		ls, rs := uint16(l[i]), uint16(r[i])
		b[j], b[j+1], b[j+2], b[j+3] = byte(ls), byte(ls>>8), byte(rs), byte(rs>>8)
	}
}

// encodeMono mixes l and r (nil: silence), saturating, as 16-bit little
// endian.
func encodeMono(b []byte, l, r *audio.Frame) {
	var zero audio.Frame
	if l == nil {
		l = &zero
	}
	if r == nil {
		r = &zero
	}
	for i := range audio.FrameSamples {
		s := min(max(int32(l[i])+int32(r[i]), -32768), 32767)
		b[2*i], b[2*i+1] = byte(s), byte(uint16(s)>>8)
	}
}

// flush writes the buffer to the file.
func (w *Writer) flush() {
	if len(w.buf) == 0 || w.werr != nil {
		w.buf = w.buf[:0]
		return
	}
	n, err := w.f.Write(w.buf)
	w.written.Add(int64(n))
	w.buf = w.buf[:0]
	if err != nil {
		w.fail(err)
	}
}

// sync writes the buffer, rewrites the header's sizes and fsyncs.
func (w *Writer) sync() {
	w.flush()
	if w.werr != nil {
		return
	}
	h := wavHeader(w.format.Channels(), w.written.Load()-headerSize)
	if _, err := w.f.WriteAt(h[:], 0); err != nil {
		w.fail(err)
		return
	}
	if err := w.f.Sync(); err != nil {
		w.fail(err)
		return
	}
	w.syncs.Add(1)
}

// fail records the first write error; the recording stops writing.
func (w *Writer) fail(err error) {
	if w.werr == nil {
		w.werr = fmt.Errorf("recordings: write %s: %w", w.path, err)
		w.log.Error("recording_write_failed", "err", err)
	}
}

// finish writes the slots dropped at the end, the buffer and the final
// header, closes the file and sets the result.
func (w *Writer) finish() {
	for range w.owed.Swap(0) {
		w.writeSlot(nil, nil)
	}
	w.sync()
	if err := w.f.Close(); err != nil {
		w.fail(err)
	}
	end := w.o.Now()
	frames := w.frames.Load()
	// The audio in the file: frames × 20 ms unless writing failed.
	byteRate := int64(audio.SampleRate * bytesPerSample * w.format.Channels())
	dur := bytesDuration(w.written.Load()-headerSize, byteRate)
	w.pmu.Lock()
	paused := make([]Interval, 0, len(w.paused))
	for _, iv := range w.paused {
		if iv.End < 0 || iv.End > dur {
			iv.End = dur
		}
		if iv.Start < iv.End {
			paused = append(paused, iv)
		}
	}
	w.pmu.Unlock()
	w.res = Result{
		Path: w.path, Format: w.format, Start: w.start, End: end, Duration: dur,
		Bytes: w.written.Load(), Frames: frames, Dropped: w.dropped.Load(), Paused: paused,
	}
	w.err = w.werr
}
