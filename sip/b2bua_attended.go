package sip

import (
	"errors"
	"slices"
	"time"

	"github.com/switchd/switchd/call"
)

// An attended transfer (REFER with Replaces, RFC 3891; RFC 5589 §7): the
// transferor has the transferee on one call and has consulted the target
// on a second. The Replaces names the transferor's dialog of the second
// call; switchd asks that call for its other leg — the target, with its
// media session — and puts it on side B of the first in place of the
// transferor. The second call ends (cause transferred); the target's
// dialog and RTP port do not change, so its phone sees nothing but a
// re-INVITE if it was held. A target still ringing is rung anew from the
// first call instead (its consultation call is ended).

// handoffReq asks a call for the leg opposite its leg via.
type handoffReq struct {
	via   peer
	to    *b2bCall // the call taking the leg: its requests go there at once
	reply chan handoffReply
}

// handoffReply is the leg given away, with everything the receiving call
// needs to go on with it.
type handoffReply struct {
	leg     peer
	party   call.Party
	media   targetMedia
	timer   sessionTimer
	callID  call.ID
	ringing *call.Party // set instead when the call was not answered yet: the party it rings
	err     error
}

// Errors of a handoff.
var (
	errTransferBusy = errors.New("sip: the call is busy with another transfer")
	errNoSuchDialog = errors.New("sip: Replaces names no dialog of ours")
)

// handoffWait bounds how long a transfer waits for the consultation call.
const handoffWait = 5 * time.Second

// attendedTransfer connects the transferee (side A) with the other party
// of the dialog rp names, ending the transferor's part in both calls.
func (c *b2bCall) attendedTransfer(sub *referSub, rp replaces, target string) (call.Cause, call.Side, bool) {
	via := c.s.replacedLeg(rp)
	if via == nil {
		c.log.Info("transfer_replaces_unknown", "call_id", rp.CallID)
		return c.transferFailed(sub, transferAttended, target, 481, true)
	}
	owner, _ := via.owner()
	if owner == nil || owner == c {
		return c.transferFailed(sub, transferAttended, target, 403, true)
	}
	h := handoffReq{via: via, to: c, reply: make(chan handoffReply, 1)}
	var got handoffReply
	select {
	case owner.handoffs <- h:
		got = <-h.reply
	case <-owner.gone:
		got.err = errNoSuchDialog
	case <-time.After(handoffWait):
		got.err = errTransferBusy
	}
	switch {
	case got.err != nil:
		c.log.Info("transfer_handoff_failed", "error", got.err)
		return c.transferFailed(sub, transferAttended, target, 481, true)
	case got.ringing != nil:
		// The target is still ringing: ring it from this call.
		return c.blindTransfer(sub, got.ringing.Number, transferAttended)
	}
	transferorNum := c.callee.Number
	c.completeTransfer(sub, transferAttended, c.peerOf(sideCallee), transferorNum, got.leg, got.party, got.media, nil, got.callID)
	c.timers[sideCallee] = got.timer
	return call.CauseUnknown, call.SideUnknown, false
}

// replacedLeg finds our leg of the dialog a Replaces names; the tags are
// tried both ways round (the transferor may have called or been called).
func (s *Server) replacedLeg(rp replaces) peer {
	keys := []dialogKey{
		{callID: rp.CallID, localTag: rp.ToTag, remoteTag: rp.FromTag},
		{callID: rp.CallID, localTag: rp.FromTag, remoteTag: rp.ToTag},
	}
	for _, k := range keys {
		if l, ok := s.dialogs.get(k).(peer); ok {
			return l
		}
	}
	// An early dialog (the consultation call still rings): its caller's
	// leg is not in the dialog table yet. A call's leg A and its tags
	// never change, so reading them here is safe.
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	for bc := range s.calls.m {
		if slices.Contains(keys, bc.a.dlg.key()) {
			return bc.a
		}
	}
	return nil
}

// giveLeg answers a handoff in a connected call: the leg opposite h.via
// leaves with its media session (not closed, not hung up), and the call
// ends with the transferor's leg h.via hung up. It reports false when the
// call goes on (the request named a leg that is not ours).
func (c *b2bCall) giveLeg(h handoffReq) bool {
	var viaSide legSide
	switch h.via {
	case c.peerOf(sideCaller):
		viaSide = sideCaller
	case c.peerOf(sideCallee):
		viaSide = sideCallee
	default:
		h.reply <- handoffReply{err: errNoSuchDialog}
		return false
	}
	if viaSide == sideCallee {
		c.swapSides() // the leg given away is then side B
	}
	c.stopMonitor(false)
	c.stopHoldMusic(false)
	m := &c.media
	c.stopRelay()
	leg := c.peerOf(sideCallee)
	leg.routeTo(h.to, sideCallee)
	out := handoffReply{leg: leg, party: c.callee, timer: c.timers[sideCallee], callID: c.id,
		media: targetMedia{sess: m.bSess, origin: m.bOrigin, ip: m.bIP, remote: m.bRemote, local: m.bLocal, codecs: m.bCodecs}}
	c.legs[sideCallee] = nil // (a trunk leg keeps its channel until the call that has it ends)
	m.bSess = nil
	c.reportEnd(call.CauseTransferred, call.SideCaller)
	h.reply <- out
	return true
}

// refuseHandoff answers a handoff while the call is not connected: an
// unanswered call tells whom it rings (and then ends), others refuse.
func (c *b2bCall) refuseHandoff(h handoffReq, ringing bool) bool {
	if ringing && h.via == peer(c.a) {
		p := c.callee
		h.reply <- handoffReply{ringing: &p}
		return true
	}
	h.reply <- handoffReply{err: errTransferBusy}
	return false
}

// endAfterHandoff ends a call whose other leg was given away: its own
// remaining leg (the transferor's) is hung up.
func (c *b2bCall) endAfterHandoff() (call.Cause, call.Side) {
	if p := c.peerOf(sideCaller); p != nil {
		p.bye()
	}
	return call.CauseTransferred, call.SideCaller
}
