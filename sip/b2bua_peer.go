package sip

import (
	"net/netip"

	gosip "github.com/emiago/sipgo/sip"
)

// peer is an established dialog with a phone or carrier, whichever way it
// was set up: the caller's leg (uasLeg, switchd answered its INVITE) or a
// leg switchd called (uacLeg). Once a call is answered it sees only
// peers, so a transfer, a pickup or a park can put any leg on either side.
type peer interface {
	bye() error
	close()
	dialog() *dialogState
	// sourceAddr is where the leg's SIP comes from: RTP from that address
	// is latched even when the SDP says otherwise (NAT).
	sourceAddr() netip.Addr
	// allow is the leg's Allow header values (what it takes in-dialog).
	allow() []gosip.Header
	// routeTo sends the leg's in-dialog requests to call c, as side.
	routeTo(c *b2bCall, side legSide)
	// owner is the call the leg belongs to now (nil before it has one).
	owner() (*b2bCall, legSide)
}

// legRoute is where a leg's in-dialog requests go.
type legRoute struct {
	inbox chan dialogRequest
	side  legSide
	call  *b2bCall
}

func (l *uasLeg) dialog() *dialogState { return l.dlg }
func (l *uacLeg) dialog() *dialogState { return l.dlg }

func (l *uasLeg) sourceAddr() netip.Addr {
	a, _ := netip.ParseAddrPort(l.invite.Source())
	return a.Addr().Unmap()
}
func (l *uacLeg) sourceAddr() netip.Addr { return l.binding.Source.Addr() }

func (l *uasLeg) allow() []gosip.Header { return l.invite.GetHeaders("Allow") }
func (l *uacLeg) allow() []gosip.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.answer == nil {
		return nil
	}
	return l.answer.GetHeaders("Allow")
}

func (l *uasLeg) routeTo(c *b2bCall, side legSide) {
	l.rt.Store(&legRoute{inbox: c.inbox, side: side, call: c})
}
func (l *uacLeg) routeTo(c *b2bCall, side legSide) {
	l.rt.Store(&legRoute{inbox: c.inbox, side: side, call: c})
}

func (l *uasLeg) owner() (*b2bCall, legSide) { rt := l.rt.Load(); return rt.call, rt.side }
func (l *uacLeg) owner() (*b2bCall, legSide) { rt := l.rt.Load(); return rt.call, rt.side }

// peerOf is the established leg on side s (nil when there is none).
func (c *b2bCall) peerOf(s legSide) peer { return c.legs[s] }

// setCallee makes l, which answered, leg B (nil: none).
func (c *b2bCall) setCallee(l *uacLeg) {
	c.b = l
	c.legs[sideCallee] = nil
	if l != nil {
		c.legs[sideCallee] = l
	}
}

// sideOf is the side leg p is on now (sideUnknown: none of this call's).
// A request records its leg's side when it is queued; a transfer may
// swap the sides before the request is read, so readers ask again.
func (c *b2bCall) sideOf(p peer) legSide {
	for _, s := range []legSide{sideCaller, sideCallee} {
		if p != nil && c.legs[s] == p {
			return s
		}
	}
	return sideUnknown
}

// stale answers a request from a leg that is no longer on a side of this
// call — a transferor who was moved out, a leg given to another call —
// and reports true: its BYE gets 200 (it is leaving anyway), anything
// else 481 (RFC 3261 §12.2.2); its ACKs are dropped. A request from a leg
// of the call reports false, with r.from set to the leg's side now.
func (c *b2bCall) stale(r *dialogRequest) bool {
	if r.leg == nil {
		return false
	}
	if s := c.sideOf(r.leg); s != sideUnknown {
		r.from = s
		return false
	}
	if r.tx == nil {
		return true
	}
	if r.req.Method == gosip.BYE {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, 200, "OK", nil))
		r.leg.close()
		return true
	}
	r.tx.Respond(gosip.NewResponseFromRequest(r.req, 481, "Call/Transaction Does Not Exist", nil))
	return true
}
