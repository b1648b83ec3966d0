package sip

import (
	"context"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media/prompt"
)

// AppResult is how an application hands its call back to the switch.
type AppResult struct {
	// Cause hangs the call up with this cause (CauseNormalClearing when
	// unknown), unless Bridge is set.
	Cause call.Cause
	// Bridge connects the caller to this extension: switchd rings it
	// (the caller hears ringback) and, when it answers, the call goes on
	// as a two-party call with media relayed undecoded.
	Bridge string
}

// bridge connects the caller of an app call (already answered by
// switchd, media on leg A's endpoint) to extension target. It returns
// CauseUnknown when connected — the caller then goes on in connected —
// or why the call ended.
func (c *b2bCall) bridge(leg *AppLeg, target string) (call.Cause, call.Side) {
	callee, err := c.s.b2b.Directory.Extension(context.Background(), target)
	if err != nil {
		c.log.Warn("bridge_target_unknown", "target", target, "error", err)
		return c.bridgeFailed(leg, call.CauseNotFound)
	}
	bindings := c.s.registrar.Table().Lookup(target)
	if len(bindings) == 0 {
		return c.bridgeFailed(leg, call.CauseUnavailable)
	}
	c.callee, c.bindings = callee, bindings
	c.route += " -> extension " + target
	m := &c.media
	if err := c.openCalleeMedia(); err != nil {
		c.log.Error("media_unavailable", "error", err)
		return c.bridgeFailed(leg, call.CauseCongestion)
	}

	// The caller hears ringback from switchd while the extension rings.
	leg.player.Start(leg.ctx, prompt.Prompt{Items: []prompt.Item{{Tone: prompt.ToneRingback, Duration: c.s.b2b.RingTimeout}}})

	ctx, cancelBranches := context.WithCancel(context.Background())
	events := make(chan branchEvent, 16)
	defer settleBranches(cancelBranches, events)
	live := map[*uacLeg]bool{}
	c.fork(ctx, m.aRemote, events, live)
	if len(live) == 0 {
		return c.bridgeFailed(leg, call.CauseUnavailable)
	}
	cancelAll := func(except *uacLeg) { cancelBranchesExcept(live, except) }
	ring := time.NewTimer(c.s.b2b.RingTimeout)
	defer ring.Stop()
	best := 0
	for {
		select {
		case ev := <-events:
			l := ev.leg
			switch {
			case ev.done || ev.res == nil:
				delete(live, l)
			case ev.res.IsProvisional():
				if ev.res.StatusCode == 180 {
					c.publish(call.EventCallRinging, nil)
				}
				continue
			case ev.res.IsSuccess():
				delete(live, l)
				c.setCallee(l) // the first 2xx: later ones are ACKed and BYEd (settleBranches)
				if err := l.confirm(ev.res); err != nil {
					c.log.Warn("ack_failed", "error", err)
				}
				cancelAll(l)
				return c.bridgeAnswered(leg, ev.res)
			default:
				delete(live, l)
				best = betterFinal(best, int(ev.res.StatusCode))
			}
			if len(live) == 0 {
				code := best
				if code == 0 {
					code = 480
				}
				return c.bridgeFailed(leg, call.CauseFromSIP(code))
			}
		case <-ring.C:
			cancelAll(nil)
			return c.bridgeFailed(leg, call.CauseNoAnswer)
		case cause := <-c.end:
			cancelAll(nil)
			c.peerOf(sideCaller).bye()
			return cause, call.SideSwitch
		case r := <-c.inbox:
			if r.tx == nil {
				continue
			}
			switch r.req.Method {
			case gosip.BYE:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
				cancelAll(nil)
				return call.CauseOriginatorCancel, call.SideCaller
			case gosip.INFO:
				c.appInfo(r, leg)
			case gosip.OPTIONS, gosip.UPDATE:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
			default:
				// A re-INVITE while the bridge rings: try again shortly (RFC 3261 §14.2).
				res := gosip.NewResponseFromRequest(r.req, 491, "Request Pending", nil)
				r.tx.Respond(res)
			}
		}
	}
}

// bridgeAnswered moves the caller from its endpoint onto a relay with the
// extension that answered. The caller keeps the codec it negotiated with
// switchd; the relay transcodes if the extension chose the other one.
func (c *b2bCall) bridgeAnswered(leg *AppLeg, res *gosip.Response) (call.Cause, call.Side) {
	if err := c.calleeAnswered(res.Body(), c.b.binding.Source.Addr()); err != nil {
		c.log.Warn("callee_sdp_unusable", "error", err)
		go c.b.bye()
		c.setCallee(nil)
		return c.bridgeFailed(leg, call.CauseNotAcceptable)
	}
	if err := c.relayAppCaller(leg, res); err != nil {
		c.log.Warn("bridge_relay_failed", "error", err)
		c.peerOf(sideCaller).bye()
		c.b.bye()
		return call.CauseNotAcceptable, call.SideSwitch
	}
	c.log.Info("bridged", "callee", c.callee.Number)
	return call.CauseUnknown, call.SideUnknown
}

// relayAppCaller moves an app call's caller from its endpoint onto a relay
// with leg B, which answered with res (bridge, Connect): B's RTP timeout
// and session timer start, and the call is published answered.
func (c *b2bCall) relayAppCaller(leg *AppLeg, res *gosip.Response) error {
	leg.player.Stop()
	leg.ep.Stop() // frees leg A's session for the relay
	if err := c.startRelay(); err != nil {
		return err
	}
	c.media.bSess.SetTimeout(c.s.b2b.RTPTimeout)
	c.calleeTimer(res)
	c.startTimers(c.s.now())
	c.publish(call.EventCallAnswered, func(e *call.Event) {
		e.Data = map[string]string{call.DataCodecA: codecName(c.media.aCodecs), call.DataCodecB: codecName(c.media.bCodecs)}
	})
	return nil
}

// bridgeFailed tells the caller with a busy tone (2 s) and hangs up.
func (c *b2bCall) bridgeFailed(leg *AppLeg, cause call.Cause) (call.Cause, call.Side) {
	c.log.Info("bridge_failed", "cause", cause.String())
	if leg.ep != nil && leg.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(leg.ctx, 2500*time.Millisecond)
		leg.Play(ctx, prompt.Prompt{Items: []prompt.Item{{Tone: prompt.ToneBusy, Duration: 2 * time.Second}}})
		cancel()
	}
	c.peerOf(sideCaller).bye()
	return cause, call.SideSwitch
}
