package media

import (
	"log/slog"
	"time"
)

// timeoutState is a session's RTP timeout: the clock runs once armed (by
// SetTimeout, or by the first RTP packet) and restarts whenever the
// ticker sees new packets. Activity is detected per tick from the packet
// counter, so the packet path never touches it. Guarded by Session.mu.
type timeoutState struct {
	timeout   time.Duration // 0: disabled
	armed     bool
	onHold    bool
	fired     bool
	last      time.Time // start of the current silence
	seen      uint64    // packets counted at the last check
	onTimeout func()
}

// restart starts a new silence at now if the clock is armed.
func (t *timeoutState) restart(now time.Time) {
	if t.armed {
		t.last = now
	}
}

// SetTimeout sets how long the leg may receive no RTP before OnTimeout's
// function is called (0 disables), arms the clock from now and allows the
// timeout to fire again. Call it when the call is answered: a ringing leg
// that has never sent RTP is not timed out. A new session has
// media.rtp_timeout and arms on its first packet.
func (s *Session) SetTimeout(d time.Duration) {
	now := s.e.now()
	n := s.packetsIn()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.to.timeout = d
	s.to.armed, s.to.fired = true, false
	s.to.last, s.to.seen = now, n
}

// SetOnHold marks the leg on hold (RFC 3264 §8.4: a=sendonly/inactive) or
// resumed. No timeout applies while on hold, the phone may legitimately
// send nothing; resuming starts a fresh timeout period.
func (s *Session) SetOnHold(hold bool) {
	now := s.e.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.to.onHold && !hold {
		s.to.restart(now)
	}
	s.to.onHold = hold
}

// OnTimeout sets f to be called once when no RTP has arrived for the
// timeout while not on hold. f runs on the engine's Run goroutine: it must
// not block (cancel the call's context, or hand off to a goroutine).
func (s *Session) OnTimeout(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.to.onTimeout = f
}

// packetsIn is the count of accepted RTP packets.
func (s *Session) packetsIn() uint64 {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	return s.rx.packets
}

// checkTimeout is the timeout step of one session at time now: packets
// seen since the last check restart the clock; a silence of the timeout
// fires the callback, once.
func (s *Session) checkTimeout(now time.Time) {
	if s.closed.Load() {
		return
	}
	n := s.packetsIn()
	s.mu.Lock()
	t := &s.to
	if n != t.seen {
		t.seen, t.last, t.armed = n, now, true
	}
	if !t.armed || t.fired || t.onHold || t.timeout <= 0 || now.Sub(t.last) < t.timeout {
		s.mu.Unlock()
		return
	}
	t.fired = true
	f, silence := t.onTimeout, now.Sub(t.last)
	s.mu.Unlock()
	s.logAt(slog.LevelInfo, "rtp timeout", "silence", silence.String())
	s.e.metrics.RTPTimeout()
	if f != nil {
		f()
	}
}
