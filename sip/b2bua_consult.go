package sip

import (
	"context"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/prompt"
)

// An attended transfer asked by code (TransferCodes.Attended, "*2" and a
// number): the phone has no transfer key, so switchd runs the
// consultation itself inside the call. The transferee (side A) hears
// music on hold while the transferor (side B) hears the target ring and
// then talks with it over a second relay. The transferor hanging up
// completes the transfer (the transferee and the target talk; if the
// target still rings, the transferee hears ringback until it answers);
// the target refusing, not answering or hanging up brings the
// transferor back to the transferee.

// consultTransfer runs the consultation from side B (the transferor) to
// number. done reports that connected must return.
func (c *b2bCall) consultTransfer(number string) (call.Cause, call.Side, bool) {
	ctx := context.Background()
	party, err := c.s.b2b.Directory.Extension(ctx, number)
	bindings := c.s.registrar.Table().Lookup(number)
	if err != nil || len(bindings) == 0 {
		c.log.Info("consult_target_unavailable", "target", number)
		c.publishTransfer(transferAttended, c.callee.Number, number, call.TransferFailed, 480, "")
		c.unswap()
		return call.CauseUnknown, call.SideUnknown, false
	}
	tm, err := c.newTargetMedia(bindings[0].Source.Addr())
	if err != nil {
		c.log.Error("media_unavailable", "error", err)
		c.unswap()
		return call.CauseUnknown, call.SideUnknown, false
	}
	transferor, transferorNum := c.peerOf(sideCallee), c.callee.Number
	m := &c.media
	c.stopRelay()
	c.stopHoldMusic(false)
	c.startHoldMusic(sideCaller) // the transferee waits with music (silence without a MOH folder)
	toB := c.playTo(m.bSess, m.bCodecs, prompt.ToneRingback)

	bctx, cancelBranches := context.WithCancel(ctx)
	events := make(chan branchEvent, 16)
	defer settleBranches(cancelBranches, events)
	live := c.ringBranches(bctx, party, bindings, tm, events)
	cancelAll := func(except *uacLeg) { cancelBranchesExcept(live, except) }
	ring := time.NewTimer(c.s.b2b.RingTimeout)
	defer ring.Stop()
	var target *uacLeg // answered
	var targetRes *gosip.Response
	var consult *media.Relay
	cctx, consultDone := context.WithCancel(ctx)
	defer consultDone()
	transferorUp := true
	stopA := func() {} // ringback to the transferee once the transferor left
	defer func() { stopA() }()
	stopConsult := func() {
		if consult != nil {
			consult.Stop()
			consult = nil
		}
	}
	// back returns the call to transferee and transferor.
	back := func(code int) (call.Cause, call.Side, bool) {
		cancelAll(nil)
		stopA()
		stopConsult()
		toB()
		tm.sess.Close()
		c.stopHoldMusic(false)
		c.publishTransfer(transferAttended, transferorNum, number, call.TransferFailed, code, "")
		c.unswap()
		if err := c.startRelay(); err != nil {
			c.log.Warn("relay_restart_failed", "error", err)
		}
		c.applyHold()
		return call.CauseUnknown, call.SideUnknown, false
	}
	// hangUpAll ends the consultation and hangs up the target and the
	// transferor: the whole call is ending.
	hangUpAll := func() {
		cancelAll(nil)
		stopA()
		stopConsult()
		toB()
		tm.sess.Close()
		if target != nil {
			go target.bye()
		}
		if transferorUp {
			go transferor.bye()
		}
	}
	// fail ends a consultation the target refused or did not answer: back
	// to the transferor, or, once the transferor left, see
	// consultFailedAlone.
	fail := func(code int) (call.Cause, call.Side, bool) {
		if transferorUp {
			return back(code)
		}
		cancelAll(nil)
		stopA()
		return c.consultFailedAlone(tm, number, code)
	}
	complete := func() (call.Cause, call.Side, bool) {
		stopA()
		stopConsult()
		toB()
		c.completeTransfer(nil, transferAttended, nil, transferorNum, target, party, tm, targetRes, "")
		return call.CauseUnknown, call.SideUnknown, false
	}
	if len(live) == 0 {
		return back(480)
	}
	c.log.Info("consult_ringing", "target", number, "transferor", transferorNum)
	for {
		select {
		case ev := <-events:
			l := ev.leg
			switch {
			case ev.done || ev.res == nil:
				delete(live, l)
			case ev.res.IsProvisional():
				continue
			case ev.res.IsSuccess() && target != nil:
				// Another phone of the target answered too (crossing our
				// CANCEL): ACK and BYE it (RFC 3261 §13.2.2.4).
				delete(live, l)
				go settleLate(ev)
			case ev.res.IsSuccess():
				delete(live, l)
				if err := l.confirm(ev.res); err != nil {
					c.log.Warn("ack_failed", "error", err)
				}
				cancelAll(l)
				if err := tm.answered(ev.res.Body(), l.binding.Source.Addr()); err != nil {
					go l.bye()
					return back(488)
				}
				target, targetRes = l, ev.res
				ring.Stop()
				if !transferorUp {
					return complete() // the transferor hung up while it rang
				}
				toB()
				plan, err := media.NewRelayConfig(m.bCodecs, tm.codecs)
				if err == nil {
					consult, err = media.NewRelay(m.bSess, tm.sess, plan)
				}
				if err == nil {
					if err = consult.Start(cctx); err != nil {
						consult = nil
					}
				}
				if err != nil {
					c.log.Warn("consult_relay_failed", "error", err)
					go l.bye()
					return back(500)
				}
				c.log.Info("consulting", "target", number)
				continue
			default:
				delete(live, l)
				if len(live) == 0 && target == nil {
					return fail(int(ev.res.StatusCode))
				}
			}
			if len(live) == 0 && target == nil {
				return fail(480)
			}
		case <-ring.C:
			if target == nil {
				return fail(480)
			}
		case cause := <-c.end:
			hangUpAll()
			c.peerOf(sideCaller).bye()
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
			case r.leg == c.peerOf(sideCaller): // the transferee
				if r.req.Method != gosip.BYE {
					c.answerWhileTransferring(r, true)
					continue
				}
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
				hangUpAll()
				return call.CauseNormalClearing, call.SideCaller, true
			case transferorUp && r.leg == transferor:
				if r.req.Method != gosip.BYE {
					c.answerWhileTransferring(r, true)
					continue
				}
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
				transferor.close()
				transferorUp = false
				toB()
				c.quietSide(sideCallee) // the transferor's session: nobody left to hear
				if target != nil {
					return complete()
				}
				// Still ringing: the transferee hears it ring from now on.
				c.stopHoldMusic(false)
				stopA = c.playTo(m.aSess, m.aCodecs, prompt.ToneRingback)
			case target != nil && r.leg == peer(target):
				if r.req.Method != gosip.BYE {
					c.answerWhileTransferring(r, false)
					continue
				}
				// The target hung up on the consultation: back to the transferee.
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
				target.close()
				c.releaseChannel(target)
				target = nil
				return back(487)
			default:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 481, "Call/Transaction Does Not Exist", nil))
			}
		}
	}
}

// consultFailedAlone ends a consultation whose transferor left and whose
// target failed: the transferee goes back to the transferor (a recall).
func (c *b2bCall) consultFailedAlone(tm targetMedia, number string, code int) (call.Cause, call.Side, bool) {
	tm.sess.Close()
	return c.transferFailed(nil, transferAttended, number, code, false)
}

// playTo plays tone on sess (a leg whose relay is stopped) until the
// returned stop is called; stop is idempotent.
func (c *b2bCall) playTo(sess *media.Session, codecs []media.Codec, tone string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	player := prompt.NewPlayer(prompt.Config{Region: c.s.b2b.Prompts.Region, Logger: c.log})
	cfg := endpointFor(codecs)
	cfg.Source = player
	ep, err := sess.StartEndpoint(ctx, cfg)
	if err != nil {
		cancel()
		c.log.Warn("transfer_tone_failed", "error", err)
		return func() {}
	}
	player.Start(ctx, prompt.Prompt{Items: []prompt.Item{{Tone: tone, Duration: 10 * time.Minute}}})
	done := false
	return func() {
		if done {
			return
		}
		done = true
		player.Stop()
		ep.Stop()
		cancel()
	}
}
