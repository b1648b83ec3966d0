package recordings

import (
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// resyncSlots is how far (in slots) a frame's own time may disagree with
// the place its sequence number gives it before the aligner trusts the
// time: beyond it, the publisher stalled (its next frame goes where its
// time says, after silence) or burst (its frames are packed after the
// previous ones).
const resyncSlots = 3

// The sides of an aligner.
const (
	left  = 0
	right = 1
)

// aligner places the frames of two streams (the left and right channels)
// onto the slots of one timeline and emits the slots in order, each with
// the frame of each side or nil for silence. A stream's frames go one
// after another by Seq (a gap in Seq — frames its subscription dropped —
// leaves silent slots), anchored to the timeline by their time At, and
// re-anchored when they drift from it by more than resyncSlots. A slot is
// emitted once neither side will add to it (it has its frame, or a later
// one, or has ended), or once the streams' time has moved a window past
// it; advance emits silence from the clock when the streams are quiet.
// It is a plain value, driven by a Feed's goroutine (or a test).
type aligner struct {
	t0   time.Time
	win  int64 // the window, in slots
	emit func(l, r *audio.Frame)

	next  int64 // the next slot to emit
	maxAt int64 // the latest slot any frame's time gave
	ring  []alignSlot
	sides [2]alignSide

	// lost counts frames that could not be placed: before the timeline's
	// start, after their slot was emitted, or more than a window ahead of
	// their time (a burst). jumps counts re-anchorings.
	lost, jumps int64
}

// alignSlot is one buffered slot.
type alignSlot struct {
	f   [2]audio.Frame
	has [2]bool
}

// alignSide is one stream's position.
type alignSide struct {
	started bool
	done    bool  // the stream ended: its missing frames are silence
	last    int64 // slot of its latest frame
	lastSeq uint64
}

// newAligner returns an aligner whose slot 0 starts at t0, waiting up to
// window for a side's frame.
func newAligner(t0 time.Time, window time.Duration, emit func(l, r *audio.Frame)) *aligner {
	// A window shorter than the drift a stream may have before it is
	// re-anchored would lose the frames of a slightly late side.
	win := max(int64(slots(window)), resyncSlots+2)
	return &aligner{t0: t0, win: win, emit: emit, maxAt: -1, ring: make([]alignSlot, 2*win+2)}
}

// slotOf is the slot whose 20 ms t falls nearest to the start of.
func (a *aligner) slotOf(t time.Time) int64 {
	d := t.Sub(a.t0) + audio.FrameDuration/2
	if d < 0 {
		return -1
	}
	return int64(d / audio.FrameDuration)
}

// put places a frame of side.
func (a *aligner) put(side int, f *tap.Frame) {
	at := a.slotOf(f.At)
	a.maxAt = max(a.maxAt, at)
	s := &a.sides[side]
	slot := at
	if s.started {
		step := int64(1)
		if f.Seq > s.lastSeq {
			step = int64(f.Seq - s.lastSeq)
		}
		slot = s.last + step
		switch drift := at - slot; {
		case drift > resyncSlots: // stalled: the time is right
			slot = at
			a.jumps++
		case drift < -resyncSlots: // burst: close up any gap
			slot = max(at, s.last+1)
		}
	}
	switch {
	case slot < a.next || slot > at+a.win:
		a.lost++
		s.lastSeq = f.Seq
		if !s.started {
			return
		}
		if slot < a.next {
			s.last = slot
		}
	default:
		s.started, s.last, s.lastSeq = true, slot, f.Seq
		for slot >= a.next+int64(len(a.ring)) {
			a.emitNext()
		}
		b := &a.ring[slot%int64(len(a.ring))]
		b.f[side], b.has[side] = f.Audio, true
	}
	a.drain()
}

// end marks side's stream as ended.
func (a *aligner) end(side int) {
	a.sides[side].done = true
	a.drain()
}

// drain emits the slots that are ready: each side has a frame for the
// slot, has ended, or has placed a later frame (its frames come in order,
// so it skipped this one); or else the streams' time is a window past the
// slot (a side that is not publishing).
func (a *aligner) drain() {
	for {
		if a.sides[left].done && a.sides[right].done {
			a.flush()
			return
		}
		b := &a.ring[a.next%int64(len(a.ring))]
		if !(a.resolved(left, b) && a.resolved(right, b)) && a.maxAt < a.next+a.win {
			return
		}
		a.emitNext()
	}
}

// resolved reports whether side will add nothing to slot next, held in b.
func (a *aligner) resolved(side int, b *alignSlot) bool {
	s := &a.sides[side]
	return b.has[side] || s.done || s.started && s.last > a.next
}

// clockMargin is how long after a slot's time advance waits before it
// writes the slot without frames: at least two windows, and a second, so
// that a publisher descheduled between reading its clock and publishing
// (a loaded machine) is not taken for one that sends nothing.
const clockMargin = time.Second

// advance emits, as silence where nothing came, the slots whose time is
// more than the margin (two windows, at least clockMargin) before now.
// It is for streams that publish nothing: frames drive the rest.
func (a *aligner) advance(now time.Time) {
	margin := max(2*a.win, int64(clockMargin/audio.FrameDuration))
	for a.next+margin <= a.slotOf(now) {
		a.emitNext()
	}
}

// flush emits every slot up to the latest frame placed.
func (a *aligner) flush() {
	for a.next <= a.placed() {
		a.emitNext()
	}
}

// placed is the latest slot holding a frame, or -1.
func (a *aligner) placed() int64 {
	p := int64(-1)
	for _, s := range a.sides {
		if s.started {
			p = max(p, s.last)
		}
	}
	return p
}

// emitNext emits slot next and frees it.
func (a *aligner) emitNext() {
	b := &a.ring[a.next%int64(len(a.ring))]
	var l, r *audio.Frame
	if b.has[left] {
		l = &b.f[left]
	}
	if b.has[right] {
		r = &b.f[right]
	}
	a.emit(l, r)
	b.has = [2]bool{}
	a.next++
}
