package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
)

// Batching of the ACD persister.
const (
	acdStoreMaxBatch = 100                    // events committed at once, at most
	acdStoreMaxDelay = 200 * time.Millisecond // how long an event waits in memory, at most
	acdStoreTimeout  = 10 * time.Second       // per write
	acdStoreAttempts = 5                      // writes of a batch before it is dropped and logged
	acdStoreBackoff  = 100 * time.Millisecond // first retry delay, doubling up to acdStoreMaxRetry
	acdStoreMaxRetry = 2 * time.Second
)

// Errors of the ACD persister.
var (
	errACDStoreRunning = errors.New("acd store: already running")
	errACDStoreStopped = errors.New("acd store: stopped")
)

// acdPersister records the ACD's events (queue_* and agent_state) in the
// database as the bus carries them — the routing trace, the events queue
// reports replay, and each agent's last state for a restart (agent_states).
// It subscribes losslessly when it is built, so no event published after
// that is missed, and commits on its own goroutine (Run) in batches of up
// to acdStoreMaxBatch events, at most acdStoreMaxDelay after an event
// arrives: a crash loses at most that much.
type acdPersister struct {
	st  *store.Store
	bus *call.Bus
	sub *call.Subscription
	log *slog.Logger

	from     uint64 // the bus sequence subscribed after
	maxBatch int
	maxDelay time.Duration

	flushes chan acdFlush
	running atomic.Bool
	done    chan struct{} // closed when Run returns
}

// acdFlush asks Run to commit every event up to bus sequence upTo.
type acdFlush struct {
	upTo  uint64
	reply chan error
}

// acdPending is what Run has not committed yet: events, and the latest
// state of each agent they changed.
type acdPending struct {
	events []call.Event
	states map[string]store.AgentState
}

func (b *acdPending) empty() bool { return len(b.events) == 0 && len(b.states) == 0 }

// newACDPersister subscribes to bus from its current end: every event
// published after it returns is recorded once Run runs.
func newACDPersister(st *store.Store, bus *call.Bus, log *slog.Logger) (*acdPersister, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	from := bus.LastSeq()
	sub, err := bus.Subscribe(from, call.Lossless())
	if err != nil {
		return nil, fmt.Errorf("acd store: subscribe: %w", err)
	}
	return &acdPersister{
		st: st, bus: bus, sub: sub, log: log, from: from,
		maxBatch: acdStoreMaxBatch, maxDelay: acdStoreMaxDelay,
		flushes: make(chan acdFlush), done: make(chan struct{}),
	}, nil
}

// persistsACDEvent reports whether the persister records e: queue_*,
// agent_state and call_transferred events (a contact's trace shows who
// moved it where, under its one call ID).
func persistsACDEvent(e call.Event) bool {
	return strings.HasPrefix(string(e.Type), "queue_") || e.Type == acd.EventAgentState || e.Type == call.EventCallTransferred
}

// Run records events until ctx ends or the bus closes, then commits every
// event published before that and returns. Writes use a context that
// outlives ctx. It returns an error if events had to be dropped at the end
// (the database kept failing) or the subscription failed; a second Run
// returns errACDStoreRunning.
func (p *acdPersister) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errACDStoreRunning
	}
	defer close(p.done)
	return p.loop(ctx)
}

// Flush commits every event published on the bus before the call, and
// returns the write's error. It needs Run to be running (it waits for it
// to start, or for ctx); after Run has returned it fails with
// errACDStoreStopped.
func (p *acdPersister) Flush(ctx context.Context) error {
	f := acdFlush{upTo: p.bus.LastSeq(), reply: make(chan error, 1)}
	select {
	case p.flushes <- f:
	case <-p.done:
		return errACDStoreStopped
	case <-ctx.Done():
		return fmt.Errorf("acd store: flush: %w", ctx.Err())
	}
	select {
	case err := <-f.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("acd store: flush: %w", ctx.Err())
	}
}

// loop owns the pending batch.
func (p *acdPersister) loop(ctx context.Context) error {
	defer p.sub.Close()
	wctx := context.WithoutCancel(ctx) // a stopping switch still records its ACD's last events
	events, stop := p.sub.Events(), ctx.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed := false
	arm := func(d time.Duration) {
		timer.Reset(d)
		armed = true
	}
	pending := &acdPending{states: map[string]store.AgentState{}}
	seen := p.from // the last sequence received
	failures := 0
	var waiting []acdFlush
	// commit writes what is pending; after acdStoreAttempts failures in a
	// row it drops it, logged, so a broken disk does not hold memory.
	commit := func() error {
		err := p.write(wctx, pending)
		switch {
		case err == nil:
			failures = 0
			return nil
		case failures+1 >= acdStoreAttempts:
			p.log.Error("acd_store_dropped", "events", len(pending.events), "agent_states", len(pending.states), "error", err)
			clear(pending.events)
			pending.events, failures = pending.events[:0], 0
			clear(pending.states)
			return fmt.Errorf("acd store: dropped after %d attempts: %w", acdStoreAttempts, err)
		default:
			failures++
			p.log.Warn("acd_store_write_failed", "events", len(pending.events), "attempt", failures, "error", err)
			arm(min(acdStoreMaxRetry, acdStoreBackoff<<(failures-1)))
			return err
		}
	}
	// answer commits for the flush requests whose events have all
	// arrived (all of them when the subscription has ended).
	answer := func(all bool) {
		n := 0
		for _, f := range waiting {
			if all || f.upTo <= seen {
				n++
			}
		}
		if n == 0 {
			return
		}
		err := commit()
		kept := waiting[:0]
		for _, f := range waiting {
			if all || f.upTo <= seen {
				f.reply <- err
			} else {
				kept = append(kept, f)
			}
		}
		waiting = kept
	}
	for {
		var tick <-chan time.Time
		if armed {
			tick = timer.C
		}
		select {
		case e, ok := <-events:
			if !ok {
				if armed {
					timer.Stop()
				}
				var err error
				for attempt := 0; !pending.empty(); attempt++ { // final commit: retry without a timer
					if attempt > 0 {
						time.Sleep(min(acdStoreMaxRetry, acdStoreBackoff<<(attempt-1)))
					}
					err = commit()
				}
				for _, f := range waiting {
					f.reply <- err
				}
				if serr := p.sub.Err(); serr != nil && !errors.Is(serr, call.ErrBusClosed) {
					return errors.Join(err, fmt.Errorf("acd store: events: %w", serr))
				}
				return err
			}
			seen = e.Seq
			if persistsACDEvent(e) {
				pending.add(e)
				if len(pending.events) >= p.maxBatch && failures == 0 {
					if armed {
						timer.Stop()
						armed = false
					}
					_ = commit() // logged; retried on the timer
				} else if !armed {
					arm(p.maxDelay)
				}
			}
			answer(false)
		case <-tick:
			armed = false
			if !pending.empty() {
				_ = commit()
			}
		case f := <-p.flushes:
			waiting = append(waiting, f)
			answer(false)
		case <-stop:
			stop = nil
			p.sub.Drain() // deliver what was published, then close events
		}
	}
}

// add queues e, and the agent state an agent_state event carries.
func (b *acdPending) add(e call.Event) {
	b.events = append(b.events, e)
	if e.Type != acd.EventAgentState || e.Data[acd.DataAgent] == "" {
		return
	}
	b.states[e.Data[acd.DataAgent]] = store.AgentState{
		Agent: e.Data[acd.DataAgent], State: e.Data[acd.DataState], Reason: e.Data[acd.DataNotReady], Since: e.Time,
	}
}

// write commits the pending events in one transaction, then the agents'
// latest states; what is written leaves b, so a retry writes nothing
// twice. An agent without a stored profile has no state row: it is logged
// and skipped.
func (p *acdPersister) write(ctx context.Context, b *acdPending) error {
	if len(b.events) > 0 {
		wctx, cancel := context.WithTimeout(ctx, acdStoreTimeout)
		err := p.st.AppendQueueEvents(wctx, b.events)
		cancel()
		if err != nil {
			return fmt.Errorf("acd store: %d events: %w", len(b.events), err)
		}
		clear(b.events)
		b.events = b.events[:0]
	}
	agents := make([]string, 0, len(b.states))
	for a := range b.states {
		agents = append(agents, a)
	}
	slices.Sort(agents)
	for _, a := range agents {
		s := b.states[a]
		wctx, cancel := context.WithTimeout(ctx, acdStoreTimeout)
		err := p.st.PutAgentState(wctx, s.Agent, s.State, s.Reason, s.Since)
		cancel()
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.log.Warn("acd_store_agent_unknown", "agent", a, "state", s.State)
		case err != nil:
			return fmt.Errorf("acd store: agent %s state: %w", a, err)
		}
		delete(b.states, a)
	}
	return nil
}

// recoverACD builds, from what the previous run stored, the snapshot that
// acd.Engine.Restore takes at start-up: each agent's last state (busy,
// reserved and wrap-up agents come back available; one paused, or with a
// pause pending, comes back not ready with its reason; an available one
// keeps its idle time), and the contacts that were waiting, which Restore
// publishes as queue_lost with cause switch_restart. Taken is now. Call it
// before the engine publishes anything. An agent whose stored state this
// switchd does not know is left out (logged out).
func recoverACD(ctx context.Context, st *store.Store, now time.Time) (acd.Snapshot, error) {
	snap := acd.Snapshot{Taken: now}
	states, err := st.AgentStates(ctx)
	if err != nil {
		return acd.Snapshot{}, fmt.Errorf("acd recover: %w", err)
	}
	for _, s := range states {
		var state acd.AgentState
		if err := state.UnmarshalText([]byte(s.State)); err != nil || state == acd.AgentStateUnknown {
			continue
		}
		as := acd.AgentSnapshot{ID: acd.AgentID(s.Agent), State: state}
		switch {
		case state == acd.AgentLoggedOut: // Restore leaves it logged out
		case state == acd.AgentNotReady || s.Reason != "":
			as.NotReady, as.Reason = true, acd.Reason(s.Reason)
			if as.Reason == "" {
				as.Reason = acd.ReasonUnspecified
			}
		case state == acd.AgentAvailable:
			as.IdleSince = s.Since
		}
		snap.Agents = append(snap.Agents, as)
	}
	waiting, err := st.WaitingContacts(ctx)
	if err != nil {
		return acd.Snapshot{}, fmt.Errorf("acd recover: %w", err)
	}
	for _, w := range waiting {
		var m call.Medium
		_ = m.UnmarshalText([]byte(w.Medium)) // unknown stays unknown: the contact is lost either way
		ws := acd.WaitingSnapshot{ID: call.ID(w.CallID), Medium: m, Queue: w.Queue, Joined: w.Joined}
		if w.Caller != "" {
			ws.Caller = call.Party{Number: w.Caller}
		}
		snap.Waiting = append(snap.Waiting, ws)
	}
	return snap, nil
}

// loadQueueStats replays the stored events since since, in order, into
// statistics with cfg's thresholds: the queue metrics of a report interval
// (contacts that joined before since count only by how they left).
func loadQueueStats(ctx context.Context, st *store.Store, cfg acd.Config, since time.Time) (*acd.Stats, error) {
	stats := acd.NewStats(cfg)
	for e, err := range st.ExportQueueEvents(ctx, store.QueueEventFilter{Since: since}) {
		if err != nil {
			return nil, fmt.Errorf("acd stats: %w", err)
		}
		stats.Add(e)
	}
	return stats, nil
}
