package recordings

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// alignRec collects what an aligner emits: per slot, the marks of the
// left and right frames ("." for silence).
type alignRec struct {
	a     *aligner
	slots []string
	seq   [2]uint64
}

func newAlignRec(window time.Duration) *alignRec {
	r := &alignRec{}
	r.a = newAligner(t0, window, func(l, rt *audio.Frame) {
		r.slots = append(r.slots, mark(l)+"|"+mark(rt))
	})
	return r
}

func mark(f *audio.Frame) string {
	if f == nil {
		return "."
	}
	return fmt.Sprint(f[0])
}

// put gives side a frame marked v, published at ms after t0; gap frames
// of the side are taken as dropped before it.
func (r *alignRec) put(side int, v int16, ms int, gap uint64) {
	r.seq[side] += 1 + gap
	r.a.put(side, &tap.Frame{Seq: r.seq[side], At: t0.Add(time.Duration(ms) * time.Millisecond), Audio: *marked(v)})
}

func (r *alignRec) String() string { return strings.Join(r.slots, " ") }

func (r *alignRec) want(t *testing.T, want string) {
	t.Helper()
	if got := r.String(); got != want {
		t.Fatalf("slots\n got %s\nwant %s", got, want)
	}
}

// TestAlignBothSides: frames of both sides at the same times are
// emitted as soon as both are there, each slot with its pair.
func TestAlignBothSides(t *testing.T) {
	r := newAlignRec(200 * time.Millisecond)
	for k := range 3 {
		r.put(left, int16(k+1), 20*k, 0)
		if len(r.slots) != k {
			t.Fatalf("slot %d emitted before its right frame", k)
		}
		r.put(right, int16(-k-1), 20*k, 0)
	}
	r.want(t, "1|-1 2|-2 3|-3")
}

// TestAlignJitter: frames arriving up to ±9 ms off their 20 ms grid keep
// their places by sequence: no hole, no collision.
func TestAlignJitter(t *testing.T) {
	r := newAlignRec(200 * time.Millisecond)
	jit := []int{0, 9, -9, 7, -3, 9, -9, 0}
	for k, j := range jit {
		r.put(left, int16(k+1), 20*k+j+40, 0)
		r.put(right, int16(k+1), 20*k-j+40, 0)
	}
	r.a.flush()
	r.want(t, ".|. .|. 1|1 2|2 3|3 4|4 5|5 6|6 7|7 8|8")
}

// TestAlignSilentSide: a side that publishes nothing is silence, written
// once the other side's time is a window past; the rest comes at flush.
func TestAlignSilentSide(t *testing.T) {
	r := newAlignRec(100 * time.Millisecond) // 5 slots
	for k := range 8 {
		r.put(left, int16(k+1), 20*k, 0)
	}
	r.want(t, "1|. 2|. 3|.")
	r.a.flush()
	r.want(t, "1|. 2|. 3|. 4|. 5|. 6|. 7|. 8|.")
	if r.a.lost != 0 {
		t.Fatalf("lost %d", r.a.lost)
	}
}

// TestAlignEndedSide: once a side's stream has ended, the other's frames
// are written at once.
func TestAlignEndedSide(t *testing.T) {
	r := newAlignRec(200 * time.Millisecond)
	r.put(left, 1, 0, 0)
	r.put(right, -1, 0, 0)
	r.a.end(right)
	r.put(left, 2, 20, 0)
	r.want(t, "1|-1 2|.")
	r.a.end(left)
	r.put(left, 3, 40, 0) // a stray frame after the end is still placed
	r.want(t, "1|-1 2|. 3|.")
}

// TestAlignGap: frames a subscription dropped (a gap in Seq) leave
// silence for that side only.
func TestAlignGap(t *testing.T) {
	r := newAlignRec(200 * time.Millisecond)
	r.put(left, 1, 0, 0)
	r.put(right, -1, 0, 0)
	r.put(left, 4, 60, 2) // 2 and 3 dropped
	for k := 1; k < 4; k++ {
		r.put(right, int16(-k-1), 20*k, 0)
	}
	r.want(t, "1|-1 .|-2 .|-3 4|-4")
}

// TestAlignStall: a publisher that stalled (its next frame's time jumps
// while its sequence goes on by one) resumes at its time, after silence.
func TestAlignStall(t *testing.T) {
	r := newAlignRec(100 * time.Millisecond)
	r.put(left, 1, 0, 0)
	r.put(left, 2, 20, 0)
	r.put(left, 3, 140, 0) // 100 ms late
	r.a.flush()
	r.want(t, "1|. 2|. .|. .|. .|. .|. .|. 3|.")
	if r.a.jumps != 1 {
		t.Fatalf("jumps %d", r.a.jumps)
	}
}

// TestAlignBurst: frames delayed and then delivered together are laid
// one after another from their time; those that would run more than a
// window ahead of their time are lost, and the stream resumes in place.
func TestAlignBurst(t *testing.T) {
	r := newAlignRec(100 * time.Millisecond) // 5 slots
	r.put(left, 1, 0, 0)
	for k := 2; k <= 10; k++ {
		r.put(left, int16(k), 200, 0) // 2..10 all arrive at 200 ms
	}
	for k := 11; k <= 13; k++ {
		r.put(left, int16(k), 20*k-20, 0) // 11 at 200 ms, then on time
	}
	r.a.flush()
	// 2 goes to its time's slot 10, the next ones after it up to slot
	// 15 (10 + the window); 8 to 11 do not fit, 12 (at its time's slot 11)
	// does, and the stream goes on.
	r.want(t, "1|. .|. .|. .|. .|. .|. .|. .|. .|. .|. 2|. 3|. 4|. 5|. 6|. 7|. 12|. 13|.")
	if r.a.lost != 4 {
		t.Fatalf("lost %d, want 4", r.a.lost)
	}
}

// TestAlignLate: a frame whose slot was already written (its side lagged
// more than the window behind the other) is lost and counted.
func TestAlignLate(t *testing.T) {
	r := newAlignRec(100 * time.Millisecond)
	r.put(right, -1, 0, 0)
	for k := range 8 {
		r.put(left, int16(k+1), 20*k, 0)
	}
	r.put(right, -2, 20, 0) // slot 1 is written by now
	r.want(t, "1|-1 2|. 3|.")
	if r.a.lost != 1 {
		t.Fatalf("lost %d", r.a.lost)
	}
	r.put(right, -3, 200, 0) // the side resumes on time
	r.a.flush()
	r.want(t, "1|-1 2|. 3|. 4|. 5|. 6|. 7|. 8|. .|. .|. .|-3")
}

// TestAlignClock: with no frames, advance writes silence for the slots
// more than the clock margin (a second here) behind the clock.
func TestAlignClock(t *testing.T) {
	r := newAlignRec(100 * time.Millisecond)
	r.a.advance(t0.Add(-time.Second))
	r.a.advance(t0.Add(989 * time.Millisecond)) // slot 49: slot 0 may still get frames
	r.want(t, "")
	r.a.advance(t0.Add(1050 * time.Millisecond)) // slot 53
	r.want(t, ".|. .|. .|. .|.")
	r.put(left, 1, 10, 0) // before the start of the timeline written so far
	r.put(left, 2, -500, 0)
	if r.a.lost != 2 {
		t.Fatalf("lost %d", r.a.lost)
	}
}
