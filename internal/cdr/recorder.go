// Package cdr keeps call detail records. Its Recorder subscribes losslessly
// to the call event bus and writes CDRs from the same events the API
// streams — not from a second code path — batching them on one goroutine so
// the call path never waits for the disk.
package cdr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
)

// Defaults of New.
const (
	// DefaultMaxDelay bounds how long a change waits in memory before it
	// is committed, so a crash mid-call still leaves the call's row.
	DefaultMaxDelay = 50 * time.Millisecond
	// DefaultMaxBatch is the most changes committed in one transaction.
	DefaultMaxBatch = 256
)

const (
	writeTimeout  = 10 * time.Second
	maxAttempts   = 5 // per batch, before it is dropped and logged
	retryBackoff  = 100 * time.Millisecond
	maxRetryDelay = 2 * time.Second
)

// ErrRunning is returned by Run when the recorder already runs.
var ErrRunning = errors.New("cdr: recorder already running")

// Source is the event bus the recorder subscribes to (*call.Bus).
type Source interface {
	Subscribe(from uint64, opts ...call.SubscribeOption) (*call.Subscription, error)
	LastSeq() uint64
}

// Writer stores batches of CDR changes (*store.Store).
type Writer interface {
	WriteCDRs(ctx context.Context, changes []store.CDRChange) error
}

var (
	_ Source = (*call.Bus)(nil)
	_ Writer = (*store.Store)(nil)
)

// Recorder turns call events into CDR rows: call_created inserts the row
// (with the trunk, DID and route of its Data), call_answered records the
// answer time, call_ended completes it (cause, side, codecs, quality, and
// trunk, DID and route from the event's Data, merged over what earlier
// call_answered and call_media events carried; a trunk named late, such as
// the one an outbound call finally went out through, overrides the one
// call_created named).
type Recorder struct {
	w        Writer
	sub      *call.Subscription
	log      *slog.Logger
	maxDelay time.Duration
	maxBatch int

	media map[call.ID]map[string]string // media and routing facts per call until call_ended; owned by the loop

	running   atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{}
	err       error // set before done is closed
}

// Option configures New.
type Option func(*Recorder)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(r *Recorder) { r.log = l } }

// WithMaxDelay sets how long a change may wait before it is committed
// (default DefaultMaxDelay).
func WithMaxDelay(d time.Duration) Option {
	return func(r *Recorder) {
		if d > 0 {
			r.maxDelay = d
		}
	}
}

// WithMaxBatch sets the most changes per transaction (default
// DefaultMaxBatch).
func WithMaxBatch(n int) Option {
	return func(r *Recorder) {
		if n > 0 {
			r.maxBatch = n
		}
	}
}

// New subscribes to src from its current end: every event published after
// New returns is recorded, even before Run starts. Start it with Run, stop
// it with Close.
func New(src Source, w Writer, opts ...Option) (*Recorder, error) {
	r := &Recorder{
		w: w, log: slog.New(slog.DiscardHandler), maxDelay: DefaultMaxDelay, maxBatch: DefaultMaxBatch,
		media: map[call.ID]map[string]string{}, done: make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	sub, err := src.Subscribe(src.LastSeq(), call.Lossless())
	if err != nil {
		return nil, fmt.Errorf("cdr: subscribe: %w", err)
	}
	r.sub = sub
	return r, nil
}

// Run records until ctx ends or the bus closes, then commits what was
// published before that and returns. Wire it so that calls are torn down
// (their call_ended published) before ctx ends, or stop it with Close
// instead, which does the same after those events. Run after Close
// returns nil at once (Close did the work); a second concurrent Run
// returns ErrRunning.
func (r *Recorder) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		if r.closed.Load() {
			return nil
		}
		return ErrRunning
	}
	defer close(r.done)
	r.err = r.loop(ctx)
	return r.err
}

// Close stops the recorder after every event published before Close has
// been written, waiting for Run to return (or doing the work itself if Run
// never started). It returns the error of the last write, if that failed.
// It is idempotent.
func (r *Recorder) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		r.sub.Drain()
		if r.running.CompareAndSwap(false, true) {
			r.err = r.loop(context.Background())
			close(r.done)
		}
	})
	<-r.done
	return r.err
}

// loop owns the batch: it collects changes and commits them at most
// maxDelay after the first one queued, or at once when maxBatch are queued.
func (r *Recorder) loop(ctx context.Context) error {
	defer r.sub.Close()
	wctx := context.WithoutCancel(ctx) // a stopping switch still records its calls
	events, stop := r.sub.Events(), ctx.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	var batch []store.CDRChange
	failures := 0
	flush := func() {
		err := r.write(wctx, batch)
		switch {
		case err == nil:
			batch, failures = batch[:0], 0
		case failures+1 >= maxAttempts:
			r.log.Error("cdr_write_dropped", "changes", len(batch), "first_call_id", batch[0].CDR.ID, "error", err)
			batch, failures = batch[:0], 0
		default:
			failures++
			r.log.Warn("cdr_write_failed", "changes", len(batch), "attempt", failures, "error", err)
			timer.Reset(min(maxRetryDelay, retryBackoff<<(failures-1)))
			armed = true
		}
	}
	for {
		var tick <-chan time.Time
		if armed {
			tick = timer.C
		}
		select {
		case ev, ok := <-events:
			if !ok {
				timer.Stop()
				for len(batch) > 0 { // final flush: retry without waiting for a timer
					flush()
					if len(batch) > 0 {
						time.Sleep(retryBackoff)
					}
				}
				if err := r.sub.Err(); err != nil && !errors.Is(err, call.ErrBusClosed) {
					return fmt.Errorf("cdr: events: %w", err)
				}
				return nil
			}
			ch, ok := r.change(ev)
			if !ok {
				continue
			}
			batch = append(batch, ch)
			if len(batch) >= r.maxBatch && failures == 0 {
				flush()
			} else if !armed {
				timer.Reset(r.maxDelay)
				armed = true
			}
		case <-tick:
			armed = false
			flush()
		case <-stop:
			stop = nil
			r.sub.Drain() // finish what was published, then end
		}
	}
}

func (r *Recorder) write(ctx context.Context, batch []store.CDRChange) error {
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return r.w.WriteCDRs(ctx, batch)
}
