package sip

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/sdp"
	"github.com/switchd/switchd/media/tap"
)

// connected runs an answered call until a hangup. It returns who ended it and why.
func (c *b2bCall) connected() (call.Cause, call.Side) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	c.live.Store(&liveParties{caller: c.caller.Number, callee: c.callee.Number})
	defer c.live.Store(nil)
	for {
		select {
		case req := <-c.monitors:
			c.onMonitor(req)
		case h := <-c.handoffs:
			if c.giveLeg(h) {
				return c.endAfterHandoff()
			}
		case j := <-c.joins:
			j.reply <- ErrNotRetrievable // answered: nothing to pick up
		case d := <-c.digitsIn:
			if cause, side, done := c.featureDigit(d, c.s.now()); done {
				return cause, side
			}
		case <-tick.C:
			if cause := c.checkTimers(c.s.now()); cause != call.CauseUnknown {
				c.byeOther(sideUnknown)
				return cause, call.SideSwitch
			}
		case r := <-c.inbox:
			if c.stale(&r) {
				continue
			}
			if r.tx == nil { // an ACK for a re-INVITE 2xx we sent
				if len(r.req.Body()) > 0 {
					// We offered in that 2xx (offerless re-INVITE): the answer is here.
					if err := c.takeAnswer(r.from, r.req.Body()); err != nil {
						c.log.Warn("ack_answer_unusable", "error", err)
					}
				}
				continue
			}
			switch r.req.Method {
			case gosip.BYE:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
				c.byeOther(r.from)
				side := call.SideCaller
				if r.from == sideCallee {
					side = call.SideCallee
				}
				return call.CauseNormalClearing, side
			case gosip.INVITE:
				c.refreshed(r.from, c.s.now())
				c.reinvite(r)
			case gosip.UPDATE:
				c.refreshed(r.from, c.s.now())
				c.update(r)
			case gosip.REFER:
				if cause, side, done := c.onRefer(r); done {
					return cause, side
				}
			case gosip.INFO, gosip.OPTIONS:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
			case gosip.NOTIFY:
				// Only REFER subscriptions exist, and we never subscribe.
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 481, "Subscription Does Not Exist", nil))
			default:
				res := gosip.NewResponseFromRequest(r.req, 501, "Not Implemented", nil)
				res.AppendHeader(gosip.NewHeader("Allow", allowedMethods))
				r.tx.Respond(res)
			}
		case cause := <-c.end:
			c.byeOther(sideUnknown)
			return cause, call.SideSwitch
		}
	}
}

// byeWait bounds how long a call's end waits for the answers to its BYEs:
// a phone that never answers must not hold the call's teardown (its CDR
// end, recording, ACD wrap-up) for the BYE's 32 s Timer F; the BYE goes on
// in the background, bounded by byeContext.
const byeWait = 2 * time.Second

// byeOther sends BYE to every leg except from (both for sideUnknown) and
// waits for the answers at most byeWait.
func (c *b2bCall) byeOther(from legSide) {
	done := make(chan struct{}, 2)
	n := 0
	for _, side := range []legSide{sideCaller, sideCallee} {
		if p := c.peerOf(side); p != nil && from != side {
			n++
			go func() { p.bye(); done <- struct{}{} }()
		}
	}
	timer := time.NewTimer(byeWait)
	defer timer.Stop()
	for range n {
		select {
		case <-done:
		case <-timer.C:
			c.log.Info("bye_unanswered", "waited", byeWait.String())
			return
		}
	}
}

// byeContext bounds a BYE's wait for its answer: the transaction's own
// 32 s (Timer F, RFC 3261 §17.1.2.2) normally, 2 s while the switch shuts
// down; a BYE still waiting when a drain gives up waits no longer — so a
// phone gone silent never holds the shutdown.
func (s *Server) byeContext() (context.Context, context.CancelFunc) {
	d := 32 * time.Second
	if s.calls.drain.Load() {
		d = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	forced := s.calls.forcedCtx()
	if forced.Err() != nil {
		return ctx, cancel // a BYE of the cut-off itself: sent, waited for 2 s
	}
	stop := context.AfterFunc(forced, cancel)
	return ctx, func() { stop(); cancel() }
}

// leg helpers by side.
func (c *b2bCall) dialogOf(s legSide) *dialogState { return c.peerOf(s).dialog() }

func other(s legSide) legSide {
	if s == sideCaller {
		return sideCallee
	}
	return sideCaller
}

// answerRefresh answers a re-INVITE that only refreshes the session — no
// SDP (it asks for our offer), or the SDP its sender last sent (RFC 4028,
// RFC 3264 §8) — with the SDP we last sent, unchanged, and reports whether
// it did; nothing is passed on to the other leg.
func (c *b2bCall) answerRefresh(r dialogRequest) bool {
	if body := r.req.Body(); len(body) > 0 {
		offer, err := sdp.Parse(body)
		prev := c.remoteFor(r.from)
		if err != nil || prev == nil || sdp.Compare(prev, offer).Any() {
			return false
		}
		c.dialogOf(r.from).refreshTarget(r.req.Contact())
	}
	c.respondSDP(r, c.localFor(r.from))
	return true
}

// reinvite handles a re-INVITE from one leg (RFC 3261 §14.2): hold, resume
// or a new address is offered on to the other leg with our own SDP (its o=
// version incremented, RFC 3264 §8), and the answer goes back to the sender.
func (c *b2bCall) reinvite(r dialogRequest) {
	from, to := r.from, other(r.from)
	// The other leg may take a while: tell the sender we are on it (RFC 3261 §13.3.1.1).
	r.tx.Respond(gosip.NewResponseFromRequest(r.req, 100, "Trying", nil))
	if c.answerRefresh(r) {
		return
	}
	offer, err := sdp.Parse(r.req.Body())
	if err != nil || offer.Audio() == nil {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 488, "Not Acceptable Here", nil))
		return
	}
	c.dialogOf(from).refreshTarget(r.req.Contact())
	om := offer.Audio()
	dir := offer.EffectiveDirection(om)

	// Offer the same direction to the other leg on our own SDP.
	out := cloneLocal(c.localFor(to))
	setDirection(out.Audio(), dir)
	res, err := c.offerTo(to, out)
	if err != nil {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 500, "Peer Unreachable", nil))
		return
	}
	if !res.IsSuccess() {
		code := int(res.StatusCode)
		if code != 491 {
			code = 488
		}
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, code, res.Reason, nil))
		return
	}
	if err := c.takeAnswer(to, res.Body()); err != nil {
		c.log.Warn("reinvite_answer_unusable", "error", err)
	}
	// Our answer to the sender: our address, a codec from its new offer
	// (preferring the one in use), the answering direction.
	ans, codecs, err := c.answerOffer(from, offer, sdp.AnswerDirection(dir, sdp.SendRecv))
	if err != nil {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 488, "Not Acceptable Here", nil))
		return
	}
	if err := c.takeRemote(from, offer); err != nil {
		c.log.Warn("reinvite_offer_unusable", "error", err)
	}
	c.setCodecs(from, codecs)
	c.setLocal(from, ans)
	c.respondSDP(r, ans)
	c.replanRelay()
	wasHeld := c.held[from]
	c.held[from] = !dir.Receives() || !dir.Sends()
	switch {
	case c.held[from] && !wasHeld:
		c.publish(call.EventCallHeld, func(e *call.Event) { e.Data = map[string]string{"by": from.String()} })
	case !c.held[from] && wasHeld:
		c.publish(call.EventCallResumed, func(e *call.Event) { e.Data = map[string]string{"by": from.String()} })
	}
	c.holdChanged(c.s.now())
	c.applyHold()
}

// update answers UPDATE (RFC 3311) locally: mostly session refreshes; an
// SDP offer is answered with what we already send on that leg.
func (c *b2bCall) update(r dialogRequest) {
	if len(r.req.Body()) == 0 {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
		return
	}
	c.respondSDP(r, c.localFor(r.from))
}

// offerTo sends a re-INVITE with s to one leg and ACKs a 2xx.
func (c *b2bCall) offerTo(to legSide, s *sdp.Session) (*gosip.Response, error) {
	d := c.dialogOf(to)
	body := stamp(c.originFor(to), s)
	d.pendingOut.Store(true)
	defer d.pendingOut.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
	defer cancel()
	res, err := c.s.doInDialog(ctx, d, gosip.INVITE, body, nil)
	if err != nil {
		return nil, err
	}
	if res.IsSuccess() {
		c.setLocal(to, s) // only an accepted offer becomes what we send on that leg
		d.refreshTarget(res.Contact())
		c.s.ackInDialog(d, res)
	}
	return res, nil
}

// ackInDialog sends the ACK for a 2xx to our re-INVITE.
func (s *Server) ackInDialog(d *dialogState, res *gosip.Response) {
	ack := d.newRequest(gosip.ACK)
	ack.CSeq().SeqNo = res.CSeq().SeqNo
	dst, _ := netip.ParseAddrPort(ack.Destination())
	ack.PrependHeader(s.viaFor(ack, dst, false))
	ack.SetBody(nil)
	s.client.WriteRequest(ack, noBuild)
}

func (c *b2bCall) respondSDP(r dialogRequest, s *sdp.Session) {
	body := stamp(c.originFor(r.from), s)
	res := gosip.NewResponseFromRequest(r.req, 200, "OK", body)
	res.AppendHeader(gosip.NewHeader("Content-Type", "application/sdp"))
	ct := c.dialogOf(r.from).contact
	res.AppendHeader(&ct)
	d := c.dialogOf(r.from)
	var acked chan struct{}
	if r.req.Method == gosip.INVITE {
		acked = d.expectAck(r.req.CSeq().SeqNo)
	}
	r.tx.Respond(res)
	if acked != nil {
		go func() {
			if err := c.s.retransmit2xx(context.Background(), res, acked); err != nil {
				d.acks.Delete(r.req.CSeq().SeqNo)
				c.log.Warn("reinvite_ack_missing", "leg", r.from.String())
				c.hangup(call.CauseFailure) // RFC 3261 §13.3.1.4: end the dialog with BYE
			}
		}()
	}
}

// takeAnswer applies the SDP answer of a leg to its media session.
func (c *b2bCall) takeAnswer(side legSide, body []byte) error {
	ans, err := sdp.Parse(body)
	if err != nil {
		return err
	}
	if err := c.takeRemote(side, ans); err != nil {
		return err
	}
	if am := ans.Audio(); am != nil {
		c.setCodecs(side, mediaCodecs(am.Codecs()))
		c.replanRelay()
	}
	return nil
}

// answerOffer answers a leg's new offer with our address and port on that
// leg, preferring the speech codec already in use there.
func (c *b2bCall) answerOffer(side legSide, offer *sdp.Session, dir sdp.Direction) (*sdp.Session, []media.Codec, error) {
	sess, ip := c.media.aSess, c.media.aIP
	cur := c.media.aCodecs
	if side == sideCallee {
		sess, ip, cur = c.media.bSess, c.media.bIP, c.media.bCodecs
	}
	ans, err := sdp.Answer(offer, sdp.Local{Addr: ip, Port: int(sess.LocalAddr().Port()), Codecs: preferFirst(cur),
		TelephoneEvent: sdp.TelephoneEvent.PayloadType, Ptime: 20 * time.Millisecond, Direction: dir})
	if err != nil {
		return nil, nil, err
	}
	am := ans.Audio()
	if am == nil {
		return nil, nil, errNotAcceptable
	}
	trimToOneSpeechCodec(am)
	return ans, mediaCodecs(am.Codecs()), nil
}

// setCodecs records the codecs a leg now uses.
func (c *b2bCall) setCodecs(side legSide, cs []media.Codec) {
	if side == sideCaller {
		c.media.aCodecs = cs
		c.media.aSess.SetCodecs(cs...)
	} else {
		c.media.bCodecs = cs
		c.media.bSess.SetCodecs(cs...)
	}
}

// replanRelay restarts the relay when the legs' codecs call for another plan.
func (c *b2bCall) replanRelay() {
	if c.media.relay == nil {
		return
	}
	key := codecKey(c.media.aCodecs) + "|" + codecKey(c.media.bCodecs)
	if key == c.media.planKey {
		return
	}
	if err := c.startRelay(); err != nil {
		c.log.Warn("relay_replan_failed", "error", err)
	}
}

func codecKey(cs []media.Codec) string {
	var b strings.Builder
	for _, x := range cs {
		fmt.Fprintf(&b, "%s/%d;", x.Name, x.PayloadType)
	}
	return b.String()
}

// takeRemote points a leg's session at new remote SDP (a re-INVITE may move
// the phone, RFC 3264 §8.3.1) and records whether it holds.
func (c *b2bCall) takeRemote(side legSide, s *sdp.Session) error {
	m := s.Audio()
	if m == nil {
		return errNotAcceptable
	}
	sess, src := c.media.aSess, c.src.Addr()
	if side == sideCallee {
		sess, src = c.media.bSess, c.peerOf(sideCallee).sourceAddr()
		c.media.bRemote = s
	} else {
		c.media.aRemote = s
	}
	sess.SetOnHold(mayBeSilent(s, m))
	if s.Connection != nil && s.Connection.IsHold() || (m.Connection != nil && m.Connection.IsHold()) {
		return nil // c=0.0.0.0: keep the latched address
	}
	addr, err := s.RTPAddr(m)
	if err != nil {
		return err
	}
	if cur, _ := sess.Remote(); cur.Addr() != addr.Addr() || cur.Port() != addr.Port() {
		sess.SetRemote(addr, src)
	}
	return nil
}

func (c *b2bCall) remoteFor(s legSide) *sdp.Session {
	if s == sideCaller {
		return c.media.aRemote
	}
	return c.media.bRemote
}

func (c *b2bCall) localFor(s legSide) *sdp.Session {
	if s == sideCaller {
		return c.media.aLocal
	}
	return c.media.bLocal
}

func (c *b2bCall) setLocal(s legSide, l *sdp.Session) {
	if s == sideCaller {
		c.media.aLocal = l
	} else {
		c.media.bLocal = l
	}
}

func (c *b2bCall) originFor(s legSide) *sdp.OriginTracker {
	if s == sideCaller {
		return c.media.aOrigin
	}
	return c.media.bOrigin
}

// cloneLocal deep-copies an SDP we sent (through its text form).
func cloneLocal(s *sdp.Session) *sdp.Session {
	c, err := sdp.Parse(s.Marshal())
	if err != nil {
		return s
	}
	return c
}

// setDirection replaces the direction attribute of m.
func setDirection(m *sdp.Media, d sdp.Direction) {
	if m == nil {
		return
	}
	attrs := m.Attributes[:0]
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			continue
		}
		attrs = append(attrs, a)
	}
	m.Attributes = append(attrs, d.Attribute())
}

// teardown releases everything the call holds and publishes its end.
func (c *b2bCall) teardown(cause call.Cause, side call.Side, start time.Time) {
	var aStats, bStats media.SessionStats
	if c.media.aSess != nil {
		aStats = c.media.aSess.Stats()
	}
	if c.media.bSess != nil {
		bStats = c.media.bSess.Stats()
	}
	c.reportEnd(cause, side)
	c.stopMonitor(false)
	c.stopHoldMusic(false)
	c.closeMedia()
	for _, t := range []*tap.Point{c.media.aTap, c.media.bTap} {
		if t != nil {
			t.Close() // ends recorders' and recognisers' subscriptions
		}
	}
	for _, p := range c.legs {
		if p == nil {
			continue
		}
		p.close()
		if u, ok := p.(*uacLeg); ok {
			c.releaseChannel(u) // a callee or transfer target reached over a trunk
		}
	}
	c.publish(call.EventCallEnded, func(e *call.Event) {
		e.Cause, e.HangupSide = cause, side
		e.Data = map[string]string{
			call.DataCodecA: codecName(c.media.aCodecs), call.DataCodecB: codecName(c.media.bCodecs),
			call.DataPacketsLostA: strconv.FormatInt(aStats.Lost, 10), call.DataJitterMSA: fmt.Sprintf("%.2f", aStats.JitterMs),
			call.DataPacketsLostB: strconv.FormatInt(bStats.Lost, 10), call.DataJitterMSB: fmt.Sprintf("%.2f", bStats.JitterMs),
		}
	})
	c.log.Info("call_ended", "cause", cause.String(), "hangup_side", side.String(),
		"caller", c.caller.Number, "callee", c.callee.Number, "duration", c.s.now().Sub(start).Round(time.Millisecond).String(),
		"a_packets_in", aStats.PacketsIn, "b_packets_in", bStats.PacketsIn)
}
