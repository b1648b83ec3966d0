// Package tap lets any number of consumers (the recorder, ASR, tests)
// listen to a leg's decoded audio without ever slowing its media path.
//
// A leg owns one Point and publishes each decoded Frame on it, per
// direction. Every Subscription has its own bounded queue (a buffered
// channel); when a consumer falls behind, the frames that do not fit
// are dropped for that subscriber only and counted (Dropped), and the
// per-direction Seq of the frames it does get shows where. Publish
// never blocks and never allocates: it copies the frame into each
// interested subscriber's channel with a non-blocking send.
//
// Consumers read Subscription.C until it is closed, which happens when
// they Close the subscription or the leg Closes the Point. Both are
// idempotent and safe to call concurrently with Publish, with each
// other and with Subscribe. The package starts no goroutine.
package tap

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// DefaultDepth is the queue length of a Subscription asked with depth
// ≤ 0: one second of audio.
const DefaultDepth = 50

// Direction is which way the audio flows, seen from the leg's party.
type Direction uint8

// The directions; the zero value is unknown.
const (
	// In is what the leg's party says (received from it).
	In Direction = iota + 1
	// Out is what the party hears (sent to it).
	Out
)

// String names the direction.
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return "unknown"
}

// valid reports whether d is In or Out.
func (d Direction) valid() bool { return d == In || d == Out }

// mask is a set of directions.
type mask uint8

func (d Direction) bit() mask { return 1 << d }

// Frame is one published frame, as a subscriber receives it.
type Frame struct {
	Dir Direction
	// Seq counts the frames published on the Point in this direction,
	// from 1; a gap means frames were dropped for this subscriber (or
	// published before it subscribed).
	Seq uint64
	// At is the time the leg published the frame (its media clock).
	At time.Time
	// Audio is a copy of the published samples, the subscriber's own.
	Audio audio.Frame
}

// subscribers is the immutable list Publish reads; Subscribe and
// Close replace it (copy on write).
type subscribers struct {
	subs []*Subscription
	dirs mask // union of the subscribers' directions
}

// Point is one leg's tap point. The zero value is not usable: use
// NewPoint.
type Point struct {
	list atomic.Pointer[subscribers]
	seq  [Out + 1]atomic.Uint64 // per direction

	mu     sync.Mutex // serialises changes of list; never held by Publish
	closed bool
}

// NewPoint returns a Point with no subscribers.
func NewPoint() *Point {
	p := &Point{}
	p.list.Store(&subscribers{})
	return p
}

// Active reports whether anyone listens, in either direction; the
// media path skips decoding when nobody does. It is a single atomic
// load.
func (p *Point) Active() bool { return p.list.Load().dirs != 0 }

// Listening reports whether anyone listens to direction dir, so that a
// leg decodes only the direction that is tapped.
func (p *Point) Listening(dir Direction) bool {
	return dir.valid() && p.list.Load().dirs&dir.bit() != 0
}

// Publish offers frame f of direction dir, taken at at, to every
// subscriber of dir. It never blocks and does not allocate: a
// subscriber whose queue is full misses the frame and counts it. It is
// O(subscribers) and may be called concurrently (e.g. In from the
// receiving goroutine, Out from the sending one); frames of one
// direction should come from one goroutine to keep their order. An
// unknown direction is ignored.
func (p *Point) Publish(dir Direction, f *audio.Frame, at time.Time) {
	if !dir.valid() {
		return
	}
	seq := p.seq[dir].Add(1)
	l := p.list.Load()
	if l.dirs&dir.bit() == 0 {
		return
	}
	fr := Frame{Dir: dir, Seq: seq, At: at, Audio: *f}
	for _, s := range l.subs {
		if s.dirs&dir.bit() != 0 {
			s.offer(&fr)
		}
	}
}

// Subscribe adds a subscriber to the given directions (none: both)
// with a queue of depth frames (≤ 0: DefaultDepth). On a closed Point
// it returns a Subscription whose channel is already closed.
func (p *Point) Subscribe(depth int, dirs ...Direction) *Subscription {
	if depth <= 0 {
		depth = DefaultDepth
	}
	var m mask
	for _, d := range dirs {
		if d.valid() {
			m |= d.bit()
		}
	}
	if m == 0 {
		m = In.bit() | Out.bit()
	}
	s := &Subscription{p: p, dirs: m, ch: make(chan Frame, depth)}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		s.closed = true
		close(s.ch)
		return s
	}
	old := p.list.Load()
	subs := make([]*Subscription, len(old.subs), len(old.subs)+1)
	copy(subs, old.subs)
	p.list.Store(&subscribers{subs: append(subs, s), dirs: old.dirs | m})
	return s
}

// Close ends every subscription (their channels close) and makes
// further Publish calls no-ops and Subscribe calls return closed
// subscriptions. It is idempotent.
func (p *Point) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	old := p.list.Swap(&subscribers{})
	p.mu.Unlock()
	for _, s := range old.subs {
		s.end()
	}
}

// remove takes s off the list, if it is on it.
func (p *Point) remove(s *Subscription) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.list.Load()
	l := &subscribers{subs: make([]*Subscription, 0, len(old.subs))}
	for _, o := range old.subs {
		if o != s {
			l.subs = append(l.subs, o)
			l.dirs |= o.dirs
		}
	}
	if len(l.subs) != len(old.subs) {
		p.list.Store(l)
	}
}
