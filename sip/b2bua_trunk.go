package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/media/sdp"
)

// hunt is the state of an outbound call trying its trunks in order.
// Failover to the next trunk happens on 500, 502, 503, 504, on a local
// transaction timeout or transport error, and when the carrier sends no
// provisional response within the trunk's invite_timeout — never after a
// 180/183 (the callee is being alerted) and never on other 4xx/6xx (a 486
// from the carrier is the callee's answer).
type hunt struct {
	next       int
	cur        *uacLeg
	timer      *time.Timer
	progressed bool // a 180/183 arrived: the call stays on this trunk
	abandoned  map[*uacLeg]bool
	legs       []*uacLeg
	tried      int // attempts sent
}

// defaultInviteTimeout applies when a trunk sets none.
const defaultInviteTimeout = 3 * time.Second

func (h *hunt) timerC() <-chan time.Time {
	if h.timer == nil {
		return nil
	}
	return h.timer.C
}

func (h *hunt) stopTimer() {
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
}

// failoverStatus reports whether a carrier's final response moves the call
// to the next trunk (500 Server Internal Error, 502 Bad Gateway, 503 Service
// Unavailable, 504 Server Time-out, and the 408 of a local timeout).
func failoverStatus(code int) bool {
	switch code {
	case 408, 500, 502, 503, 504:
		return true
	}
	return false
}

// huntNext sends the INVITE of the next usable trunk attempt and reports
// whether one was sent.
func (c *b2bCall) huntNext(ctx context.Context, aOffer *sdp.Session, events chan<- branchEvent, live map[*uacLeg]bool) bool {
	h := &c.hunt
	h.stopTimer()
	h.cur = nil
	for h.next < len(c.out.Attempts) {
		at := &c.out.Attempts[h.next]
		h.next++
		t := at.Trunk
		if !c.s.chans.acquire(t) {
			c.log.Info("trunk_full", "trunk", t.Name, "max_channels", t.MaxChannels)
			continue
		}
		leg, err := c.trunkLeg(ctx, at, aOffer)
		if err != nil {
			c.s.chans.release(t)
			c.log.Warn("trunk_attempt_failed", "trunk", t.Name, "error", err)
			continue
		}
		leg.channel = true
		h.legs = append(h.legs, leg)
		if err := leg.start(ctx); err != nil {
			c.releaseChannel(leg)
			c.log.Warn("trunk_attempt_failed", "trunk", t.Name, "error", err)
			continue
		}
		h.tried++
		h.cur = leg
		c.trunkName = t.Name
		live[leg] = true
		timeout := t.InviteTimeout
		if timeout <= 0 {
			timeout = defaultInviteTimeout
		}
		h.timer = time.NewTimer(timeout)
		c.log.Info("trunk_attempt", "trunk", t.Name, "number", at.Number, "attempt", h.tried)
		go readBranch(ctx, leg, events)
		return true
	}
	return false
}

// trunkLeg builds the INVITE of one attempt.
func (c *b2bCall) trunkLeg(ctx context.Context, at *OutboundAttempt, aOffer *sdp.Session) (*uacLeg, error) {
	t := at.Trunk
	dst, err := resolveTrunk(ctx, t)
	if err != nil {
		return nil, err
	}
	ruri, transport := trunkRequestURI(at, dst)
	c.codecFilter = t.Codecs
	offer, err := c.calleeOffer(aOffer, dst.Addr())
	if err != nil {
		return nil, err
	}
	b := Binding{Contact: ruri.String(), Source: dst, Transport: transport}
	leg, err := c.s.newUACLeg(b, outboundCall{fromUser: at.CallerID.Number, fromName: at.CallerID.Name,
		toUser: at.Number, domain: t.domain(), privacy: at.Privacy, sdp: offer}, c.inbox)
	if err != nil {
		return nil, err
	}
	leg.attempt = at
	leg.routeTo(c, sideCallee)
	return leg, nil
}

// trunkRequestURI is the Request-URI of an attempt sent to dst, and the
// transport ("udp", "tcp").
func trunkRequestURI(at *OutboundAttempt, dst netip.AddrPort) (gosip.Uri, string) {
	t := at.Trunk
	transport := "udp"
	if strings.EqualFold(t.Transport, "tcp") {
		transport = "tcp"
	}
	ruri := gosip.Uri{Scheme: "sip", User: at.Number, Host: t.domain(), UriParams: gosip.NewParams()}
	if t.Domain == "" || t.Domain == t.Host {
		ruri.Port = int(dst.Port())
	}
	if transport == "tcp" {
		ruri.UriParams.Add("transport", "tcp")
	}
	return ruri, transport
}

// resolveTrunk returns the carrier's address.
func resolveTrunk(ctx context.Context, t *Trunk) (netip.AddrPort, error) {
	port := t.Port
	if port == 0 {
		port = 5060
	}
	ap, err := resolveHost(ctx, t.Host, uint16(port))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("trunk %s: %w", t.Name, err)
	}
	return ap, nil
}

// resolveHost returns host's address with port: an IP as it is, else the
// first address the name resolves to, IPv4 preferred (within 2 s). DNS
// SRV/NAPTR (RFC 3263) is not used: carriers are configured by host and port.
func resolveHost(ctx context.Context, host string, port uint16) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), port), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("sip: resolve %s: %w", host, err)
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("sip: resolve %s: no address", host)
	}
	best := ips[0]
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			best = ip
			break
		}
	}
	return netip.AddrPortFrom(best.Unmap(), port), nil
}

// releaseChannel gives back the trunk channel a leg holds (idempotent).
func (c *b2bCall) releaseChannel(leg *uacLeg) {
	if leg != nil && leg.channel {
		leg.channel = false
		c.s.chans.release(leg.attempt.Trunk)
	}
}

// releaseLosers gives back the channels of every attempt but the winner's.
func (c *b2bCall) releaseLosers() {
	for _, leg := range c.hunt.legs {
		if leg != c.b {
			c.releaseChannel(leg)
		}
	}
	c.hunt.stopTimer()
}

// trunkAction is what trunkEvent decided about a branch event.
type trunkAction uint8

const (
	trunkFallthrough trunkAction = iota // the generic branch handling applies
	trunkHandled                        // consumed; the caller is rejected if no branch is left
)

// trunkEvent handles what is particular to trunk attempts in a branch
// event: abandoned attempts, invite_timeout, challenges and failover.
func (c *b2bCall) trunkEvent(ctx context.Context, ev branchEvent, aOffer *sdp.Session, events chan<- branchEvent, live map[*uacLeg]bool, best *int) trunkAction {
	h, leg := &c.hunt, ev.leg
	if h.abandoned[leg] {
		switch {
		case ev.res == nil:
		case ev.res.IsSuccess():
			// Answered after we gave up on it: ACK and BYE (RFC 3261 §13.2.2.4).
			leg.confirm(ev.res)
			go leg.bye()
		case ev.res.StatusCode > 100 && ev.res.IsProvisional():
			leg.cancel(context.Background())
		}
		return trunkHandled
	}
	if ev.done || ev.res == nil {
		if h.progressed {
			return trunkFallthrough
		}
		c.log.Info("trunk_failover", "trunk", leg.attempt.Trunk.Name, "reason", "no final response")
		return c.failover(ctx, leg, aOffer, events, live, best, 503)
	}
	res := ev.res
	code := int(res.StatusCode)
	switch {
	case res.IsProvisional():
		leg.provisional = true
		if leg == h.cur {
			h.stopTimer()
		}
		if code == 180 || code == 183 {
			h.progressed = true
		}
		return trunkFallthrough
	case res.IsSuccess():
		c.trunkName = leg.attempt.Trunk.Name
		h.stopTimer()
		return trunkFallthrough
	case code == 401 || code == 407:
		if !leg.authed && c.reauth(ctx, leg, res, events) {
			return trunkHandled
		}
		// Unanswerable, or our credentials refused: the caller gets 503, not
		// a challenge meant for us.
		c.log.Warn("trunk_auth_failed", "trunk", leg.attempt.Trunk.Name, "status", code, "answered_before", leg.authed)
		*best = betterFinal(*best, 503)
		delete(live, leg)
		c.releaseChannel(leg)
		return trunkHandled
	case failoverStatus(code) && !h.progressed:
		c.log.Info("trunk_failover", "trunk", leg.attempt.Trunk.Name, "status", code)
		return c.failover(ctx, leg, aOffer, events, live, best, code)
	}
	c.releaseChannel(leg)
	return trunkFallthrough
}

// failover drops leg and tries the next trunk; when none is left the
// generic handling rejects the caller with the best final response.
func (c *b2bCall) failover(ctx context.Context, leg *uacLeg, aOffer *sdp.Session, events chan<- branchEvent, live map[*uacLeg]bool, best *int, code int) trunkAction {
	delete(live, leg)
	c.releaseChannel(leg)
	*best = betterFinal(*best, code)
	c.huntNext(ctx, aOffer, events, live)
	return trunkHandled
}

// inviteTimedOut abandons the current attempt when the carrier sent no
// provisional response within invite_timeout. No CANCEL may be sent before
// a provisional response (RFC 3261 §9.1); a late answer is ACKed and BYEd.
func (c *b2bCall) inviteTimedOut(ctx context.Context, aOffer *sdp.Session, events chan<- branchEvent, live map[*uacLeg]bool, best *int) {
	h := &c.hunt
	h.timer = nil
	leg := h.cur
	if leg == nil || leg.provisional || h.progressed {
		return
	}
	if h.abandoned == nil {
		h.abandoned = map[*uacLeg]bool{}
	}
	h.abandoned[leg] = true
	c.log.Info("trunk_failover", "trunk", leg.attempt.Trunk.Name, "reason", "invite_timeout")
	c.failover(ctx, leg, aOffer, events, live, best, 408)
}

// reauth re-sends an attempt's INVITE with credentials answering the
// carrier's 401/407 (RFC 3261 §22.2), once.
func (c *b2bCall) reauth(ctx context.Context, leg *uacLeg, res *gosip.Response, events chan<- branchEvent) bool {
	cred := leg.attempt.Trunk.Credentials
	if cred.Username == "" {
		return false
	}
	req, err := withAuth(leg.invite, res, cred)
	if err != nil {
		c.log.Warn("trunk_challenge_unanswerable", "trunk", leg.attempt.Trunk.Name, "error", err)
		return false
	}
	leg.authed = true
	leg.invite = req
	leg.dlg.localCSeq.Store(req.CSeq().SeqNo)
	if err := leg.start(ctx); err != nil {
		c.log.Warn("trunk_attempt_failed", "trunk", leg.attempt.Trunk.Name, "error", err)
		return false
	}
	if leg == c.hunt.cur && c.hunt.timer != nil {
		c.hunt.stopTimer()
		timeout := leg.attempt.Trunk.InviteTimeout
		if timeout <= 0 {
			timeout = defaultInviteTimeout
		}
		c.hunt.timer = time.NewTimer(timeout)
	}
	go readBranch(ctx, leg, events)
	return true
}
