package jitter

import (
	"math"
	"time"
)

// estimator measures the interarrival jitter of RFC 3550 §6.4.1 and
// derives the target depth from it: the target rises as soon as the
// jitter calls for more, and falls by one frame per targetDecay while
// it calls for less.
type estimator struct {
	have        bool
	prevArrival time.Time
	prevTs      uint32
	jitter      float64 // nanoseconds
	target      int64   // frames
	changed     time.Time
}

// restart forgets the previous packet (after a rebase its timestamp no
// longer compares with the next one's), keeping the jitter.
func (e *estimator) restart() { e.have = false }

// update accounts a packet with the (rebased) timestamp ts arriving at
// arrival, and recomputes the target between floor and maxF frames.
func (e *estimator) update(b *Buffer, arrival time.Time, ts uint32, floor int64) {
	if e.have {
		// D(i,j) = (Rj − Ri) − (Sj − Si), J += (|D| − J)/16 (§6.4.1).
		dr := float64(arrival.Sub(e.prevArrival))
		ds := float64(int32(ts-e.prevTs)) * float64(time.Second) / float64(b.rate)
		e.jitter += (math.Abs(dr-ds) - e.jitter) / 16
	}
	e.have, e.prevArrival, e.prevTs = true, arrival, ts

	want := b.maxF
	if w := 1 + math.Ceil(jitterFactor*e.jitter/float64(b.frameDur)); w < float64(b.maxF) {
		want = int64(w)
	}
	want = max(floor, want)
	switch {
	case want > e.target || e.target < floor:
		e.target, e.changed = max(want, floor), arrival
	case want < e.target && arrival.Sub(e.changed) >= targetDecay:
		e.target, e.changed = e.target-1, arrival
	}
	e.target = min(e.target, b.maxF)
}
