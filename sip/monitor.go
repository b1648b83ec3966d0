package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/mixer"
	"github.com/switchd/switchd/media/tap"
)

// Errors of Server.Monitor.
var (
	// ErrNoLiveCall: the extension is in no connected two-party call.
	ErrNoLiveCall = errors.New("sip: no connected call of that extension")
	// ErrMonitored: the call already has a supervisor.
	ErrMonitored = errors.New("sip: the call is already monitored")
)

// Monitor is a supervisor on a live two-party call: while it lasts the
// call's media goes through an in-process mixer (media/mixer) instead of
// the undecoded relay, and the supervisor's mode says who hears whom:
// listen (the supervisor hears both, nobody hears the supervisor),
// whisper (only the agent hears the supervisor), barge (three-way).
type Monitor struct {
	// CallID is the monitored call; Agent the party whose extension was
	// asked for, Customer the other one.
	CallID          call.ID
	Agent, Customer call.Party

	c       *b2bCall
	sup     *mixer.Participant
	agent   *mixer.Participant
	done    chan struct{} // closed once the call is off the mixer
	stopped atomic.Bool
}

// SetMode switches the supervisor's mode during the session.
func (m *Monitor) SetMode(mode mixer.Mode) error { return m.sup.Supervise(m.agent, mode) }

// Done is closed when the session is over: Stop, or the call ended.
func (m *Monitor) Done() <-chan struct{} { return m.done }

// Stop ends the session: the supervisor leaves and the call goes back to
// the relay. It returns once that happened (or the call ended).
func (m *Monitor) Stop() {
	if m.stopped.CompareAndSwap(false, true) {
		select {
		case m.c.monitors <- monitorReq{stop: m}:
		case <-m.done:
		}
	}
	<-m.done
}

// monitorReq asks a call's goroutine to start or stop a monitor.
type monitorReq struct {
	sup   *AppLeg
	ext   string
	mode  mixer.Mode
	reply chan monitorReply
	stop  *Monitor
}

type monitorReply struct {
	m   *Monitor
	err error
}

// monitorState is a call's side of a monitor (owned by its goroutine).
type monitorState struct {
	m        *Monitor
	mix      *mixer.Mixer
	cancel   context.CancelFunc
	eps      []*media.Endpoint
	subs     []*tap.Subscription
	sup      *AppLeg
	feedDone sync.WaitGroup
}

// liveParties is what Monitor matches a call by: set while the call is
// connected two-party.
type liveParties struct{ caller, callee string }

// Monitor puts supervisor leg sup (an app call: the supervisor dialled a
// code) on the connected two-party call of extension ext, in mode.
func (s *Server) Monitor(ctx context.Context, ext string, sup *AppLeg, mode mixer.Mode) (*Monitor, error) {
	var target *b2bCall
	s.calls.mu.Lock()
	for bc := range s.calls.m {
		if p := bc.live.Load(); p != nil && bc != sup.c && (p.caller == ext || p.callee == ext) {
			target = bc
			break
		}
	}
	s.calls.mu.Unlock()
	if target == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoLiveCall, ext)
	}
	req := monitorReq{sup: sup, ext: ext, mode: mode, reply: make(chan monitorReply, 1)}
	select {
	case target.monitors <- req:
	case <-target.gone:
		return nil, fmt.Errorf("%w: %s", ErrNoLiveCall, ext)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-sup.ctx.Done():
		return nil, ErrCallerGone
	}
	select {
	case r := <-req.reply:
		return r.m, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// onMonitor handles a monitor request on the call goroutine.
func (c *b2bCall) onMonitor(req monitorReq) {
	if req.stop != nil {
		if c.mon != nil && c.mon.m == req.stop {
			c.stopMonitor(true)
		}
		return
	}
	if c.mon != nil {
		req.reply <- monitorReply{err: ErrMonitored}
		return
	}
	m, err := c.startMonitor(req)
	req.reply <- monitorReply{m: m, err: err}
}

// startMonitor moves the call from its relay onto a mixer with the
// supervisor. Leg A and leg B get endpoints whose sources are their mix
// and whose taps feed the mixer.
func (c *b2bCall) startMonitor(req monitorReq) (*Monitor, error) {
	md := &c.media
	if md.relay == nil || md.aSess == nil || md.bSess == nil || c.moh != nil {
		return nil, fmt.Errorf("%w: the call is not relayed now (on hold?)", ErrNoLiveCall)
	}
	agentIsA := c.caller.Number == req.ext
	st := &monitorState{sup: req.sup, mix: mixer.New(mixer.Config{Logger: c.log, Cushion: 1})}
	pA, err := st.mix.Join("a", mixer.JoinConfig{})
	if err != nil {
		return nil, err
	}
	pB, err := st.mix.Join("b", mixer.JoinConfig{})
	if err != nil {
		return nil, err
	}
	agent := pB
	mon := &Monitor{CallID: c.id, c: c, done: make(chan struct{}), Agent: c.callee, Customer: c.caller}
	if agentIsA {
		agent = pA
		mon.Agent, mon.Customer = c.caller, c.callee
	}
	pSup, err := st.mix.Join("supervisor", mixer.JoinConfig{Mode: req.mode, Agent: agent})
	if err != nil {
		return nil, err
	}
	mon.sup, mon.agent = pSup, agent
	st.m = mon

	md.relay.Stop()
	md.relayCancel()
	md.relay = nil
	ctx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	for _, leg := range []struct {
		sess   *media.Session
		codecs []media.Codec
		tp     *tap.Point
		p      *mixer.Participant
	}{{md.aSess, md.aCodecs, md.aTap, pA}, {md.bSess, md.bCodecs, md.bTap, pB}} {
		cfg := endpointFor(leg.codecs)
		cfg.Source, cfg.Tap = leg.p, leg.tp
		ep, err := leg.sess.StartEndpoint(ctx, cfg)
		if err != nil {
			c.mon = st
			c.stopMonitor(true)
			return nil, fmt.Errorf("sip: monitor endpoint: %w", err)
		}
		st.eps = append(st.eps, ep)
		st.feed(ctx, leg.tp, leg.p)
	}
	st.feed(ctx, req.sup.Tap(), pSup)
	req.sup.SetSource(pSup)
	go st.mix.Run(ctx)
	c.mon = st
	c.log.Info("monitor_started", "supervisor", req.sup.Caller().Number, "agent", req.ext, "mode", req.mode.String())
	return mon, nil
}

// feed writes what a tap's phone sends into a mixer participant.
func (st *monitorState) feed(ctx context.Context, tp *tap.Point, p *mixer.Participant) {
	sub := tp.Subscribe(4, tap.In)
	st.subs = append(st.subs, sub)
	st.feedDone.Add(1)
	go func() {
		defer st.feedDone.Done()
		p.Feed(ctx, sub)
	}()
}

// stopMonitor takes the call off the mixer; relay brings the relay back
// (false when the call is ending).
func (c *b2bCall) stopMonitor(relay bool) {
	st := c.mon
	if st == nil {
		return
	}
	c.mon = nil
	st.sup.SetSource(nil)
	st.cancel()
	for _, ep := range st.eps {
		ep.Stop()
	}
	for _, sub := range st.subs {
		sub.Close()
	}
	st.feedDone.Wait()
	st.mix.Close()
	if relay {
		if err := c.startRelay(); err != nil {
			c.log.Warn("relay_after_monitor_failed", "error", err)
			c.hangup(call.CauseFailure)
		}
	}
	c.log.Info("monitor_stopped", "supervisor", st.sup.Caller().Number)
	close(st.m.done)
}
