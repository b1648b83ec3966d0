package tap

import (
	"sync"
	"sync/atomic"
)

// Subscription is one consumer of a Point. Read frames from C until it
// is closed; Close it when done (idempotent, safe at any time).
type Subscription struct {
	p    *Point
	dirs mask
	ch   chan Frame

	// mu orders sends against closing the channel: offer holds it for
	// reading around its non-blocking send, end for writing around
	// close. It is never held while blocking.
	mu      sync.RWMutex
	closed  bool
	dropped atomic.Uint64
}

// C returns the channel the frames arrive on, in publishing order per
// direction. It is closed by Close or by the Point's Close; frames
// still queued then can be read before the close is seen.
func (s *Subscription) C() <-chan Frame { return s.ch }

// Dropped returns how many frames this subscriber missed because its
// queue was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes: no more frames are queued and the channel closes.
// It is idempotent and race-free with Publish and Point.Close.
func (s *Subscription) Close() {
	s.end()
	s.p.remove(s)
}

// offer queues f without blocking, or counts it dropped.
func (s *Subscription) offer(f *Frame) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- *f:
	default:
		s.dropped.Add(1)
	}
}

// end closes the channel once.
func (s *Subscription) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
