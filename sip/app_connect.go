package sip

import (
	"context"
	"errors"
	"fmt"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
)

// ConnectError says why AppLeg.Connect did not connect the caller; the
// caller is still the application's.
type ConnectError struct {
	// Cause is busy, no_answer, unavailable (no device registered),
	// not_found, not_acceptable (unusable SDP), declined (accept said no),
	// or originator_cancel when the caller hung up meanwhile.
	Cause call.Cause
	// Err is the context's error when Connect's ctx ended (a withdrawn
	// offer), else nil.
	Err error
}

func (e *ConnectError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("sip: connect: %s (%v)", e.Cause, e.Err)
	}
	return "sip: connect: " + e.Cause.String()
}

func (e *ConnectError) Unwrap() error { return e.Err }

// ErrCallerGone is returned by Connect when the caller's leg has ended.
var ErrCallerGone = errors.New("sip: the caller has hung up")

// Connection is a caller that Connect connected to an extension: the call
// goes on as a two-party call (media relayed, re-INVITEs, hold) and the
// application's part is over.
type Connection struct {
	// Target is the extension that answered.
	Target string
	ended  <-chan CallEnd
}

// Ended delivers how the connected call ended, once.
func (c *Connection) Ended() <-chan CallEnd { return c.ended }

// CallEnd is how a connected call ended.
type CallEnd struct {
	Cause call.Cause
	Side  call.Side
	// Talk is from the answer to the end, hold included; Hold is how long
	// either party held the other.
	Talk, Hold time.Duration
}

// connectReq is a Connect waiting for the call goroutine.
type connectReq struct {
	ctx     context.Context
	targets []string
	accept  func(target string) bool
	reply   chan connectReply

	live map[*uacLeg]string // ringing branches → their target
	best int                // best final response so far (betterFinal)
	done bool
	stop func() bool // stops the withdrawal watch
}

type connectReply struct {
	conn *Connection
	err  error
}

// Connect rings the extensions targets (every registered device of each)
// while the application goes on playing to the caller — music on hold,
// announcements: the caller hears no ringback. It returns when a device
// answers and accept agrees (accept runs on the call goroutine and must
// not block long: it is where the ACD reports the offer taken), when every
// device refused or failed, when ctx ends (the offer was withdrawn: the
// devices get CANCEL) or when the caller hangs up.
//
// Connected, the caller's media moves from the application's endpoint onto
// a relay with the device, and the application must return from Run
// without touching the leg again (its AppResult is ignored). A device that
// answers when accept says no gets ACK and BYE (RFC 3261 §13.2.2.4).
// Several Connects may ring at once (an ACD ringing agents one by one, or
// all together); the first accepted answer wins and the others fail.
func (l *AppLeg) Connect(ctx context.Context, targets []string, accept func(target string) bool) (*Connection, error) {
	if len(targets) == 0 {
		return nil, &ConnectError{Cause: call.CauseUnavailable}
	}
	if accept == nil {
		accept = func(string) bool { return true }
	}
	req := &connectReq{ctx: ctx, targets: targets, accept: accept, reply: make(chan connectReply, 1)}
	select {
	case l.c.connects <- req:
	case <-l.ctx.Done():
		return nil, ErrCallerGone
	case <-ctx.Done():
		return nil, &ConnectError{Cause: call.CauseOriginatorCancel, Err: ctx.Err()}
	}
	r := <-req.reply // the call goroutine answers every request it took
	return r.conn, r.err
}

// ringing is the call goroutine's state of the Connects in progress.
type ringing struct {
	reqs      map[*connectReq]bool
	legOf     map[*uacLeg]*connectReq
	events    chan branchEvent
	withdrawn chan *connectReq
	ctx       context.Context // ends when the app loop does: late 2xx get ACK+BYE
	cancel    context.CancelFunc
}

func newRinging() *ringing {
	ctx, cancel := context.WithCancel(context.Background())
	return &ringing{reqs: map[*connectReq]bool{}, legOf: map[*uacLeg]*connectReq{},
		events: make(chan branchEvent, 32), withdrawn: make(chan *connectReq, 8), ctx: ctx, cancel: cancel}
}

// start forks req to its targets' devices; it answers req at once when
// none can ring.
func (c *b2bCall) startConnect(rg *ringing, req *connectReq) {
	req.live = map[*uacLeg]string{}
	if c.media.bSess == nil {
		if err := c.openCalleeMedia(); err != nil {
			c.log.Error("media_unavailable", "error", err)
			c.finishConnect(rg, req, &ConnectError{Cause: call.CauseCongestion})
			return
		}
	}
	notFound := 0
	for _, target := range req.targets {
		if _, err := c.s.b2b.Directory.Extension(req.ctx, target); err != nil {
			notFound++
			continue
		}
		c.forkTo(rg.ctx, c.s.registrar.Table().Lookup(target), target, c.media.aRemote, rg.events, func(l *uacLeg) {
			req.live[l] = target
			rg.legOf[l] = req
		})
	}
	if len(req.live) == 0 {
		cause := call.CauseUnavailable
		if notFound == len(req.targets) {
			cause = call.CauseNotFound
		}
		c.finishConnect(rg, req, &ConnectError{Cause: cause})
		return
	}
	rg.reqs[req] = true
	c.log.Info("connect_ringing", "targets", req.targets, "branches", len(req.live))
	// A withdrawn offer (ctx ends) comes back to the call goroutine.
	req.stop = context.AfterFunc(req.ctx, func() {
		select {
		case rg.withdrawn <- req:
		case <-rg.ctx.Done():
		}
	})
}

// finishConnect answers req with err (nil only through connectAnswered)
// and cancels its ringing branches.
func (c *b2bCall) finishConnect(rg *ringing, req *connectReq, err error) {
	if req.done {
		return
	}
	closeConnect(rg, req)
	req.reply <- connectReply{err: err}
}

// closeConnect ends req's ringing: it is no longer withdrawable and its
// branches still in req.live get CANCEL.
func closeConnect(rg *ringing, req *connectReq) {
	req.done = true
	delete(rg.reqs, req)
	if req.stop != nil {
		req.stop()
	}
	for l := range req.live {
		go l.cancel(context.Background())
	}
}

// stopRinging answers every Connect in progress with err and ends the
// branch readers (a 2xx arriving later is ACKed and BYEd: settleBranches).
func (c *b2bCall) stopRinging(rg *ringing, err error) {
	for req := range rg.reqs {
		c.finishConnect(rg, req, err)
	}
	settleBranches(rg.cancel, rg.events)
}

// connectEvent handles one response of a Connect's branch. It reports true
// when the caller is now connected.
func (c *b2bCall) connectEvent(rg *ringing, leg *AppLeg, ev branchEvent) bool {
	l := ev.leg
	req := rg.legOf[l]
	if req == nil {
		return false
	}
	final := ev.done || ev.res == nil || !ev.res.IsProvisional()
	if final {
		delete(rg.legOf, l)
	}
	target, ringingNow := req.live[l]
	if final {
		delete(req.live, l)
	}
	switch {
	case ev.done || ev.res == nil:
	case ev.res.IsProvisional():
		return false
	case ev.res.IsSuccess():
		if req.done || !ringingNow {
			// Answered after the offer was withdrawn (§13.2.2.4).
			l.confirm(ev.res)
			go l.bye()
			return false
		}
		if !req.accept(target) {
			l.confirm(ev.res)
			go l.bye()
			c.finishConnect(rg, req, &ConnectError{Cause: call.CauseDeclined})
			return false
		}
		if err := l.confirm(ev.res); err != nil {
			c.log.Warn("ack_failed", "error", err)
		}
		return c.connectAnswered(rg, req, leg, l, target, ev.res)
	default:
		req.best = betterFinal(req.best, int(ev.res.StatusCode))
	}
	if len(req.live) == 0 && !req.done {
		code := req.best
		if code == 0 {
			code = 480
		}
		c.finishConnect(rg, req, &ConnectError{Cause: call.CauseFromSIP(code)})
	}
	return false
}

// connectAnswered bridges the caller to the device that answered a
// Connect. It reports false (and frees the device) when its SDP is
// unusable: the caller stays in the application.
func (c *b2bCall) connectAnswered(rg *ringing, req *connectReq, leg *AppLeg, l *uacLeg, target string, res *gosip.Response) bool {
	if err := c.calleeAnswered(res.Body(), l.binding.Source.Addr()); err != nil {
		c.log.Warn("callee_sdp_unusable", "target", target, "error", err)
		go l.bye()
		c.finishConnect(rg, req, &ConnectError{Cause: call.CauseNotAcceptable})
		return false
	}
	if callee, err := c.s.b2b.Directory.Extension(context.Background(), target); err == nil {
		c.callee = callee
	} else {
		c.callee = call.Party{Number: target}
	}
	c.setCallee(l)
	c.route += " -> extension " + target
	// The winner is no longer ringing; every other branch and Connect fails.
	delete(req.live, l)
	closeConnect(rg, req)
	c.stopRinging(rg, &ConnectError{Cause: call.CauseAnsweredElsewhere})

	ended := make(chan CallEnd, 1)
	c.ended = ended
	c.connectedAt = c.s.now()
	conn := &Connection{Target: target, ended: ended}
	if err := c.relayAppCaller(leg, res); err != nil {
		// The application's endpoint is gone: the call cannot go on; its
		// end reaches Ended like any other.
		c.log.Warn("bridge_relay_failed", "error", err)
		c.hangup(call.CauseNotAcceptable)
	} else {
		c.log.Info("connected", "callee", target)
	}
	req.reply <- connectReply{conn: conn}
	return true
}

// holdChanged keeps the hold time of a connected call: time during which
// either party held the other.
func (c *b2bCall) holdChanged(now time.Time) {
	held := c.held[sideCaller] || c.held[sideCallee]
	switch {
	case held && c.holdSince.IsZero():
		c.holdSince = now
	case !held && !c.holdSince.IsZero():
		c.holdTotal += now.Sub(c.holdSince)
		c.holdSince = time.Time{}
	}
}

// reportEnd tells a Connect's caller how the connected call ended.
func (c *b2bCall) reportEnd(cause call.Cause, side call.Side) {
	if c.ended == nil {
		return
	}
	now := c.s.now()
	c.holdChanged(now)
	hold := c.holdTotal
	if !c.holdSince.IsZero() {
		hold += now.Sub(c.holdSince)
	}
	c.ended <- CallEnd{Cause: cause, Side: side, Talk: now.Sub(c.connectedAt), Hold: hold}
	c.ended = nil
}
