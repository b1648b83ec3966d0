// Package call is the core every medium shares: a contact (a SIP or WebRTC
// call, or a web chat as a pseudo-call) is a Call with one time-ordered ID,
// one or more Legs, a State moved by Transition, and a Cause when it ends.
// Its state changes are Events on a Bus that internal persisters (CDRs)
// and API clients (dashboards, agent pages) subscribe to from a sequence
// number, so a reconnecting client misses nothing.
//
// The package imports only the standard library; ivr and acd are written
// against its interfaces (Leg, Prompter) so one flow serves voice and chat.
package call

import (
	"fmt"
	"sync"
	"time"
)

// Party is one end of a call as the other end sees it.
type Party struct {
	// Number is the user part or number (E.164 on trunks, the extension
	// internally, a visitor handle on chat).
	Number string `json:"number,omitempty"`
	// Name is the display name, if any.
	Name string `json:"name,omitempty"`
}

// IsZero reports whether nothing is known about the party.
func (p Party) IsZero() bool { return p == Party{} }

// Call is one contact. ID, Medium, Direction, Caller and Callee are set
// before the Call is shared and not changed after; the state, its times,
// the cause and the hangup side change only through Transition and End,
// under the Call's mutex, and are read through their accessors or Snapshot.
type Call struct {
	ID        ID
	Medium    Medium
	Direction Direction
	Caller    Party
	Callee    Party

	mu       sync.Mutex
	state    State
	created  time.Time
	answered time.Time
	ended    time.Time
	cause    Cause
	side     Side
}

// New returns a call in StateCreated, created at.
func New(id ID, m Medium, d Direction, caller, callee Party, at time.Time) *Call {
	return &Call{ID: id, Medium: m, Direction: d, Caller: caller, Callee: callee, state: StateCreated, created: at}
}

// Transition moves the call to state to at time at. It refuses moves the
// state machine does not allow (wrapping ErrIllegalTransition):
//
//	Unknown    → Created
//	Created    → Ringing, EarlyMedia, Answered, Ended
//	Ringing    → EarlyMedia, Answered, Ended
//	EarlyMedia → Ringing, Answered, Ended
//	Answered   → Held, Ended
//	Held       → Answered (resume), Ended
//	Ended      → nothing
//
// A state never moves to itself. Entering Created records the creation
// time, the first Answered the answer time, Ended the end time; to end a
// call with its cause and side use End.
func (c *Call) Transition(to State, at time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transitionLocked(to, at)
}

func (c *Call) transitionLocked(to State, at time.Time) error {
	if !CanTransition(c.state, to) {
		return fmt.Errorf("%w: %s → %s (call %s)", ErrIllegalTransition, c.state, to, c.ID)
	}
	switch to {
	case StateCreated:
		c.created = at
	case StateAnswered:
		if c.answered.IsZero() {
			c.answered = at
		}
	case StateEnded:
		c.ended = at
	}
	c.state = to
	return nil
}

// End moves the call to StateEnded at time at, recording why and who ended
// it. Like Transition it fails for a call that already ended.
func (c *Call) End(at time.Time, cause Cause, side Side) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.transitionLocked(StateEnded, at); err != nil {
		return err
	}
	c.cause, c.side = cause, side
	return nil
}

// State returns the current state.
func (c *Call) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Cause returns why the call ended; CauseUnknown while it is up.
func (c *Call) Cause() Cause {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Snapshot is a consistent copy of a call's identity and state.
type Snapshot struct {
	ID         ID        `json:"id"`
	Medium     Medium    `json:"medium"`
	Direction  Direction `json:"direction"`
	Caller     Party     `json:"caller"`
	Callee     Party     `json:"callee"`
	State      State     `json:"state"`
	Created    time.Time `json:"created"`
	Answered   time.Time `json:"answered,omitzero"`
	Ended      time.Time `json:"ended,omitzero"`
	Cause      Cause     `json:"cause,omitzero"`
	HangupSide Side      `json:"hangup_side,omitzero"`
}

// Duration is how long the call lasted (so far, if now is after creation
// and it has not ended).
func (s Snapshot) Duration(now time.Time) time.Duration {
	end := s.Ended
	if end.IsZero() {
		end = now
	}
	return max(0, end.Sub(s.Created))
}

// Billable is how long the call has been answered (0 if never).
func (s Snapshot) Billable(now time.Time) time.Duration {
	if s.Answered.IsZero() {
		return 0
	}
	end := s.Ended
	if end.IsZero() {
		end = now
	}
	return max(0, end.Sub(s.Answered))
}

// Snapshot returns the call's identity and state at one instant.
func (c *Call) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Snapshot{
		ID: c.ID, Medium: c.Medium, Direction: c.Direction, Caller: c.Caller, Callee: c.Callee,
		State: c.state, Created: c.created, Answered: c.answered, Ended: c.ended,
		Cause: c.cause, HangupSide: c.side,
	}
}

// Event returns an event of type t describing the call as it is now, ready
// for Bus.Publish (which sets Seq and Time), with data attached (may be nil;
// see the Data* keys). A typical state change:
//
//	if err := c.Transition(call.StateAnswered, now); err == nil {
//		bus.Publish(c.Event(call.EventCallAnswered, nil))
//	}
func (c *Call) Event(t EventType, data map[string]string) Event {
	s := c.Snapshot()
	return Event{
		Type: t, CallID: s.ID, Medium: s.Medium, Direction: s.Direction, State: s.State,
		Cause: s.Cause, HangupSide: s.HangupSide, Caller: s.Caller, Callee: s.Callee, Data: data,
	}
}
