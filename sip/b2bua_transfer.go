package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/prompt"
	"github.com/switchd/switchd/media/sdp"
)

// Transfers (RFC 5589 describes the call flows phones expect). switchd
// performs every transfer itself, as a B2BUA: the transferee never sees a
// REFER, and no party learns another's address. Whichever leg transfers,
// the call first swaps its sides so that the transferee is on side A and
// the transferor on side B; the transfer then replaces side B (a new leg
// to the target, or the consultation call's other party), or sends side A
// to an application (a queue, an IVR flow). The call keeps its ID through
// all of it: CDRs and contact events show the chain under one ID.

// transferKind names what moved the call (call.DataTransferKind).
const (
	transferBlind    = "blind"
	transferAttended = "attended"
	transferRecall   = "recall" // the target failed and the transferor had left: ring them back
)

// onRefer takes a REFER from one leg (RFC 3515): it answers 202 and
// performs the transfer, reporting progress in NOTIFYs. done reports that
// connected must return (cause, side): the call ended, or (CauseUnknown)
// the transferee goes to an application.
func (c *b2bCall) onRefer(r dialogRequest) (call.Cause, call.Side, bool) {
	rt, sub, ok := c.acceptRefer(r)
	if !ok {
		return call.CauseUnknown, call.SideUnknown, false
	}
	c.beginTransfer(r.from)
	if rt.Replaces != nil {
		return c.attendedTransfer(sub, *rt.Replaces, rt.Target)
	}
	return c.blindTransfer(sub, rt.Target, transferBlind)
}

// beginTransfer readies the call for a transfer asked from side: a
// supervisor leaves (the media goes back to the relay), and the sides are
// swapped if need be so that the transferor is on side B.
func (c *b2bCall) beginTransfer(side legSide) {
	c.stopMonitor(true)
	c.xferSwapped = side == sideCaller
	if c.xferSwapped {
		c.swapSides()
	}
}

// swapSides exchanges sides A and B of a connected call: legs, media,
// parties, hold and session-timer state. Nothing is sent. A running relay
// is left as it is: every transfer stops it, or swaps back, before
// (re)starting it for the sides as they are then.
func (c *b2bCall) swapSides() {
	c.legs[sideCaller], c.legs[sideCallee] = c.legs[sideCallee], c.legs[sideCaller]
	c.legs[sideCaller].routeTo(c, sideCaller)
	c.legs[sideCallee].routeTo(c, sideCallee)
	c.src = netip.AddrPortFrom(c.legs[sideCaller].sourceAddr(), 0)
	c.caller, c.callee = c.callee, c.caller
	m := &c.media
	m.aSess, m.bSess = m.bSess, m.aSess
	m.aOrigin, m.bOrigin = m.bOrigin, m.aOrigin
	m.aIP, m.bIP = m.bIP, m.aIP
	m.aRemote, m.bRemote = m.bRemote, m.aRemote
	m.aLocal, m.bLocal = m.bLocal, m.aLocal
	m.aCodecs, m.bCodecs = m.bCodecs, m.aCodecs
	m.aTap, m.bTap = m.bTap, m.aTap
	c.held[sideCaller], c.held[sideCallee] = c.held[sideCallee], c.held[sideCaller]
	c.fcode[sideCaller], c.fcode[sideCallee] = c.fcode[sideCallee], c.fcode[sideCaller]
	c.timers[sideCaller], c.timers[sideCallee] = c.timers[sideCallee], c.timers[sideCaller]
	if c.moh != nil {
		c.moh.side = other(c.moh.side)
	}
	if c.live.Load() != nil {
		c.live.Store(&liveParties{caller: c.caller.Number, callee: c.callee.Number})
	}
}

// blindTransfer moves the transferee (side A) to target on behalf of the
// transferor (side B): an application the transferor could dial (a queue,
// an IVR flow, a service) or an extension, rung while the transferee
// hears ringback. Outside numbers obey the transferor's permission class.
func (c *b2bCall) blindTransfer(sub *referSub, target, kind string) (call.Cause, call.Side, bool) {
	ctx := context.Background()
	transferor := c.callee
	if ext, err := c.s.b2b.Directory.Extension(ctx, transferor.Number); err == nil {
		transferor = ext
	}
	if r := c.s.b2b.Router; r != nil {
		if app, ok := r.Application(ctx, transferor, target); ok {
			return c.transferToApp(sub, app, target, kind)
		}
	}
	party, err := c.s.b2b.Directory.Extension(ctx, target)
	switch {
	case err == nil:
		bindings := c.s.registrar.Table().Lookup(target)
		if len(bindings) == 0 {
			return c.transferFailed(sub, kind, target, 480, true)
		}
		return c.ringTarget(sub, kind, party, bindings, nil, true)
	case !errors.Is(err, ErrUnknownUser):
		return c.transferFailed(sub, kind, target, 500, true)
	}
	code := 404
	if r := c.s.b2b.Router; r != nil {
		// An outside number: the transferor's permission class decides, as
		// if they dialled it (no open relay by transfer).
		route, err := r.Outbound(ctx, transferor, target)
		switch {
		case errors.Is(err, ErrNotAllowed):
			c.log.Info("transfer_refused", "transferor", transferor.Number, "target", target, "reason", err.Error())
			code = 403
		case err == nil && len(route.Attempts) > 0:
			return c.ringTarget(sub, kind, call.Party{Number: route.Number}, nil, &route, true)
		case err == nil:
			code = 503
		}
	}
	return c.transferFailed(sub, kind, target, code, true)
}

// transferToApp ends the transferor's part and sends the transferee to
// app: the transfer is complete once the application has the caller.
func (c *b2bCall) transferToApp(sub *referSub, app Application, target, kind string) (call.Cause, call.Side, bool) {
	sub.notify(200, "OK")
	transferor := c.callee
	c.publishTransfer(kind, transferor.Number, target, call.TransferCompleted, 0, "")
	old := c.peerOf(sideCallee) // the transferor
	if old != nil {
		sub.byeAfter(old)
		if u, ok := old.(*uacLeg); ok {
			c.releaseChannel(u)
		}
	}
	c.reportEnd(call.CauseTransferred, call.SideCallee)
	c.stopHoldMusic(false)
	m := &c.media
	c.stopRelay()
	if m.bSess != nil {
		m.bSess.Close()
		m.bSess = nil
	}
	c.legs[sideCallee] = nil // (its BYE, sent above, removes its dialog)
	m.bRemote, m.bLocal, m.bCodecs, m.bOrigin = nil, nil, nil, nil
	c.held[sideCallee] = false
	c.timers[sideCallee] = sessionTimer{}
	c.holdChanged(c.s.now())
	c.unhold(sideCaller)
	c.callee = call.Party{Number: target, Name: app.Name()}
	c.route += " -> transfer " + target
	c.nextApp, c.xferBy = app, transferor.Number
	return call.CauseUnknown, call.SideUnknown, true
}

// runTransferredApp runs the application a transfer sent side A to, like
// runApp after the answer.
func (c *b2bCall) runTransferredApp() (call.Cause, call.Side) {
	c.app, c.nextApp = c.nextApp, nil
	return c.runAppLeg(c.xferBy, nil)
}

// newTargetMedia opens the session and our SDP offer for a transfer
// target whose phone is at dst.
func (c *b2bCall) newTargetMedia(dst netip.Addr) (targetMedia, error) {
	tm := targetMedia{ip: c.s.mediaIPFor(dst)}
	var err error
	if tm.sess, err = c.s.b2b.Media.NewSession(); err != nil {
		return targetMedia{}, err
	}
	tm.origin = sdp.NewOriginTracker(originFor(tm.ip, c.media.sid+2+uint64(c.s.now().UnixNano()&0xffff)))
	tm.local, err = sdp.Build(sdp.Local{Addr: tm.ip, Port: int(tm.sess.LocalAddr().Port()), Codecs: preferFirst(c.media.aCodecs),
		TelephoneEvent: sdp.TelephoneEvent.PayloadType, Ptime: 20 * time.Millisecond})
	if err != nil {
		tm.sess.Close()
		return targetMedia{}, err
	}
	return tm, nil
}

// ringBranches sends our offer tm to every binding of party (caller ID:
// side A's party) and reads each branch into events until ctx ends.
func (c *b2bCall) ringBranches(ctx context.Context, party call.Party, bindings []Binding, tm targetMedia, events chan<- branchEvent) map[*uacLeg]bool {
	offer := stamp(tm.origin, tm.local)
	live := map[*uacLeg]bool{}
	for _, b := range bindings {
		if leg := c.startBranch(ctx, b, party.Number, offer, events); leg != nil {
			live[leg] = true
		}
	}
	return live
}

// trunkTarget sends the INVITE of one trunk attempt to an outside
// transfer target, offering tm filtered by the trunk's codecs; nil when
// the trunk is full, unresolvable or the INVITE could not be sent.
func (c *b2bCall) trunkTarget(ctx context.Context, at *OutboundAttempt, tm targetMedia, events chan<- branchEvent) *uacLeg {
	t := at.Trunk
	dst, err := resolveTrunk(ctx, t)
	if err != nil {
		c.log.Warn("trunk_attempt_failed", "trunk", t.Name, "error", err)
		return nil
	}
	if !c.s.chans.acquire(t) {
		c.log.Info("trunk_full", "trunk", t.Name, "max_channels", t.MaxChannels)
		return nil
	}
	ruri, transport := trunkRequestURI(at, dst)
	local, err := sdp.Build(sdp.Local{Addr: tm.ip, Port: int(tm.sess.LocalAddr().Port()),
		Codecs: allowCodecs(preferFirst(c.media.aCodecs), t.Codecs), TelephoneEvent: sdp.TelephoneEvent.PayloadType, Ptime: 20 * time.Millisecond})
	if err == nil {
		*tm.local = *local
	}
	leg, err := c.s.newUACLeg(Binding{Contact: ruri.String(), Source: dst, Transport: transport},
		outboundCall{fromUser: at.CallerID.Number, fromName: at.CallerID.Name, toUser: at.Number, domain: t.domain(),
			privacy: at.Privacy, sdp: stamp(tm.origin, tm.local)}, c.inbox)
	if err == nil {
		leg.attempt, leg.channel = at, true
		leg.routeTo(c, sideCallee)
		err = leg.start(ctx)
	}
	if err != nil {
		c.s.chans.release(t)
		c.log.Warn("trunk_attempt_failed", "trunk", t.Name, "error", err)
		return nil
	}
	c.log.Info("transfer_trunk_attempt", "trunk", t.Name, "number", at.Number)
	go readBranch(ctx, leg, events)
	return leg
}

// targetMedia is the session and SDP state of a leg being set up to
// replace side B.
type targetMedia struct {
	sess          *media.Session
	origin        *sdp.OriginTracker
	ip            netip.Addr
	remote, local *sdp.Session
	codecs        []media.Codec
}

// ringTarget rings every binding of party (an extension) and, on the
// first answer, puts it on side B in place of the transferor. The
// transferee hears ringback meanwhile. transferorUp is false when the
// transferor has already left (a recall).
func (c *b2bCall) ringTarget(sub *referSub, kind string, party call.Party, bindings []Binding, out *OutboundRoute, transferorUp bool) (call.Cause, call.Side, bool) {
	transferor := c.peerOf(sideCallee)
	transferorNum := c.callee.Number
	if !transferorUp {
		transferor = nil
	}
	ctx, cancelBranches := context.WithCancel(context.Background())
	events := make(chan branchEvent, 16)
	defer settleBranches(cancelBranches, events)
	var dst netip.Addr
	if out != nil {
		for _, at := range out.Attempts {
			if a, err := resolveTrunk(ctx, at.Trunk); err == nil {
				dst = a.Addr()
				break
			}
		}
	} else {
		dst = bindings[0].Source.Addr()
	}
	if !dst.IsValid() {
		return c.transferFailed(sub, kind, party.Number, 503, transferorUp)
	}
	tm, err := c.newTargetMedia(dst)
	if err != nil {
		c.log.Error("media_unavailable", "error", err)
		return c.transferFailed(sub, kind, party.Number, 503, transferorUp)
	}
	var live map[*uacLeg]bool
	next := 0           // the next trunk attempt (outside numbers)
	progressed := false // a trunk attempt rang: no failover any more
	var cur *uacLeg     // the trunk attempt waiting for a provisional response
	abandoned := map[*uacLeg]bool{}
	var attempts []*uacLeg // trunk attempts: each holds a channel until it ends
	var winner *uacLeg
	defer func() {
		for _, l := range attempts {
			if l != winner {
				c.releaseChannel(l)
			}
		}
	}()
	inviteTimer := time.NewTimer(time.Hour)
	inviteTimer.Stop()
	defer inviteTimer.Stop()
	nextTrunk := func() bool { return false }
	if out != nil {
		live = map[*uacLeg]bool{}
		nextTrunk = func() bool {
			for next < len(out.Attempts) {
				at := &out.Attempts[next]
				next++
				if l := c.trunkTarget(ctx, at, tm, events); l != nil {
					live[l], cur = true, l
					attempts = append(attempts, l)
					d := at.Trunk.InviteTimeout
					if d <= 0 {
						d = defaultInviteTimeout
					}
					inviteTimer.Reset(d)
					return true
				}
			}
			return false
		}
		nextTrunk()
	} else {
		live = c.ringBranches(ctx, party, bindings, tm, events)
	}
	if len(live) == 0 {
		tm.sess.Close()
		return c.transferFailed(sub, kind, party.Number, 480, transferorUp)
	}
	cancelAll := func(except *uacLeg) { cancelBranchesExcept(live, except) }
	stopRing := c.playToCaller(prompt.ToneRingback)
	// Nothing reads the transferor's session while the target rings: its
	// RTP timeout must not end the call meanwhile.
	c.quietSide(sideCallee)
	c.log.Info("transfer_ringing", "kind", kind, "target", party.Number, "transferor", transferorNum)
	ring := time.NewTimer(c.s.b2b.RingTimeout)
	defer ring.Stop()
	best := 0
	fail := func(code int) (call.Cause, call.Side, bool) {
		cancelAll(nil)
		stopRing()
		tm.sess.Close()
		return c.transferFailed(sub, kind, party.Number, code, transferor != nil)
	}
	for {
		select {
		case <-inviteTimer.C:
			// No provisional response within the trunk's invite_timeout: the
			// attempt is abandoned (no CANCEL before a provisional, RFC 3261
			// §9.1) and the next trunk tried.
			if cur == nil || cur.provisional {
				continue
			}
			abandoned[cur] = true
			delete(live, cur)
			c.releaseChannel(cur)
			best = betterFinal(best, 408)
			c.log.Info("transfer_trunk_failover", "trunk", cur.attempt.Trunk.Name, "reason", "invite_timeout")
			cur = nil
			if !nextTrunk() && len(live) == 0 {
				return fail(best)
			}
		case ev := <-events:
			l := ev.leg
			if abandoned[l] {
				switch {
				case ev.res == nil:
				case ev.res.IsSuccess():
					l.confirm(ev.res) // answered after we gave up on it (RFC 3261 §13.2.2.4)
					go l.bye()
				case ev.res.StatusCode > 100 && ev.res.IsProvisional():
					l.cancel(context.Background())
				}
				continue
			}
			if l == cur && ev.res != nil && ev.res.IsProvisional() {
				inviteTimer.Stop()
			}
			if l.attempt != nil && !ev.done && ev.res != nil && !ev.res.IsSuccess() {
				// A carrier's answer: challenges and failover (as for calls, b2bua_trunk.go).
				code := int(ev.res.StatusCode)
				switch {
				case ev.res.IsProvisional():
					l.provisional = true
					progressed = progressed || code == 180 || code == 183
					continue
				case (code == 401 || code == 407) && !l.authed && c.reauth(ctx, l, ev.res, events):
					continue
				case code == 401 || code == 407:
					code = 503 // our credentials were refused: not the callee's answer
				}
				delete(live, l)
				c.releaseChannel(l)
				best = betterFinal(best, code)
				if failoverStatus(code) && !progressed && nextTrunk() {
					continue
				}
				if len(live) == 0 {
					return fail(best)
				}
				continue
			}
			if l.attempt != nil && (ev.done || ev.res == nil) {
				delete(live, l)
				c.releaseChannel(l)
				best = betterFinal(best, 503)
				if !progressed && nextTrunk() {
					continue
				}
			}
			switch {
			case ev.done || ev.res == nil:
				delete(live, l)
			case ev.res.IsProvisional():
				continue // the transferor heard 100 Trying; the next NOTIFY is final (RFC 5589 §6)
			case ev.res.IsSuccess():
				delete(live, l)
				if err := l.confirm(ev.res); err != nil {
					c.log.Warn("ack_failed", "error", err)
				}
				cancelAll(l)
				stopRing()
				if err := tm.answered(ev.res.Body(), l.binding.Source.Addr()); err != nil {
					c.log.Warn("transfer_target_sdp_unusable", "error", err)
					go l.bye()
					tm.sess.Close()
					return c.transferFailed(sub, kind, party.Number, 488, transferor != nil)
				}
				winner = l
				c.completeTransfer(sub, kind, transferor, transferorNum, l, party, tm, ev.res, "")
				return call.CauseUnknown, call.SideUnknown, false
			default:
				delete(live, l)
				best = betterFinal(best, int(ev.res.StatusCode))
			}
			if len(live) == 0 {
				if best == 0 {
					best = 480
				}
				return fail(best)
			}
		case <-ring.C:
			return fail(480)
		case cause := <-c.end:
			cancelAll(nil)
			stopRing()
			tm.sess.Close()
			sub.notify(503, "Service Unavailable")
			c.byeTransferParties(sub, transferor)
			return cause, call.SideSwitch, true
		case h := <-c.handoffs:
			h.reply <- handoffReply{err: errTransferBusy}
		case j := <-c.joins:
			j.reply <- ErrNotRetrievable
		case r := <-c.inbox:
			if r.tx == nil {
				continue
			}
			switch {
			case r.leg == c.peerOf(sideCaller):
				if r.req.Method == gosip.BYE {
					r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
					cancelAll(nil)
					stopRing()
					tm.sess.Close()
					sub.notify(487, "Request Terminated")
					if transferor != nil {
						sub.byeAfter(transferor)
					}
					return call.CauseNormalClearing, call.SideCaller, true
				}
				c.answerWhileTransferring(r, true)
			case transferor != nil && r.leg == transferor:
				if r.req.Method == gosip.BYE {
					// Usual after a blind transfer: the transferor's part is over.
					r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
					transferor.close()
					transferor = nil
					continue
				}
				c.answerWhileTransferring(r, true)
			default:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 481, "Call/Transaction Does Not Exist", nil))
			}
		}
	}
}

// answerWhileTransferring answers a party's in-dialog request while a
// transfer rings. For a party of this call (refreshable) a session
// refresh — UPDATE, or a re-INVITE without SDP or with the same SDP — is
// answered as usual; a re-INVITE that changes the session, or a REFER,
// must wait (491, RFC 3261 §14.2); the rest is acknowledged.
func (c *b2bCall) answerWhileTransferring(r dialogRequest, refreshable bool) {
	if s := c.sideOf(r.leg); s != sideUnknown {
		r.from = s // queued before a swap: the side it is on now
	}
	switch {
	case refreshable && r.req.Method == gosip.UPDATE:
		c.refreshed(r.from, c.s.now())
		c.update(r)
	case refreshable && r.req.Method == gosip.INVITE && c.answerRefresh(r):
		c.refreshed(r.from, c.s.now())
	case r.req.Method == gosip.INVITE, r.req.Method == gosip.REFER:
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 491, "Request Pending", nil))
	case r.req.Method == gosip.OPTIONS, r.req.Method == gosip.INFO, r.req.Method == gosip.UPDATE, r.req.Method == gosip.NOTIFY:
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
	default:
		res := gosip.NewResponseFromRequest(r.req, 501, "Not Implemented", nil)
		res.AppendHeader(gosip.NewHeader("Allow", allowedMethods))
		r.tx.Respond(res)
	}
}

// byeTransferParties hangs up the transferee and, if still there, the
// transferor once it has the final NOTIFY (the call ends during a
// transfer).
func (c *b2bCall) byeTransferParties(sub *referSub, transferor peer) {
	if transferor != nil {
		sub.byeAfter(transferor)
	}
	c.peerOf(sideCaller).bye()
}

// answered takes the target's SDP answer; its SIP comes from src.
func (tm *targetMedia) answered(body []byte, src netip.Addr) error {
	ans, codecs, err := takeAnswer(tm.sess, body, src, "target")
	if err != nil {
		return err
	}
	tm.remote, tm.codecs = ans, codecs
	return nil
}

// completeTransfer puts leg l (party, media tm) on side B in place of the
// transferor, who is told (NOTIFY 200) and hung up; the transferee is
// taken off hold and the relay joins the two. res is l's 2xx (its session
// timer); replaced is the consultation call an attended transfer ended.
func (c *b2bCall) completeTransfer(sub *referSub, kind string, transferor peer, transferorNum string, l peer, party call.Party, tm targetMedia, res *gosip.Response, replaced call.ID) {
	sub.notify(200, "OK")
	if transferor != nil {
		sub.byeAfter(transferor)
	}
	c.stopHoldMusic(false)
	m := &c.media
	c.stopRelay()
	if m.bSess != nil {
		m.bSess.Close()
	}
	if u, ok := c.peerOf(sideCallee).(*uacLeg); ok && peer(u) != l {
		c.releaseChannel(u) // the transferor's trunk channel, if it came over one
	}
	m.bSess, m.bOrigin, m.bIP, m.bRemote, m.bLocal, m.bCodecs = tm.sess, tm.origin, tm.ip, tm.remote, tm.local, tm.codecs
	m.bSess.OnTimeout(c.hangupMedia)
	c.legs[sideCallee] = l
	l.routeTo(c, sideCallee)
	c.callee = party
	c.held[sideCallee] = false
	c.timers[sideCallee] = sessionTimer{}
	if res != nil {
		c.calleeTimer(res)
	}
	c.timers[sideCallee].last = c.s.now()
	c.unhold(sideCaller)
	c.unhold(sideCallee)
	c.holdChanged(c.s.now())
	if err := c.startRelay(); err != nil {
		c.log.Warn("relay_restart_failed", "error", err)
		c.hangup(call.CauseNotAcceptable)
	}
	m.bSess.SetTimeout(c.s.b2b.RTPTimeout)
	c.reportEnd(call.CauseTransferred, call.SideCallee)
	c.live.Store(&liveParties{caller: c.caller.Number, callee: c.callee.Number})
	c.route += " -> transfer " + party.Number
	c.publishTransfer(kind, transferorNum, party.Number, call.TransferCompleted, 0, replaced)
	c.log.Info("transferred", "kind", kind, "transferor", transferorNum, "transferee", c.caller.Number, "target", party.Number)
}

// transferFailed reports a transfer that did not reach its target: the
// transferor is told (NOTIFY with the status) and, while still there,
// gets the transferee back (the relay resumes; the phone takes the call
// off hold itself). A transferor who already left is rung back (a
// recall); when that fails too the transferee hears busy and the call
// ends.
func (c *b2bCall) transferFailed(sub *referSub, kind, target string, code int, transferorUp bool) (call.Cause, call.Side, bool) {
	sub.notify(code, reasonFor(code))
	c.publishTransfer(kind, c.callee.Number, target, call.TransferFailed, code, "")
	c.log.Info("transfer_failed", "kind", kind, "target", target, "status", code, "transferor_present", transferorUp)
	if transferorUp {
		c.listenSide(sideCallee)
		c.unswap()
		if c.media.relay == nil && c.media.bSess != nil {
			if err := c.startRelay(); err != nil {
				c.log.Warn("relay_restart_failed", "error", err)
			}
		}
		c.applyHold()
		return call.CauseUnknown, call.SideUnknown, false
	}
	if kind != transferRecall {
		if bindings := c.s.registrar.Table().Lookup(c.callee.Number); len(bindings) > 0 {
			return c.ringTarget(nil, transferRecall, c.callee, bindings, nil, false)
		}
	}
	stop := c.playToCaller(prompt.ToneBusy)
	time.Sleep(2 * time.Second)
	stop()
	c.peerOf(sideCaller).bye()
	return call.CauseFromSIP(code), call.SideSwitch, true
}

// playToCaller stops the relay and music on hold and plays tone to side
// A until the returned stop is called.
func (c *b2bCall) playToCaller(tone string) (stop func()) {
	c.stopHoldMusic(false)
	c.stopRelay()
	return c.playTo(c.media.aSess, c.media.aCodecs, tone)
}

// unswap puts the sides back after a failed transfer by the caller, so
// that caller and callee stay who they were.
func (c *b2bCall) unswap() {
	if c.xferSwapped {
		c.xferSwapped = false
		c.swapSides()
	}
}

// quietSide suspends the RTP timeout of side's session while nothing
// reads it (a transfer rings, or its party left).
func (c *b2bCall) quietSide(side legSide) {
	if sess := c.sessionOf(side); sess != nil {
		sess.SetOnHold(true)
	}
}

// listenSide restores the RTP timeout of side's session from what its
// party last said (held or not).
func (c *b2bCall) listenSide(side legSide) {
	sess, remote := c.sessionOf(side), c.remoteFor(side)
	if sess == nil || remote == nil || remote.Audio() == nil {
		return
	}
	sess.SetOnHold(mayBeSilent(remote, remote.Audio()))
}

func (c *b2bCall) sessionOf(side legSide) *media.Session {
	if side == sideCaller {
		return c.media.aSess
	}
	return c.media.bSess
}

// unhold re-offers sendrecv to side when the SDP we last sent it holds
// it (the transferor put the transferee on hold before transferring).
func (c *b2bCall) unhold(side legSide) {
	local := c.localFor(side)
	if local == nil || local.Audio() == nil || local.EffectiveDirection(local.Audio()) == sdp.SendRecv {
		return
	}
	out := cloneLocal(local)
	setDirection(out.Audio(), sdp.SendRecv)
	res, err := c.offerTo(side, out)
	switch {
	case err != nil:
		c.log.Warn("unhold_failed", "leg", side.String(), "error", err)
	case !res.IsSuccess():
		c.log.Warn("unhold_refused", "leg", side.String(), "status", int(res.StatusCode))
	default:
		if err := c.takeAnswer(side, res.Body()); err != nil {
			c.log.Warn("unhold_answer_unusable", "error", err)
		}
	}
}

// publishTransfer publishes call_transferred.
func (c *b2bCall) publishTransfer(kind, transferor, target, result string, status int, replaced call.ID) {
	c.publish(call.EventCallTransferred, func(e *call.Event) {
		e.Data = map[string]string{
			call.DataTransferKind: kind, call.DataTransferor: transferor, call.DataTransferee: c.caller.Number,
			call.DataTransferTarget: target, call.DataTransferResult: result,
		}
		if status != 0 {
			e.Data[call.DataTransferStatus] = fmt.Sprint(status)
		}
		if replaced != "" {
			e.Data[call.DataTransferReplacedID] = string(replaced)
		}
	})
}
