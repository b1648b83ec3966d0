package call

import (
	"fmt"
	"sync"
)

// fetchBatch bounds how many events a lossy subscription copies out of the
// ring per lock.
const fetchBatch = 256

// SubscribeOption configures Bus.Subscribe.
type SubscribeOption func(*Subscription)

// Lossless makes the subscription never drop an event: events wait for the
// subscriber in an unbounded in-memory queue. It is for internal persisters
// (CDRs) that keep up on average and must see everything; a subscriber that
// stops reading makes the queue grow without bound.
func Lossless() SubscribeOption { return func(s *Subscription) { s.lossless = true } }

// MaxLag bounds a lossy subscription: once more than n events published
// after it subscribed wait for it, the subscription ends with a *GapError
// telling it to resubscribe from the last event it received. Default: the
// Bus's (WithMaxLag); at least 1.
func MaxLag(n int) SubscribeOption {
	return func(s *Subscription) { s.maxLag = uint64(max(1, n)) }
}

// Subscription is one subscriber's view of a Bus. Events delivers events in
// Seq order without gaps; when it is closed, Err says why. A lossy
// subscription (the default) costs the bus nothing per event beyond a
// wake-up: it reads from the bus's history, and ends with a *GapError when
// it falls more than MaxLag behind, so a slow API client never holds memory
// or slows the publisher. A Lossless one queues every event for itself.
//
// One goroutine per subscription feeds Events; Close stops it and waits.
type Subscription struct {
	bus       *Bus
	lossless  bool
	maxLag    uint64
	notify    chan struct{} // capacity 1: "something changed"
	out       chan Event
	done      chan struct{} // closed by Close
	exited    chan struct{} // closed when run returns
	closeOnce sync.Once

	// Guarded by bus.mu.
	queue  []Event // lossless only
	ending bool    // Drain or Bus.Close: deliver up to stopAt, then end with endErr
	stopAt uint64
	endErr error

	// Owned by the run goroutine (set before it starts).
	next      uint64 // lossy: next sequence number to read from the ring
	delivered uint64 // last sequence number handed to the subscriber
	base      uint64 // bus.seq when subscribed: earlier events do not count as lag

	errMu sync.Mutex
	err   error
}

// Events returns the channel of events. It is closed when the subscription
// ends; then Err says why.
func (s *Subscription) Events() <-chan Event { return s.out }

// Err is why Events was closed: nil after Close or Drain, a *GapError
// (errors.Is ErrGap) when the subscriber fell behind or events it needed
// are no longer retained, ErrBusClosed when the bus closed. It is nil while
// Events is open.
func (s *Subscription) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Drain ends the subscription once the events published before Drain have
// been delivered; Events is then closed with Err nil. Use it to stop a
// persister without losing what was already published. It does not wait;
// it is idempotent.
func (s *Subscription) Drain() {
	s.bus.mu.Lock()
	s.endLocked(nil)
	s.bus.mu.Unlock()
	s.wake()
}

// Close ends the subscription now, dropping undelivered events, and waits
// for its goroutine to exit. It is idempotent and safe after Drain or a gap.
func (s *Subscription) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	<-s.exited
}

// endLocked stops the subscription from taking new events: it ends after
// the ones already published. The first reason wins.
func (s *Subscription) endLocked(reason error) {
	if s.ending {
		return
	}
	s.ending, s.stopAt, s.endErr = true, s.bus.seq, reason
	s.bus.removeLocked(s)
}

func (s *Subscription) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Subscription) run() {
	defer close(s.exited)
	var buf, pending []Event
	for {
		if len(pending) == 0 {
			var end bool
			var err error
			if buf, end, err = s.fetch(buf[:0]); end {
				s.finish(err)
				return
			}
			if pending = buf; len(pending) == 0 {
				select {
				case <-s.notify:
					continue
				case <-s.done:
					s.finish(nil)
					return
				}
			}
		}
		select {
		case s.out <- pending[0]:
			s.delivered = pending[0].Seq
			pending = pending[1:]
		case <-s.notify:
			if err := s.checkLag(); err != nil {
				s.finish(err)
				return
			}
		case <-s.done:
			s.finish(nil)
			return
		}
	}
}

// fetch takes the next events for the subscriber, reusing buf. end reports
// that the subscription is over, with err as its reason.
func (s *Subscription) fetch(buf []Event) (_ []Event, end bool, err error) {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.lossless {
		if len(s.queue) > 0 {
			q := s.queue
			s.queue = buf[:0] // run has consumed buf; the bus may append to it now
			return q, false, nil
		}
		return buf, s.ending, s.endErr
	}
	head := b.seq
	if s.ending {
		head = s.stopAt
	}
	if s.next > head {
		return buf, s.ending, s.endErr
	}
	if err := s.lagLocked(); err != nil {
		return buf, true, err
	}
	if s.next < b.oldestLocked() {
		return buf, true, &GapError{From: s.delivered, Resume: s.delivered}
	}
	for ; s.next <= head && len(buf) < fetchBatch; s.next++ {
		buf = append(buf, b.atLocked(s.next))
	}
	return buf, false, nil
}

func (s *Subscription) checkLag() error {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.lagLocked()
}

// lagLocked fails a lossy subscription that has more than maxLag events
// published since it subscribed waiting for it.
func (s *Subscription) lagLocked() error {
	if s.lossless || s.ending {
		return nil
	}
	if s.bus.seq-max(s.delivered, s.base) > s.maxLag {
		return &GapError{From: s.delivered, Resume: s.delivered}
	}
	return nil
}

func (s *Subscription) finish(err error) {
	s.bus.mu.Lock()
	s.bus.removeLocked(s)
	s.queue = nil
	s.bus.mu.Unlock()
	s.errMu.Lock()
	s.err = err
	s.errMu.Unlock()
	close(s.out)
}

// GapError reports that a subscriber cannot be given a gap-free stream from
// where it is. It matches ErrGap with errors.Is.
type GapError struct {
	// From is the last sequence number the subscriber received (or the
	// from it asked to start after).
	From uint64
	// Resume is the from to subscribe with next. Resume == From: the
	// subscriber fell behind, and resubscribing replays what it missed.
	// Resume > From: events From+1 … Resume are no longer retained and are
	// lost to it. Resume < From: From is ahead of the bus, which has
	// restarted since.
	Resume uint64
}

// Error describes the gap and where to resume.
func (e *GapError) Error() string {
	switch {
	case e.Resume > e.From:
		return fmt.Sprintf("call: event gap: events %d to %d are no longer retained; resume from %d", e.From+1, e.Resume, e.Resume)
	case e.Resume < e.From:
		return fmt.Sprintf("call: event gap: sequence %d is ahead of the bus (restarted); resume from %d", e.From, e.Resume)
	default:
		return fmt.Sprintf("call: event gap: subscriber fell behind; resume from %d", e.Resume)
	}
}

// Is makes errors.Is(err, ErrGap) true for a *GapError.
func (e *GapError) Is(target error) bool { return target == ErrGap }
