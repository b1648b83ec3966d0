package sip

import (
	"context"
	"fmt"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/dtmf"
	"github.com/switchd/switchd/media/sdp"
)

// appStopGrace bounds how long an application may take to return after
// its caller hung up.
const appStopGrace = 5 * time.Second

// runApp answers the caller itself and runs the call's application until
// it returns or the caller hangs up. It is the call goroutine, like setup
// and connected for two-party calls.
func (c *b2bCall) runApp() (call.Cause, call.Side) {
	a := c.a
	aOffer, ok := c.callerInvite()
	if !ok {
		return call.CauseNotAcceptable, call.SideCaller
	}
	if err := c.openCallerMedia(); err != nil { // no B leg
		c.log.Error("media_unavailable", "error", err)
		a.reject(503, "Media Resources Unavailable")
		return call.CauseCongestion, call.SideSwitch
	}
	var body []byte
	var err error
	if aOffer != nil {
		body, err = c.callerAnswer(aOffer)
	} else {
		body, err = c.callerOffer()
	}
	if err != nil {
		c.log.Warn("caller_sdp_unusable", "error", err)
		a.reject(488, "Not Acceptable Here")
		return call.CauseNotAcceptable, call.SideCaller
	}
	if err := a.answer(context.Background(), body, c.timerHeaders...); err != nil {
		c.log.Warn("caller_ack_missing", "error", err)
		a.bye()
		return call.CauseFailure, call.SideSwitch
	}
	if aOffer == nil {
		if err := c.callerAnsweredInAck(a.ackBody()); err != nil {
			c.log.Warn("caller_answer_unusable", "error", err)
			a.bye()
			return call.CauseNotAcceptable, call.SideCaller
		}
	}
	c.answered = true
	c.media.aSess.SetTimeout(c.s.b2b.RTPTimeout)
	c.startTimers(c.s.now())
	c.publish(call.EventCallAnswered, func(e *call.Event) {
		e.Data = map[string]string{call.DataCodecA: codecName(c.media.aCodecs)}
	})

	return c.runAppLeg("", c.answeredHook)
}

// runAppLeg runs c.app on side A, answered: its leg (transferred by
// transferredBy, "" when dialled) gets an endpoint on A's session;
// started, when set, is called once it has one. It returns like runApp.
func (c *b2bCall) runAppLeg(transferredBy string, started func(*AppLeg)) (call.Cause, call.Side) {
	leg := newAppLeg(c, c.s.b2b.Prompts)
	leg.transferredBy = transferredBy
	defer leg.end(call.CauseNormalClearing)
	ep, err := c.media.aSess.StartEndpoint(leg.ctx, c.endpointConfig(leg))
	if err != nil {
		c.log.Error("endpoint_failed", "error", err)
		c.peerOf(sideCaller).bye()
		return call.CauseFailure, call.SideSwitch
	}
	leg.ep = ep
	defer ep.Stop()
	if started != nil {
		started(leg)
	}
	c.log.Info("app_started", "app", c.app.Name(), "transferred_by", transferredBy)
	done := make(chan AppResult, 1)
	go func() { done <- c.app.Run(leg.ctx, leg) }()
	cause, side, target := c.appLoop(leg, done)
	if target != "" {
		return c.bridge(leg, target)
	}
	return cause, side // CauseUnknown: connected by Connect
}

// endpointConfig terminates leg A's media for an application.
func (c *b2bCall) endpointConfig(leg *AppLeg) media.EndpointConfig {
	cfg := endpointFor(c.media.aCodecs)
	cfg.InBand, cfg.Source, cfg.OnDigit, cfg.Tap = true, leg.player, leg.digit, leg.tap
	return cfg
}

// endpointFor is an endpoint on a leg that negotiated codecs: the first
// speech codec, and the leg's telephone-event payload type if any.
func endpointFor(codecs []media.Codec) media.EndpointConfig {
	var cfg media.EndpointConfig
	for _, cd := range codecs {
		switch {
		case cd.IsTelephoneEvent():
			cfg.TelephoneEvent = cd.PayloadType
		case cfg.Codec.Name == "":
			cfg.Codec = cd
		}
	}
	return cfg
}

// appLoop serves the caller's in-dialog requests while the application
// runs. It returns why the call ended, or the extension to bridge to.
//
// It also rings the devices of the application's Connects (app_connect.go)
// and returns CauseUnknown with no target when one connected the caller.
func (c *b2bCall) appLoop(leg *AppLeg, done <-chan AppResult) (call.Cause, call.Side, string) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	rg := newRinging()
	defer c.stopRinging(rg, ErrCallerGone)
	finish := func(cause call.Cause) {
		c.stopRinging(rg, ErrCallerGone)
		leg.end(cause)
		select {
		case <-done:
		case <-time.After(appStopGrace):
			c.log.Warn("app_slow_to_stop", "app", c.app.Name())
		}
	}
	for {
		select {
		case res := <-done:
			if res.Bridge != "" && leg.ctx.Err() == nil {
				return call.CauseUnknown, call.SideUnknown, res.Bridge
			}
			cause := res.Cause
			if cause == call.CauseUnknown {
				cause = call.CauseNormalClearing
			}
			leg.end(cause)
			c.peerOf(sideCaller).bye()
			return cause, call.SideSwitch, ""
		case <-tick.C:
			if cause := c.checkTimers(c.s.now()); cause != call.CauseUnknown {
				finish(cause)
				c.peerOf(sideCaller).bye()
				return cause, call.SideSwitch, ""
			}
		case cause := <-c.end:
			finish(cause)
			c.peerOf(sideCaller).bye()
			return cause, call.SideSwitch, ""
		case req := <-c.connects:
			c.startConnect(rg, req)
		case h := <-c.handoffs:
			c.refuseHandoff(h, false)
		case r := <-c.gives:
			if c.giveLegTo(r, leg) {
				finish(call.CauseTransferred)
				return call.CauseTransferred, call.SideCaller, ""
			}
		case j := <-c.joins:
			if j.kind != transferRetrieve || !leg.retrievable.Load() {
				j.reply <- ErrNotRetrievable
				continue
			}
			if err := c.retrieveJoin(j, leg); err != nil {
				c.log.Warn("retrieve_failed", "error", err)
				j.reply <- err
				continue
			}
			c.stopRinging(rg, ErrCallerGone)
			leg.retrievable.Store(false)
			j.reply <- nil
			return call.CauseUnknown, call.SideUnknown, ""
		case req := <-rg.withdrawn:
			c.finishConnect(rg, req, &ConnectError{Cause: call.CauseOriginatorCancel, Err: req.ctx.Err()})
		case ev := <-rg.events:
			if c.connectEvent(rg, leg, ev) {
				return call.CauseUnknown, call.SideUnknown, ""
			}
		case r := <-c.inbox:
			if c.stale(&r) {
				continue
			}
			if r.tx == nil {
				if len(r.req.Body()) > 0 {
					if err := c.takeAnswer(r.from, r.req.Body()); err != nil {
						c.log.Warn("ack_answer_unusable", "error", err)
					}
				}
				continue
			}
			if r.from == sideCallee {
				// A device that answered a Connect and was let go.
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 481, "Call/Transaction Does Not Exist", nil))
				continue
			}
			switch r.req.Method {
			case gosip.BYE:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
				finish(call.CauseNormalClearing)
				return call.CauseNormalClearing, call.SideCaller, ""
			case gosip.INVITE:
				c.refreshed(r.from, c.s.now())
				c.appReinvite(r)
			case gosip.UPDATE:
				c.refreshed(r.from, c.s.now())
				c.update(r)
			case gosip.INFO:
				c.appInfo(r, leg)
			case gosip.OPTIONS:
				r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
			default:
				res := gosip.NewResponseFromRequest(r.req, 501, "Not Implemented", nil)
				res.AppendHeader(gosip.NewHeader("Allow", allowedMethods))
				r.tx.Respond(res)
			}
		}
	}
}

// appReinvite answers a re-INVITE of an app leg: hold, resume or a new
// address, answered with our own SDP; the application goes on.
func (c *b2bCall) appReinvite(r dialogRequest) {
	r.tx.Respond(gosip.NewResponseFromRequest(r.req, 100, "Trying", nil))
	body := r.req.Body()
	if len(body) == 0 {
		c.respondSDP(r, c.localFor(r.from))
		return
	}
	offer, err := sdp.Parse(body)
	if err != nil || offer.Audio() == nil {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 488, "Not Acceptable Here", nil))
		return
	}
	c.dialogOf(r.from).refreshTarget(r.req.Contact())
	dir := offer.EffectiveDirection(offer.Audio())
	ans, codecs, err := c.answerOffer(r.from, offer, sdp.AnswerDirection(dir, sdp.SendRecv))
	if err != nil {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 488, "Not Acceptable Here", nil))
		return
	}
	if err := c.takeRemote(r.from, offer); err != nil {
		c.log.Warn("reinvite_offer_unusable", "error", err)
	}
	c.media.aCodecs = codecs
	c.media.aSess.SetCodecs(codecs...)
	c.setLocal(r.from, ans)
	c.respondSDP(r, ans)
}

// appInfo takes DTMF sent as SIP INFO (application/dtmf-relay,
// application/dtmf); other INFO packages are acknowledged and ignored.
func (c *b2bCall) appInfo(r dialogRequest, leg *AppLeg) {
	ct := ""
	if h := r.req.ContentType(); h != nil {
		ct = h.Value()
	}
	e, err := dtmf.ParseInfo(ct, r.req.Body(), c.s.now())
	switch {
	case err == nil:
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
		leg.digit(e)
	case isDTMFInfo(ct):
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 400, fmt.Sprintf("Bad DTMF body (%v)", err), nil))
	default:
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
	}
}

func isDTMFInfo(ct string) bool {
	ct = lower(ct)
	return len(ct) >= 16 && ct[:16] == "application/dtmf"
}
