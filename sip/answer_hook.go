package sip

import (
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media/tap"
)

// Answered describes a call when it is first answered (B2BUA.OnAnswer):
// by switchd itself for an application, or by the callee of a two-party
// call. Recorders start here.
type Answered struct {
	CallID         call.ID
	Direction      call.Direction
	Caller, Callee call.Party
	// Leg is the caller's leg when switchd answered the call (an IVR flow,
	// a queue, a service); nil for a two-party call.
	Leg *AppLeg
	// CallerTap and CalleeTap are the legs' decoded audio (tap.In what the
	// party says, tap.Out what it hears), whether switchd plays to the
	// caller or relays the call.
	CallerTap, CalleeTap *tap.Point
}

// answeredHook tells B2BUA.OnAnswer, once per call.
func (c *b2bCall) answeredHook(leg *AppLeg) {
	if c.s.b2b.OnAnswer == nil || c.hooked {
		return
	}
	c.hooked = true
	c.s.b2b.OnAnswer(Answered{CallID: c.id, Direction: c.direction, Caller: c.caller, Callee: c.callee, Leg: leg,
		CallerTap: c.media.aTap, CalleeTap: c.media.bTap})
}
