package sip

import (
	"context"
	"errors"
	"strconv"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media/sdp"
)

const causeMediaTimeout = call.CauseMediaTimeout

// branchEvent is a response on one forked branch, or its end.
type branchEvent struct {
	leg  *uacLeg
	res  *gosip.Response // nil when the transaction ended without a final response
	done bool
}

// run drives the call from the caller's INVITE to the end. It is the only
// goroutine that changes the call; everything else sends it messages.
func (c *b2bCall) run() {
	start := c.s.now()
	c.publish(call.EventCallCreated, nil)
	var cause call.Cause
	var side call.Side
	if c.app != nil {
		cause, side = c.runApp() // CauseUnknown: bridged to an extension
	} else {
		cause, side = c.setup()
	}
	for cause == call.CauseUnknown {
		cause, side = c.connected()
		if cause == call.CauseUnknown { // transferred to an application
			cause, side = c.runTransferredApp()
		}
	}
	c.teardown(cause, side, start)
	close(c.gone)
}

// setup forks the call to the callee's contacts and answers the caller when
// one of them answers. It returns CauseUnknown when the call is connected.
func (c *b2bCall) setup() (call.Cause, call.Side) {
	a := c.a
	aOffer, ok := c.callerInvite()
	if !ok {
		return call.CauseNotAcceptable, call.SideCaller
	}
	if err := c.openMedia(); err != nil {
		c.log.Error("media_unavailable", "error", err)
		a.reject(503, "Media Resources Unavailable")
		return call.CauseCongestion, call.SideSwitch
	}

	if c.out == nil {
		// Pickup finds the call from before its first INVITE goes out: a
		// phone may ring and be picked up before this goroutine runs again.
		defer c.ringFor(c.callee.Number)()
	}
	// Fork: one INVITE per registered contact (RFC 3261 §16.6-style, as a UAC each).
	ctx, cancelBranches := context.WithCancel(context.Background())
	events := make(chan branchEvent, 16)
	defer settleBranches(cancelBranches, events)
	live := map[*uacLeg]bool{}
	defer c.releaseLosers()
	if c.out != nil {
		if !c.huntNext(ctx, aOffer, events, live) {
			a.reject(503, "Service Unavailable (no trunk available)")
			return call.CauseCongestion, call.SideSwitch
		}
	}
	c.fork(ctx, aOffer, events, live)
	if len(live) == 0 {
		a.reject(480, "Temporarily Unavailable")
		return call.CauseUnavailable, call.SideSwitch
	}
	ring := time.NewTimer(c.s.b2b.RingTimeout)
	defer ring.Stop()
	ringing, early := false, false
	best := 0 // best final response so far (RFC 3261 §16.7 step 6, simplified)
	rejectBest := func() (call.Cause, call.Side) {
		code := best
		if code == 0 {
			code = 480
		}
		a.reject(code, reasonFor(code))
		return call.CauseFromSIP(code), call.SideCallee
	}
	cancelAll := func(except *uacLeg) { cancelBranchesExcept(live, except) }

	for {
		select {
		case ev := <-events:
			leg := ev.leg
			if leg.attempt != nil && c.trunkEvent(ctx, ev, aOffer, events, live, &best) == trunkHandled {
				if len(live) == 0 {
					return rejectBest()
				}
				continue
			}
			if ev.done || ev.res == nil {
				delete(live, leg)
			} else if res := ev.res; res.IsProvisional() {
				if res.StatusCode == 100 {
					continue
				}
				if res.StatusCode == 183 && len(res.Body()) > 0 && !early && aOffer != nil {
					if err := c.earlyMedia(leg, res, aOffer); err != nil {
						c.log.Warn("early_media_failed", "error", err)
					} else {
						early = true
						continue
					}
				}
				if !ringing && !early {
					ringing = true
					a.provisional(180, "Ringing", nil)
					c.publish(call.EventCallRinging, nil)
				}
				continue
			} else if res.IsSuccess() {
				delete(live, leg)
				c.setCallee(leg) // the first 2xx: later ones are ACKed and BYEd (settleBranches, RFC 3261 §13.2.2.4)
				if err := leg.confirm(res); err != nil {
					c.log.Warn("ack_failed", "error", err)
				}
				cancelAll(leg)
				return c.answerCaller(res, aOffer)
			} else {
				delete(live, leg)
				best = betterFinal(best, int(res.StatusCode))
				if res.StatusCode >= 600 {
					cancelAll(nil)
					live = map[*uacLeg]bool{}
				}
			}
			if len(live) == 0 {
				return rejectBest()
			}
		case <-c.hunt.timerC():
			c.inviteTimedOut(ctx, aOffer, events, live, &best)
			if len(live) == 0 {
				return rejectBest()
			}
		case <-ring.C:
			cancelAll(nil)
			a.reject(480, "Temporarily Unavailable (no answer)")
			return call.CauseNoAnswer, call.SideSwitch
		case <-a.cancelled:
			// Usually the transaction layer has answered the INVITE 487 already;
			// when our own CANCEL handler matched it, we answer (a no-op otherwise).
			cancelAll(nil)
			a.reject(487, "Request Terminated")
			return call.CauseOriginatorCancel, call.SideCaller
		case cause := <-c.end:
			cancelAll(nil)
			a.reject(503, "Service Unavailable")
			return cause, call.SideSwitch
		case j := <-c.joins:
			// A phone picks this call up (directed or group pickup).
			if j.kind != transferPickup || aOffer == nil || c.out != nil {
				j.reply <- ErrNotRetrievable
				continue
			}
			cancelAll(nil)
			cause, side, err := c.pickupAnswer(j, aOffer)
			if err != nil {
				c.log.Warn("pickup_failed", "error", err)
				j.reply <- err
				a.reject(500, "Server Internal Error (pickup failed)")
				return call.CauseFailure, call.SideSwitch
			}
			return cause, side
		case h := <-c.handoffs:
			// An attended transfer names this ringing consultation call:
			// the transfer rings the callee itself; this call ends.
			if c.refuseHandoff(h, true) {
				cancelAll(nil)
				a.reject(487, "Request Terminated")
				return call.CauseTransferred, call.SideCaller
			}
		}
	}
}

// cancelBranchesExcept sends CANCEL on every ringing branch but except.
func cancelBranchesExcept(live map[*uacLeg]bool, except *uacLeg) {
	for l := range live {
		if l != except {
			l.cancel(context.Background())
		}
	}
}

// fork sends one INVITE per registered contact of the callee (c.bindings;
// RFC 3261 §16.6-style, a UAC branch each), offering our SDP ordered by
// the caller's offer, and reads each branch into events.
func (c *b2bCall) fork(ctx context.Context, aOffer *sdp.Session, events chan<- branchEvent, live map[*uacLeg]bool) {
	c.forkTo(ctx, c.bindings, c.callee.Number, aOffer, events, func(l *uacLeg) { live[l] = true })
}

// forkTo sends one INVITE to toUser per binding and reads each branch into
// events until ctx ends; started gets each branch that was sent.
func (c *b2bCall) forkTo(ctx context.Context, bindings []Binding, toUser string, aOffer *sdp.Session, events chan<- branchEvent, started func(*uacLeg)) {
	for _, b := range bindings {
		offer, err := c.calleeOffer(aOffer, b.Source.Addr())
		if err != nil {
			continue
		}
		leg := c.startBranch(ctx, b, toUser, offer, events)
		if leg != nil {
			started(leg)
		}
	}
}

// startBranch sends one INVITE with offer to the phone of binding b, as the
// caller calling toUser, on side B, and reads its responses into events
// until ctx ends; nil (logged) when it could not be sent.
func (c *b2bCall) startBranch(ctx context.Context, b Binding, toUser string, offer []byte, events chan<- branchEvent) *uacLeg {
	leg, err := c.s.newUACLeg(b, outboundCall{fromUser: c.caller.Number, fromName: c.caller.Name,
		toUser: toUser, domain: c.s.registrar.auth.Realm(), sdp: offer}, c.inbox)
	if err == nil {
		leg.routeTo(c, sideCallee)
		err = leg.start(ctx)
	}
	if err != nil {
		c.log.Warn("branch_failed", "contact", b.Contact, "error", err)
		return nil
	}
	go readBranch(ctx, leg, events)
	return leg
}

// callerInvite checks the caller's INVITE before anything is set up: its
// SDP offer (nil for an offerless INVITE; 400/488 when unusable) and its
// session timer (422 when too brief, RFC 4028 §6). It answers the caller
// itself and reports false when the call cannot go on.
func (c *b2bCall) callerInvite() (*sdp.Session, bool) {
	a := c.a
	var aOffer *sdp.Session
	if body := a.invite.Body(); len(body) > 0 {
		off, err := sdp.Parse(body)
		if err != nil {
			a.reject(400, "Bad SDP")
			return nil, false
		}
		if off.Audio() == nil {
			a.reject(488, "Not Acceptable Here")
			return nil, false
		}
		aOffer = off
	}
	timerHeaders, tooSmall := c.callerTimer()
	if tooSmall != nil {
		a.mu.Lock()
		a.finalSent = true
		a.mu.Unlock()
		a.tx.Respond(tooSmall)
		return nil, false
	}
	c.timerHeaders = timerHeaders
	return aOffer, true
}

// readBranch forwards one branch's responses until its final one. Once
// ctx ends (the call is settled) a 2xx is ACKed and BYEd here instead
// (RFC 3261 §13.2.2.4); settleBranches takes those already forwarded.
func readBranch(ctx context.Context, leg *uacLeg, out chan<- branchEvent) {
	tx := leg.tx
	for {
		select {
		case res := <-tx.Responses():
			if ctx.Err() != nil {
				settleLate(branchEvent{leg: leg, res: res})
				return
			}
			select {
			case out <- branchEvent{leg: leg, res: res}:
			case <-ctx.Done():
				settleLate(branchEvent{leg: leg, res: res})
				return
			}
			if !res.IsProvisional() {
				return
			}
		case <-tx.Done():
			select {
			case out <- branchEvent{leg: leg, done: true}:
			case <-ctx.Done():
			}
			return
		}
	}
}

// settleLate ACKs and hangs up a branch that answered after the call was
// settled (RFC 3261 §13.2.2.4); other responses need nothing.
func settleLate(ev branchEvent) {
	if ev.res != nil && ev.res.IsSuccess() {
		ev.leg.confirm(ev.res)
		ev.leg.bye()
	}
}

// branchGrace is how long settleBranches watches events after the cancel:
// a reader already past its ctx check may still forward one response.
const branchGrace = time.Second

// settleBranches ends the branch readers of events (cancel) and settles
// what they forwarded that nobody will read any more: a 2xx sitting in
// the buffer would otherwise never be ACKed, and the phone would hang up
// after 32 s of retransmitting it.
func settleBranches(cancel context.CancelFunc, events <-chan branchEvent) {
	cancel()
	go func() {
		grace := time.NewTimer(branchGrace)
		defer grace.Stop()
		for {
			select {
			case ev := <-events:
				settleLate(ev)
			case <-grace.C:
				return
			}
		}
	}()
}

// earlyMedia anchors 183 Session Progress media and relays it to the caller.
func (c *b2bCall) earlyMedia(leg *uacLeg, res *gosip.Response, aOffer *sdp.Session) error {
	if err := c.calleeAnswered(res.Body(), leg.binding.Source.Addr()); err != nil {
		return err
	}
	ans, err := c.callerAnswer(aOffer)
	if err != nil {
		return err
	}
	if err := c.startRelay(); err != nil {
		return err
	}
	c.publish(call.EventCallEarlyMedia, nil)
	return c.a.provisional(183, "Session Progress", ans)
}

// answerCaller completes the call on the caller's side after the callee's 2xx.
func (c *b2bCall) answerCaller(res *gosip.Response, aOffer *sdp.Session) (call.Cause, call.Side) {
	fail := func(code int, cause call.Cause) (call.Cause, call.Side) {
		c.a.reject(code, reasonFor(code))
		go c.b.bye()
		return cause, call.SideSwitch
	}
	// After early media the 2xx may repeat the 183's SDP or carry none
	// (the answer was already given); only new SDP changes anything.
	earlyDone := c.media.relay != nil && c.media.bRemote != nil
	if len(res.Body()) > 0 || !earlyDone {
		prev := c.media.bRemote
		if err := c.calleeAnswered(res.Body(), c.b.binding.Source.Addr()); err != nil {
			c.log.Warn("callee_sdp_unusable", "error", err)
			return fail(488, call.CauseNotAcceptable)
		}
		if prev != nil && !sdp.Compare(prev, c.media.bRemote).Any() {
			c.media.bRemote = prev
		} else {
			earlyDone = false
		}
	}
	var body []byte
	var err error
	switch {
	case earlyDone:
		body = stamp(c.media.aOrigin, c.media.aLocal) // same SDP as the 183: same o= version
	case aOffer != nil:
		body, err = c.callerAnswer(aOffer)
	default:
		body, err = c.callerOffer()
	}
	if err != nil {
		c.log.Warn("caller_sdp_unusable", "error", err)
		return fail(488, call.CauseNotAcceptable)
	}
	if aOffer != nil && !earlyDone {
		if err := c.startRelay(); err != nil {
			return fail(488, call.CauseNotAcceptable)
		}
	}
	c.calleeTimer(res)
	if err := c.a.answer(context.Background(), body, c.timerHeaders...); err != nil {
		c.log.Warn("caller_ack_missing", "error", err)
		c.b.bye()
		if !errors.Is(err, errNoAck) {
			return call.CauseFailure, call.SideSwitch
		}
		c.a.bye()
		return call.CauseFailure, call.SideSwitch
	}
	if aOffer == nil {
		if err := c.callerAnsweredInAck(c.a.ackBody()); err != nil {
			c.log.Warn("caller_answer_unusable", "error", err)
			c.a.bye()
			c.b.bye()
			return call.CauseNotAcceptable, call.SideCaller
		}
		if err := c.startRelay(); err != nil {
			c.a.bye()
			c.b.bye()
			return call.CauseNotAcceptable, call.SideSwitch
		}
	}
	c.markAnswered()
	return call.CauseUnknown, call.SideUnknown
}

// markAnswered records that both legs talk: media and session timers
// start, the answer is published and the answered hook runs.
func (c *b2bCall) markAnswered() {
	c.answered = true
	c.armTimeouts()
	c.startTimers(c.s.now())
	c.publish(call.EventCallAnswered, func(e *call.Event) {
		e.Data = map[string]string{call.DataCodecA: codecName(c.media.aCodecs), call.DataCodecB: codecName(c.media.bCodecs)}
	})
	c.answeredHook(nil)
}

// betterFinal picks the final response to report when every branch failed
// (RFC 3261 §16.7: 6xx first, then the lowest class; 486 beats 480/408).
func betterFinal(best, code int) int {
	rank := func(c int) int {
		switch {
		case c == 0:
			return 1000
		case c >= 600:
			return 0
		case c == 486:
			return 1
		case c == 487:
			return 900
		case c >= 400 && c < 500:
			return 10 + c - 400
		default:
			return 200 + c
		}
	}
	if rank(code) < rank(best) {
		return code
	}
	return best
}

func reasonFor(code int) string {
	switch code {
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 503:
		return "Service Unavailable"
	}
	return "Call Failed (" + strconv.Itoa(code) + ")"
}
