package call

import (
	"maps"
	"sync"
	"time"
)

// Defaults of NewBus.
const (
	// DefaultHistory is how many recent events a Bus keeps for replay.
	DefaultHistory = 10_000
	// DefaultMaxLag is how far a lossy subscriber may fall behind.
	DefaultMaxLag = 1024
)

// Bus carries events from the goroutines that change calls to whoever
// subscribed: internal persisters (lossless) and API clients (lossy). It
// numbers events with a strictly increasing sequence and keeps the last
// History of them, so a subscriber can start after any retained sequence
// number and miss nothing. Publish never blocks on a subscriber.
type Bus struct {
	now     func() time.Time
	maxLag  int
	history int

	mu     sync.Mutex
	seq    uint64    // last assigned
	last   time.Time // time of the last event
	ring   []Event   // event s is at ring[(s-1)%len(ring)]
	count  int       // events retained (≤ len(ring))
	subs   []*Subscription
	closed bool
}

// BusOption configures NewBus.
type BusOption func(*Bus)

// WithClock sets the clock that stamps events (default time.Now).
func WithClock(now func() time.Time) BusOption { return func(b *Bus) { b.now = now } }

// WithHistory sets how many recent events are kept for replay (default
// DefaultHistory; at least 1).
func WithHistory(n int) BusOption { return func(b *Bus) { b.history = max(1, n) } }

// WithMaxLag sets the default MaxLag of lossy subscriptions (default
// DefaultMaxLag; at least 1).
func WithMaxLag(n int) BusOption { return func(b *Bus) { b.maxLag = max(1, n) } }

// NewBus returns an empty bus; the first event gets Seq 1.
func NewBus(opts ...BusOption) *Bus {
	b := &Bus{now: time.Now, maxLag: DefaultMaxLag, history: DefaultHistory}
	for _, o := range opts {
		o(b)
	}
	b.ring = make([]Event, b.history)
	return b
}

// Publish stamps e with the next sequence number and the clock's time (never
// earlier than the previous event's), records it for replay, hands it to
// every subscriber and returns it. It never waits for a subscriber. Data is
// copied, so the caller may reuse its map. On a closed bus the event is
// dropped and returned with Seq 0.
func (b *Bus) Publish(e Event) Event {
	e.Data = maps.Clone(e.Data)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		e.Seq, e.Time = 0, time.Time{}
		return e
	}
	b.seq++
	t := b.now()
	if t.Before(b.last) {
		t = b.last
	}
	b.last = t
	e.Seq, e.Time = b.seq, t
	b.ring[(e.Seq-1)%uint64(len(b.ring))] = e
	if b.count < len(b.ring) {
		b.count++
	}
	for _, s := range b.subs {
		if s.lossless {
			s.queue = append(s.queue, e)
		}
		s.wake()
	}
	return e
}

// LastSeq returns the sequence number of the last published event (0 if
// none). Subscribing from it receives only events published afterwards.
func (b *Bus) LastSeq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Subscribe returns a subscription that delivers, in order, every retained
// event with Seq > from and then every event published later. Pass
// LastSeq() to receive only new events.
//
// If events after from are no longer retained, or from is ahead of the bus
// (a client from before a restart), Subscribe returns a *GapError whose
// Resume is the from to subscribe with instead; it never silently skips.
//
// Subscriptions are lossy unless the Lossless option is given: see
// Subscription.
func (b *Bus) Subscribe(from uint64, opts ...SubscribeOption) (*Subscription, error) {
	s := &Subscription{
		bus:    b,
		maxLag: uint64(b.maxLag),
		notify: make(chan struct{}, 1),
		out:    make(chan Event),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrBusClosed
	}
	oldest := b.oldestLocked()
	if from > b.seq || from+1 < oldest {
		return nil, &GapError{From: from, Resume: oldest - 1}
	}
	s.next, s.delivered, s.base = from+1, from, b.seq
	if s.lossless {
		s.queue = make([]Event, 0, b.seq-from)
		for q := from + 1; q <= b.seq; q++ {
			s.queue = append(s.queue, b.atLocked(q))
		}
	}
	b.subs = append(b.subs, s)
	go s.run()
	return s, nil
}

// Close ends every subscription after it has delivered the events published
// before Close (their Err is then ErrBusClosed); later Publish calls drop
// their events. Close does not wait for subscribers: each subscription's
// owner does, with Subscription.Close. It is idempotent.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	subs := b.subs
	b.subs = nil
	for _, s := range subs {
		s.endLocked(ErrBusClosed)
		s.wake()
	}
}

// oldestLocked is the sequence number of the oldest retained event
// (LastSeq()+1 when none is retained).
func (b *Bus) oldestLocked() uint64 { return b.seq - uint64(b.count) + 1 }

func (b *Bus) atLocked(seq uint64) Event { return b.ring[(seq-1)%uint64(len(b.ring))] }

func (b *Bus) removeLocked(s *Subscription) {
	for i, x := range b.subs {
		if x == s {
			last := len(b.subs) - 1
			b.subs[i] = b.subs[last]
			b.subs[last] = nil
			b.subs = b.subs[:last]
			return
		}
	}
}
