package sip

import (
	"context"
	"errors"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/sdp"
)

// Pickup and retrieve move a phone that called switchd (its call answered
// by an application: the pickup code, a park slot) into another call: one
// still ringing an extension (pickup: the ringing call answers its caller
// and connects it to the phone that picked it up), or a parked call (an
// application leg marked retrievable). The call that receives the phone
// keeps its ID, so the customer's call stays one record; the picker's own
// call ends with cause transferred.

// Errors of Pickup and Retrieve.
var (
	ErrNothingToPickUp = errors.New("sip: no call rings there")
	ErrNotRetrievable  = errors.New("sip: that call cannot be joined now")
)

// joinWait bounds how long a call waits for another to take its leg.
const joinWait = 5 * time.Second

// joinReq offers a call the leg of another (the picker's), answered, with
// its media.
type joinReq struct {
	kind  string // transferPickup or transferRetrieve
	leg   peer
	party call.Party
	media targetMedia
	timer sessionTimer
	from  call.ID
	giver *b2bCall // the call the leg comes from (it gets it back on failure)
	reply chan error
}

// giveReq asks an application call's goroutine to move its caller into
// target.
type giveReq struct {
	target *b2bCall
	kind   string
	reply  chan error
}

const (
	transferPickup   = "pickup"
	transferRetrieve = "retrieve"
)

// Pickup connects the leg's caller to a call ringing one of exts (the
// one ringing longest): that call's caller is answered, and this leg's
// call ends (its application must return). It returns the extension
// whose call it took, or ErrNothingToPickUp.
func (l *AppLeg) Pickup(ctx context.Context, exts []string) (string, error) {
	target := l.c.s.ringingCall(exts, l.c)
	if target == nil {
		return "", ErrNothingToPickUp
	}
	ext := target.ringingTo()
	if err := l.give(ctx, target, transferPickup); err != nil {
		return "", err
	}
	return ext, nil
}

// Retrieve connects the leg's caller to the caller of parked, an
// application leg that is Retrievable; this leg's call ends.
func (l *AppLeg) Retrieve(ctx context.Context, parked *AppLeg) error {
	if parked == nil || !parked.retrievable.Load() {
		return ErrNotRetrievable
	}
	return l.give(ctx, parked.c, transferRetrieve)
}

// SetRetrievable lets other phones Retrieve this leg's caller (a park
// slot). A retrieved leg's Context ends, as after Connect.
func (l *AppLeg) SetRetrievable(on bool) { l.retrievable.Store(on) }

// TransferredBy is the number of the party whose transfer brought the
// caller to this application ("" when the caller dialled it).
func (l *AppLeg) TransferredBy() string { return l.transferredBy }

func (l *AppLeg) give(ctx context.Context, target *b2bCall, kind string) error {
	req := giveReq{target: target, kind: kind, reply: make(chan error, 1)}
	select {
	case l.c.gives <- req:
	case <-l.ctx.Done():
		return ErrCallerGone
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.reply
}

// ringState is the extension an unanswered call rings, since when.
type ringState struct {
	ext   string
	since time.Time
}

// ringingTo is the extension an unanswered call rings ("" otherwise).
func (c *b2bCall) ringingTo() string {
	if r := c.ringing.Load(); r != nil {
		return r.ext
	}
	return ""
}

// AnyExtension in Pickup's list matches every extension.
const AnyExtension = "*"

// ringingCall finds the call ringing one of exts the longest, except self.
func (s *Server) ringingCall(exts []string, self *b2bCall) *b2bCall {
	want := map[string]bool{}
	for _, e := range exts {
		want[e] = true
	}
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	var best *b2bCall
	var since time.Time
	for bc := range s.calls.m {
		r := bc.ringing.Load()
		if bc == self || r == nil || !want[r.ext] && !want[AnyExtension] {
			continue
		}
		if best == nil || r.since.Before(since) {
			best, since = bc, r.since
		}
	}
	return best
}

// ringFor marks the call as ringing ext (pickup finds it) until the
// returned func is called.
func (c *b2bCall) ringFor(ext string) func() {
	c.ringing.Store(&ringState{ext: ext, since: c.s.now()})
	return func() { c.ringing.Store(nil) }
}

// giveLegTo serves a giveReq in an application call: the caller's leg and
// media go to r.target. It reports true when they went (the call is over
// for this goroutine); on refusal the application's endpoint resumes.
func (c *b2bCall) giveLegTo(r giveReq, leg *AppLeg) bool {
	leg.player.Stop()
	if leg.ep != nil {
		leg.ep.Stop()
	}
	m := &c.media
	j := joinReq{kind: r.kind, leg: c.peerOf(sideCaller), party: c.caller, timer: c.timers[sideCaller], from: c.id, giver: c,
		media: targetMedia{sess: m.aSess, origin: m.aOrigin, ip: m.aIP, remote: m.aRemote, local: m.aLocal, codecs: m.aCodecs},
		reply: make(chan error, 1)}
	var err error
	select {
	case r.target.joins <- j:
		err = <-j.reply
	case <-r.target.gone:
		err = ErrNotRetrievable
	case <-time.After(joinWait):
		err = ErrNotRetrievable
	}
	if err != nil {
		if ep, serr := m.aSess.StartEndpoint(leg.ctx, c.endpointConfig(leg)); serr == nil {
			leg.ep = ep
		} else {
			c.log.Warn("endpoint_failed", "error", serr)
		}
		r.reply <- err
		return false
	}
	c.legs[sideCaller] = nil
	m.aSess = nil
	c.log.Info("leg_given", "kind", r.kind, "to", string(r.target.id))
	r.reply <- nil
	return true
}

// takeJoin puts a joining leg on side B of this call: its session
// replaces B's, and the relay may join it with side A. undo gives the leg
// and its session back (to the giving call) if the join fails after all;
// after success, B's old session must be closed with commit.
func (c *b2bCall) takeJoin(j joinReq) (commit, undo func()) {
	m := &c.media
	oldSess, oldOrigin, oldIP, oldRemote, oldLocal, oldCodecs := m.bSess, m.bOrigin, m.bIP, m.bRemote, m.bLocal, m.bCodecs
	oldPB, oldCallee, oldTimer, oldHeld := c.legs[sideCallee], c.callee, c.timers[sideCallee], c.held[sideCallee]
	m.bSess, m.bOrigin, m.bIP, m.bRemote, m.bLocal, m.bCodecs = j.media.sess, j.media.origin, j.media.ip, j.media.remote, j.media.local, j.media.codecs
	m.bSess.OnTimeout(c.hangupMedia)
	c.legs[sideCallee] = j.leg
	j.leg.routeTo(c, sideCallee)
	c.callee = j.party
	c.timers[sideCallee] = j.timer
	c.held[sideCallee] = false
	commit = func() {
		if oldSess != nil {
			oldSess.Close()
		}
	}
	undo = func() {
		c.stopRelay()
		j.media.sess.OnTimeout(j.giver.hangupMedia)
		j.leg.routeTo(j.giver, sideCaller)
		m.bSess, m.bOrigin, m.bIP, m.bRemote, m.bLocal, m.bCodecs = oldSess, oldOrigin, oldIP, oldRemote, oldLocal, oldCodecs
		c.legs[sideCallee], c.callee, c.timers[sideCallee], c.held[sideCallee] = oldPB, oldCallee, oldTimer, oldHeld
	}
	return commit, undo
}

// pickupAnswer answers this ringing call's caller for a picked-up leg j
// (in setup): branches are cancelled by the caller of it. It returns
// CauseUnknown when connected.
func (c *b2bCall) pickupAnswer(j joinReq, aOffer *sdp.Session) (call.Cause, call.Side, error) {
	ringingExt := c.ringingTo()
	commit, undo := c.takeJoin(j)
	body, err := c.callerAnswer(aOffer)
	if err == nil {
		err = c.startRelay()
	}
	if err != nil {
		undo()
		return call.CauseUnknown, call.SideUnknown, err
	}
	commit()
	j.reply <- nil
	c.ringing.Store(nil)
	if err := c.a.answer(context.Background(), body, c.timerHeaders...); err != nil {
		c.log.Warn("caller_ack_missing", "error", err)
		c.peerOf(sideCallee).bye()
		c.a.bye()
		return call.CauseFailure, call.SideSwitch, nil
	}
	c.markAnswered()
	c.route += " -> pickup by " + j.party.Number
	c.publishTransfer(transferPickup, j.party.Number, ringingExt, call.TransferCompleted, 0, j.from)
	c.log.Info("picked_up", "by", j.party.Number, "ringing", ringingExt)
	return call.CauseUnknown, call.SideUnknown, nil
}

// retrieveJoin connects a parked application call's caller with the
// retrieving leg j (in appLoop).
func (c *b2bCall) retrieveJoin(j joinReq, leg *AppLeg) error {
	if _, err := media.NewRelayConfig(c.media.aCodecs, j.media.codecs); err != nil {
		return err // checked before the parked caller's music stops
	}
	leg.player.Stop()
	if leg.ep != nil {
		leg.ep.Stop()
	}
	commit, undo := c.takeJoin(j)
	if err := c.startRelay(); err != nil {
		// Rare (the plan was checked): the picker gets its leg back; the
		// parked caller, whose endpoint is gone, is hung up.
		undo()
		c.hangup(call.CauseFailure)
		return err
	}
	commit()
	c.media.bSess.SetTimeout(c.s.b2b.RTPTimeout)
	c.unhold(sideCaller)
	c.route += " -> retrieved by " + j.party.Number
	c.publishTransfer(transferRetrieve, j.party.Number, c.callee.Number, call.TransferCompleted, 0, j.from)
	c.log.Info("retrieved", "by", j.party.Number)
	return nil
}
