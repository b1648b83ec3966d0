// Package acd is the automatic call distributor: queues of waiting
// contacts, agents with skills and states, and the routing decisions that
// match them. It is pure domain logic written against package call, so the
// same queue serves voice calls and chats (an agent has a capacity per
// medium, e.g. one call and three chats at once).
//
// One Engine owns every queue, agent and contact. Its state lives in a
// single goroutine (Run) fed with operations: the wiring enqueues contacts
// (Enqueue, from an IVR outcome), reports what agents and callers do
// (Login, SetNotReady, OfferAccepted, ContactEnded, Abandon…) and a
// supervisor moves contacts (Move, SetPriority). The engine rings nobody
// itself: it asks the wiring's Connector to Offer a contact to an agent's
// devices and hears back the result; it hands contacts that overflow to the
// Connector too. Every decision is published as a call.Event whose Data
// "reason" says why (which agents were eligible, which was chosen, by what
// criterion); Stats computes service level, ASA, AHT and abandonment from
// those events (docs/ACD_METRICS.md).
//
// Queues are configured in YAML (Parse, LoadDir; see config.go) and can be
// reloaded while contacts wait (Reload): the new rules apply to them at
// once. Time comes from an injected clock; the engine's timers (offer
// timeouts, wrap-ups, relaxation steps, max wait, announcements) run in
// virtual time under testing/synctest.
package acd

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
)

// Engine is the ACD. Create it with New, run it with Run; its methods are
// safe for concurrent use and return ErrStopped once Run has returned.
type Engine struct {
	conn  Connector
	pub   Publisher
	log   *slog.Logger
	now   func() time.Time
	seed  uint64
	agent []Agent

	core *core // owned by the Run goroutine

	ops     chan op
	done    chan struct{} // closed when Run's loop stops
	running sync.Mutex
	started bool
}

// op is one operation run on the engine's goroutine.
type op struct {
	fn    func(s *core, now time.Time)
	reply chan struct{}
}

// Option configures New.
type Option func(*Engine)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithEvents sets where events go (a *call.Bus); default nowhere.
func WithEvents(p Publisher) Option { return func(e *Engine) { e.pub = p } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithSeed seeds the random strategy (default a fixed seed of 1, so runs
// repeat).
func WithSeed(seed uint64) Option { return func(e *Engine) { e.seed = seed } }

// WithAgents loads agent profiles (all logged out) before Run.
func WithAgents(agents ...Agent) Option {
	return func(e *Engine) { e.agent = append(e.agent, agents...) }
}

// WithStickyMemory sets how long the engine remembers which agent served a
// caller (default 24h).
func WithStickyMemory(d time.Duration) Option {
	return func(e *Engine) { e.core.stickyMemory = d }
}

// New returns an engine for the queues of cfg (which must have no errors:
// ErrInvalidConfig) that offers contacts through conn.
func New(cfg Config, conn Connector, opts ...Option) (*Engine, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	e := &Engine{conn: conn, log: slog.Default(), now: time.Now, seed: 1, ops: make(chan op), done: make(chan struct{})}
	e.core = newCore(cfg, nil)
	for _, o := range opts {
		o(e)
	}
	e.core.rand = newRand(e.seed)
	now := e.now()
	for _, a := range e.agent {
		if err := e.core.putAgent(a, now); err != nil {
			return nil, err
		}
	}
	e.core.takeEffects()
	return e, nil
}

// Run owns the engine's state until ctx ends: it applies operations, fires
// timers, and hands offers, withdrawals, exits, announcements and events to
// the Connector and Publisher in order, from a second goroutine it waits
// for. When ctx ends, Run delivers what is pending and returns nil; after
// that every operation returns ErrStopped. Run may be called once.
func (e *Engine) Run(ctx context.Context) error {
	e.running.Lock()
	if e.started {
		e.running.Unlock()
		return ErrRunning
	}
	e.started = true
	e.running.Unlock()

	ob := newOutbox(e.conn, e.pub, e.log)
	var wg sync.WaitGroup
	wg.Go(func() { ob.run(context.WithoutCancel(ctx)) })
	defer func() {
		// Operations fail from now on, so a Connector calling back while
		// the outbox drains gets ErrStopped instead of waiting forever.
		close(e.done)
		ob.close()
		wg.Wait()
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s := e.core
		next := s.next()
		if !next.IsZero() {
			timer.Reset(max(0, next.Sub(e.now())))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			return nil
		case o := <-e.ops:
			o.fn(s, e.now())
			ob.push(s.takeEffects())
			close(o.reply)
		case <-timer.C:
			s.step(e.now())
			ob.push(s.takeEffects())
		}
	}
}

// do runs fn on the engine's goroutine and waits for it.
func (e *Engine) do(ctx context.Context, fn func(s *core, now time.Time)) error {
	o := op{fn: fn, reply: make(chan struct{})}
	select {
	case e.ops <- o:
	case <-e.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	<-o.reply
	return nil
}

// call runs an operation that returns an error.
func (e *Engine) call(ctx context.Context, fn func(s *core, now time.Time) error) error {
	var err error
	if derr := e.do(ctx, func(s *core, now time.Time) { err = fn(s, now) }); derr != nil {
		return derr
	}
	return err
}

// Enqueue puts a contact in its queue and returns its position (or where
// it overflowed when the queue refused it: full, or empty with join_empty
// false). Errors: ErrInvalidContact, ErrDuplicateContact, ErrNoQueue, and
// ErrQueueFull or ErrQueueEmpty when the queue has no overflow target.
func (e *Engine) Enqueue(ctx context.Context, c Contact) (Position, error) {
	var pos Position
	err := e.call(ctx, func(s *core, now time.Time) (err error) {
		pos, err = s.enqueue(c, now)
		return err
	})
	return pos, err
}

// Abandon removes a waiting contact whose caller hung up (offers ringing
// are withdrawn).
func (e *Engine) Abandon(ctx context.Context, id call.ID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.leave(id, EventQueueAbandoned, "", now) })
}

// Cancel removes a waiting contact the wiring takes elsewhere (reason is
// recorded in the event).
func (e *Engine) Cancel(ctx context.Context, id call.ID, reason string) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.leave(id, EventQueueCancelled, reason, now) })
}

// Move puts a waiting contact in another queue (a supervisor's action); it
// keeps its priority and arrival order.
func (e *Engine) Move(ctx context.Context, id call.ID, queue string) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.move(id, queue, now) })
}

// SetPriority changes a waiting contact's priority (a supervisor's action).
func (e *Engine) SetPriority(ctx context.Context, id call.ID, priority int) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.setPriority(id, priority, now) })
}

// OfferAccepted reports that the agent answered the offer: the contact is
// theirs, other offers of it are withdrawn.
func (e *Engine) OfferAccepted(ctx context.Context, id call.ID, agent AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.accepted(id, agent, now) })
}

// OfferRejected reports that the agent declined (or their device failed):
// the contact goes back to its place and the agent's RONA count rises.
func (e *Engine) OfferRejected(ctx context.Context, id call.ID, agent AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.missed(id, agent, "rejected", now) })
}

// OfferTimedOut reports that the agent did not answer in time (the engine
// also expires offers itself at their timeout; a late report then returns
// ErrNoOffer).
func (e *Engine) OfferTimedOut(ctx context.Context, id call.ID, agent AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.missed(id, agent, "timeout", now) })
}

// ContactEnded reports that an answered contact ended (hold is how long it
// was on hold); the agent's wrap-up starts.
func (e *Engine) ContactEnded(ctx context.Context, id call.ID, hold time.Duration) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.ended(id, hold, now) })
}

// PutAgent adds or updates an agent profile (a new agent is logged out).
func (e *Engine) PutAgent(ctx context.Context, a Agent) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.putAgent(a, now) })
}

// RemoveAgent forgets a logged-out agent.
func (e *Engine) RemoveAgent(ctx context.Context, id AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.removeAgent(id, now) })
}

// Login makes a logged-out agent available.
func (e *Engine) Login(ctx context.Context, id AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.login(id, now) })
}

// Logout logs an agent out; their ringing offers are withdrawn and the
// contacts keep their places.
func (e *Engine) Logout(ctx context.Context, id AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.logout(id, now) })
}

// SetNotReady pauses an agent with a reason code.
func (e *Engine) SetNotReady(ctx context.Context, id AgentID, r Reason) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.setNotReady(id, r, now) })
}

// SetAvailable ends an agent's pause (and wrap-up).
func (e *Engine) SetAvailable(ctx context.Context, id AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.setAvailable(id, now) })
}

// EndWrapUp ends an agent's wrap-up early.
func (e *Engine) EndWrapUp(ctx context.Context, id AgentID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.endWrapUp(id, now) })
}

// OwnCallStarted reports a non-queue call of the agent (an outbound or
// direct call): they are busy for queue purposes until OwnCallEnded.
func (e *Engine) OwnCallStarted(ctx context.Context, id AgentID, c call.ID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.ownCall(id, c, true, now) })
}

// OwnCallEnded reports the end of a call reported by OwnCallStarted.
func (e *Engine) OwnCallEnded(ctx context.Context, id AgentID, c call.ID) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.ownCall(id, c, false, now) })
}

// Reload applies a new queue configuration (see ErrInvalidConfig); the
// new rules apply to contacts already waiting.
func (e *Engine) Reload(ctx context.Context, cfg Config) error {
	return e.call(ctx, func(s *core, now time.Time) error { return s.reload(cfg, now) })
}

// Snapshot returns the agents' states (and the contacts waiting) for the
// wiring to persist.
func (e *Engine) Snapshot(ctx context.Context) (Snapshot, error) {
	var snap Snapshot
	err := e.do(ctx, func(s *core, now time.Time) { snap = s.snapshot(now) })
	return snap, err
}

// Restore brings back agent states from a snapshot taken before a restart
// (profiles must be loaded first) and returns the contacts that were
// waiting; each is published as queue_lost with cause switch_restart, for
// the wiring to record as lost.
func (e *Engine) Restore(ctx context.Context, snap Snapshot) ([]WaitingSnapshot, error) {
	var lost []WaitingSnapshot
	err := e.do(ctx, func(s *core, now time.Time) { lost = s.restore(snap, now) })
	return lost, err
}

// Status returns the queues' and agents' state.
func (e *Engine) Status(ctx context.Context) (Status, error) {
	var st Status
	err := e.do(ctx, func(s *core, now time.Time) { st = s.status(now) })
	return st, err
}
