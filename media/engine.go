// Package media is switchd's RTP engine: the UDP port pool, one Session per
// call leg (an RTP/RTCP socket pair, RFC 3550 §11), and the Relay that
// anchors media between two legs of a B2BUA call.
//
// Both phones of a call send RTP to switchd and switchd relays between the
// legs. Each leg learns where its phone really is by symmetric RTP latching
// (RFC 4961): the first packet from the address signalled in SDP, or from
// the IP the SIP signalling came from (a phone behind NAT), fixes the
// remote; packets from anywhere else are dropped ("RTP bleed" protection).
// Two legs that share a codec are relayed without decoding; telephone-event
// (RFC 4733) payload types are rewritten between legs, and G.711 μ-law and
// A-law are converted directly when the legs share no codec.
//
// RTCP is terminated per leg: switchd reads each phone's reports (for the
// CDR) and sends its own SR/RR; RTCP is never relayed between legs.
//
// Goroutines: a running Relay reads each leg's RTP socket in one goroutine
// per direction; one goroutine per Engine reads the RTCP sockets of all its
// sessions (on Linux; it runs while any session is open); the Engine's Run
// drives every session's RTP timeout and RTCP reports from a single
// ticker. So an anchored call costs two goroutines.
package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// defaultTick is how often Run checks timeouts and report schedules. RTP
// timeouts are tens of seconds and RTCP intervals seconds, so a second of
// resolution is plenty.
const defaultTick = time.Second

// Engine owns the RTP port pool and every Session; Run drives their
// timers. Create it with NewEngine, start Run in a goroutine, and Close it
// at shutdown.
type Engine struct {
	cfg     Config
	bind    netip.Addr
	log     *slog.Logger
	now     func() time.Time
	metrics Metrics
	tick    time.Duration
	ports   *portPool

	mu       sync.Mutex
	sessions map[*Session]struct{}
	closed   bool

	tickMu sync.Mutex // serialises steps; guards snap
	snap   []*Session

	rtcpIn rtcpReader // reads every session's RTCP socket

	clocks internSet[clockTable]  // shared clock tables of the sessions
	plans  internSet[actionTable] // shared payload plans of the relays

	running   atomic.Bool
	done      chan struct{}
	closeOnce sync.Once
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock the engine reads for packet arrival times,
// timeouts and RTCP timestamps. Default time.Now.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithMetrics sets the receiver of session events (see Metrics). Default:
// none.
func WithMetrics(m Metrics) Option { return func(e *Engine) { e.metrics = m } }

// withTick sets how often Run steps (tests).
func withTick(d time.Duration) Option { return func(e *Engine) { e.tick = d } }

// NewEngine builds an engine on the media section cfg. It opens no socket:
// ports are bound by NewSession. log may be nil.
func NewEngine(cfg Config, log *slog.Logger, opts ...Option) (*Engine, error) {
	if problems := cfg.Validate(); len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, fmt.Errorf("media: invalid configuration: %w", errors.Join(errs...))
	}
	bind, _ := cfg.bindAddr()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg:      cfg,
		bind:     bind,
		log:      log,
		now:      time.Now,
		metrics:  nopMetrics{},
		tick:     defaultTick,
		ports:    newPortPool(cfg.RTPPorts),
		sessions: make(map[*Session]struct{}),
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

// Run drives the engine-wide timers until ctx is done or the engine is
// closed: every tick it checks each session's RTP timeout and sends the
// RTCP reports that are due. One ticker serves all sessions. Run returns
// nil, or ErrRunning if it is already running.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer e.running.Store(false)
	runTicker(ctx, e.done, e.tick, func(time.Time) { e.step(e.now()) })
	return nil
}

// runTicker calls step every interval until ctx is done or done is closed.
func runTicker(ctx context.Context, done <-chan struct{}, interval time.Duration, step func(time.Time)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case now := <-t.C:
			step(now)
		}
	}
}

// step is one tick of Run: RTP timeouts first, then RTCP reports.
func (e *Engine) step(now time.Time) {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	e.snap = e.snapshot(e.snap[:0])
	for _, s := range e.snap {
		s.checkTimeout(now)
	}
	if e.cfg.RTCPInterval > 0 {
		for _, s := range e.snap {
			s.maybeReport(now)
		}
	}
	clear(e.snap) // drop references to sessions closed before the next tick
}

// checkTimeouts is the timeout half of step, for tests.
func (e *Engine) checkTimeouts(now time.Time) {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	e.snap = e.snapshot(e.snap[:0])
	for _, s := range e.snap {
		s.checkTimeout(now)
	}
	clear(e.snap)
}

// snapshot appends the open sessions to dst, so steps do their I/O and
// callbacks without holding e.mu.
func (e *Engine) snapshot(dst []*Session) []*Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	for s := range e.sessions {
		dst = append(dst, s)
	}
	return dst
}

// add registers a new session; false once the engine is closed.
func (e *Engine) add(s *Session) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.sessions[s] = struct{}{}
	return true
}

// remove forgets a closed session and returns its ports to the pool.
func (e *Engine) remove(s *Session) {
	e.mu.Lock()
	delete(e.sessions, s)
	e.mu.Unlock()
	e.ports.release(s.port)
}

// EngineStats is a snapshot of the engine's resources.
type EngineStats struct {
	// Sessions is the number of open sessions.
	Sessions int
	// PortsInUse is the number of UDP ports reserved by open sessions
	// (two per session: RTP and RTCP).
	PortsInUse int
	// PortsTotal is the number of usable ports of media.rtp_ports.
	PortsTotal int
}

// Stats returns the engine's resource counts.
func (e *Engine) Stats() EngineStats {
	e.mu.Lock()
	n := len(e.sessions)
	e.mu.Unlock()
	return EngineStats{Sessions: n, PortsInUse: 2 * e.ports.pairsInUse(), PortsTotal: 2 * e.ports.size()}
}

// Close closes every open session and stops Run. It is idempotent; after
// it NewSession fails with ErrClosed.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		open := make([]*Session, 0, len(e.sessions))
		for s := range e.sessions {
			open = append(open, s)
		}
		e.mu.Unlock()
		close(e.done)
		for _, s := range open {
			s.Close()
		}
	})
	return nil
}
