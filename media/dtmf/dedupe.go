package dtmf

import (
	"sync"
	"time"
)

// DefaultMergeWindow is how far apart two reports of the same digit from
// different sources may be and still be one key press (Merger). A phone
// sending RFC 4733 and in-band tones together reports both within a few
// tens of milliseconds, plus the playout (jitter buffer) delay of the
// decoded audio that in-band detection runs on; 120 ms covers a 100 ms
// jitter buffer and stays above the 40 ms minimum pause between two
// presses of the same key (ITU-T Q.24), which is harmless because
// presses of one source never merge (see Merger).
const DefaultMergeWindow = 120 * time.Millisecond

// mergeSlots is how many recent presses a Merger remembers: a few more
// than can be under way at once.
const mergeSlots = 8

// Merger combines the digits of one leg from several sources (RFC 4733,
// in-band, SIP INFO), so that one key press is reported once even when a
// phone sends it several ways.
//
// Each Event stands for the span [At, At+Duration]. An event is dropped
// when an earlier reported press of the same digit, not yet matched by
// this event's source, overlaps that span or lies within the window of
// it; the press then counts as seen by that source too. Otherwise the
// event is a new press and is reported. Two events of the same source
// are never merged, so "11" stays two digits whatever the window: each
// source detects presses in order, and its n-th press is matched with
// the oldest press it has not matched yet (the one it overlaps when
// there is one), which keeps the sources paired even when one of them
// misses a digit.
//
// A Merger is safe for concurrent use: the RTP reader, the audio
// decoder and the SIP dialog may feed it from their own goroutines.
type Merger struct {
	window time.Duration

	mu      sync.Mutex
	presses [mergeSlots]press // ring, oldest overwritten first
	next    int               // slot of the next new press
	count   uint64            // presses so far, to order them
	dropped uint64
}

// press is one reported key press.
type press struct {
	used     bool
	digit    byte
	from, to time.Time
	sources  uint8 // bit per Source that reported it
	order    uint64
}

// NewMerger returns a Merger. Option: WithMergeWindow.
func NewMerger(opts ...Option) *Merger {
	o := applyOptions(opts)
	return &Merger{window: o.window}
}

// Add offers one detected digit and reports whether it is a new key press
// to pass on (the Event returned is e) or a duplicate to drop.
func (m *Merger) Add(e Event) (Event, bool) {
	from, to := e.At, e.At.Add(max(e.Duration, 0))
	bit := uint8(1) << (e.Source & 7)
	m.mu.Lock()
	defer m.mu.Unlock()
	best, bestOverlap := -1, false
	for i := range m.presses {
		p := &m.presses[i]
		if !p.used || p.digit != e.Digit || p.sources&bit != 0 {
			continue
		}
		// gap < 0: the spans overlap; 0: they touch.
		gap := later(from, p.from).Sub(earlier(to, p.to))
		if gap > m.window {
			continue
		}
		overlap := gap <= 0
		switch {
		case best < 0, overlap && !bestOverlap,
			overlap == bestOverlap && p.order < m.presses[best].order:
			best, bestOverlap = i, overlap
		}
	}
	if best >= 0 {
		p := &m.presses[best]
		p.sources |= bit
		p.from, p.to = earlier(p.from, from), later(p.to, to)
		m.dropped++
		return Event{}, false
	}
	m.count++
	m.presses[m.next] = press{used: true, digit: e.Digit, from: from, to: to, sources: bit, order: m.count}
	m.next = (m.next + 1) % mergeSlots
	return e, true
}

// Dropped returns how many events were dropped as duplicates.
func (m *Merger) Dropped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// Reset forgets the recent presses (e.g. when a prompt starts collecting
// anew); the counter is kept.
func (m *Merger) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.presses = [mergeSlots]press{}
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
