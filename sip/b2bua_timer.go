package sip

import (
	"context"
	"strconv"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
)

// Session timers (RFC 4028) keep a call honest when no RTP flows (on hold):
// each leg is refreshed by re-INVITE or UPDATE every interval/2 by its
// refresher; when the refresher is the phone and no refresh comes before
// the interval runs out (less min(32 s, interval/3), §10), or when our own
// refresh fails, the call ends with cause session_timeout.

// minSE is the smallest session interval we accept (RFC 4028 §4: 90 s).
const minSE = 90

// sessionTimer is one leg's timer state.
type sessionTimer struct {
	interval  time.Duration // 0: no timer on this leg
	weRefresh bool
	last      time.Time // last refresh sent or received
}

// parseSessionExpires reads "Session-Expires: 1800;refresher=uac" (RFC 4028 §4).
func parseSessionExpires(msg interface{ GetHeader(string) gosip.Header }) (secs int, refresher string) {
	h := msg.GetHeader("Session-Expires")
	if h == nil {
		if h = msg.GetHeader("x"); h == nil { // compact form (RFC 4028 §4)
			return 0, ""
		}
	}
	v, params, _ := strings.Cut(h.Value(), ";")
	n, err := parseDeltaSeconds(v)
	if err != nil {
		return 0, ""
	}
	for _, p := range strings.Split(params, ";") {
		k, val, _ := strings.Cut(p, "=") // LWS may surround "=" (RFC 3261 §25.1 EQUAL)
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return n, refresher
}

// supportsTimer reports whether a message lists the "timer" option tag.
func supportsTimer(msg interface{ GetHeaders(string) []gosip.Header }) bool {
	for _, name := range []string{"Supported", "Require", "k"} {
		for _, h := range msg.GetHeaders(name) {
			for _, t := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(t), "timer") {
					return true
				}
			}
		}
	}
	return false
}

// callerTimer negotiates the caller leg's timer from its INVITE. It returns
// the headers for our 2xx, or a 422 response when the interval is too small.
func (c *b2bCall) callerTimer() (headers []gosip.Header, reject *gosip.Response) {
	se, refresher := parseSessionExpires(c.a.invite)
	if se > 0 && se < minSE {
		res := c.a.response(422, "Session Interval Too Small", nil)
		res.AppendHeader(gosip.NewHeader("Min-SE", strconv.Itoa(minSE)))
		return nil, res
	}
	want := int(c.s.b2b.SessionExpires / time.Second)
	if want == 0 {
		return nil, nil
	}
	if se == 0 || se > want {
		se = want
	}
	t := &c.timers[sideCaller]
	t.interval = time.Duration(se) * time.Second
	if !supportsTimer(c.a.invite) {
		// The caller cannot refresh: we do, with re-INVITE or UPDATE (§7.1 allows it).
		t.weRefresh = true
		return nil, nil
	}
	if refresher == "" {
		refresher = "uac"
	}
	t.weRefresh = refresher == "uas"
	return []gosip.Header{
		gosip.NewHeader("Session-Expires", strconv.Itoa(se)+";refresher="+refresher),
		gosip.NewHeader("Require", "timer"),
	}, nil
}

// calleeTimerHeaders are added to our INVITE towards the callee: we offer to refresh.
func (s *Server) calleeTimerHeaders() []gosip.Header {
	if s.b2b == nil || s.b2b.SessionExpires == 0 {
		return nil
	}
	return []gosip.Header{
		gosip.NewHeader("Session-Expires", strconv.Itoa(int(s.b2b.SessionExpires/time.Second))+";refresher=uac"),
		gosip.NewHeader("Min-SE", strconv.Itoa(minSE)),
	}
}

// calleeTimer takes the callee's 2xx: it may have made itself the refresher.
func (c *b2bCall) calleeTimer(res *gosip.Response) {
	if c.s.b2b.SessionExpires == 0 {
		return
	}
	t := &c.timers[sideCallee]
	t.interval = c.s.b2b.SessionExpires
	t.weRefresh = true
	if se, refresher := parseSessionExpires(res); se >= minSE {
		t.interval = time.Duration(se) * time.Second
		t.weRefresh = refresher != "uas"
	}
}

// startTimers marks both legs refreshed now (the call was just answered).
func (c *b2bCall) startTimers(now time.Time) {
	for i := range c.timers {
		c.timers[i].last = now
	}
}

// refreshed records a refresh (re-INVITE/UPDATE) received from a leg.
func (c *b2bCall) refreshed(from legSide, now time.Time) { c.timers[from].last = now }

// checkTimers refreshes the legs we refresh and ends the call when a leg's
// session expired. It returns a cause when the call must end.
func (c *b2bCall) checkTimers(now time.Time) call.Cause {
	for _, side := range []legSide{sideCaller, sideCallee} {
		t := &c.timers[side]
		if t.interval == 0 || c.peerOf(side) == nil {
			continue
		}
		if t.weRefresh {
			if now.Sub(t.last) < t.interval/2 {
				continue
			}
			t.last = now
			if !c.refresh(side) {
				c.log.Info("session_refresh_failed", "leg", side.String())
				return call.CauseSessionTimeout
			}
			continue
		}
		grace := min(32*time.Second, t.interval/3)
		if now.Sub(t.last) > t.interval-grace {
			c.log.Info("session_expired", "leg", side.String(), "interval", t.interval.String())
			return call.CauseSessionTimeout
		}
	}
	return call.CauseUnknown
}

// refresh sends a session refresh to one leg: UPDATE without SDP when the
// phone allows it (RFC 4028 §9 prefers it), else a re-INVITE with the SDP we
// last sent (unchanged, so its o= version stays, RFC 3264 §8).
func (c *b2bCall) refresh(side legSide) bool {
	d := c.dialogOf(side)
	ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
	defer cancel()
	se := []gosip.Header{gosip.NewHeader("Session-Expires",
		strconv.Itoa(int(c.timers[side].interval/time.Second))+";refresher="+refresherName(c.peerOf(side)))}
	if c.peerAllows(side, "UPDATE") {
		res, err := c.s.doInDialog(ctx, d, gosip.UPDATE, nil, se)
		return err == nil && res.StatusCode != 408 && res.StatusCode != 481
	}
	res, err := c.offerTo(side, cloneLocal(c.localFor(side)))
	return err == nil && res.StatusCode != 408 && res.StatusCode != 481
}

// refresherName is the refresher parameter for a leg where we refresh: we
// are the UAS on a leg that called us and the UAC on one we called (the
// caller's and the callee's, unless a transfer moved legs).
func refresherName(p peer) string {
	if _, ok := p.(*uasLeg); ok {
		return "uas"
	}
	return "uac"
}

// peerAllows reports whether a leg's phone listed method in its Allow header.
func (c *b2bCall) peerAllows(side legSide, method string) bool {
	p := c.peerOf(side)
	if p == nil {
		return false
	}
	for _, h := range p.allow() {
		for _, m := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(m), method) {
				return true
			}
		}
	}
	return false
}
