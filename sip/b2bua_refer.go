package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// referTo is what a REFER asks for (RFC 3515 §2.1): a blind transfer to
// Target, or an attended one (Replaces set, RFC 3891 §3) that connects the
// transferee with the other party of the dialog Replaces names.
type referTo struct {
	Target   string // the Refer-To URI's user: a number
	Replaces *replaces
}

// replaces identifies a dialog (RFC 3891 §6.1). FromTag and ToTag are as
// the transferor's phone sees it; switchd looks it up both ways round.
type replaces struct {
	CallID, ToTag, FromTag string
	EarlyOnly              bool
}

// Errors of parseReferTo.
var (
	errReferTo      = errors.New("sip: REFER needs exactly one Refer-To")
	errReferToURI   = errors.New("sip: Refer-To is not a SIP URI with a user")
	errReplacesBody = errors.New("sip: Replaces is not call-id;to-tag=…;from-tag=…")
)

// targetChars are what a transfer target (a number, an extension, a
// service code) may be made of.
const targetChars = "0123456789*#+abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-"

// parseReferTo reads the Refer-To values of a REFER: exactly one, a sip or
// sips URI with a user part, optionally with an embedded Replaces header
// (RFC 3891 §3: "?Replaces=" percent-encoded in the URI).
func parseReferTo(values []string) (referTo, error) {
	if len(values) != 1 {
		return referTo{}, errReferTo
	}
	v := strings.TrimSpace(values[0])
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return referTo{}, errReferToURI
		}
		v = v[i+1 : i+j]
	} else if k := strings.IndexByte(v, ';'); k >= 0 {
		v = v[:k] // parameters of the header, not of the URI (RFC 3261 §20.10)
	}
	uri, headers, _ := strings.Cut(v, "?")
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || (!strings.EqualFold(scheme, "sip") && !strings.EqualFold(scheme, "sips")) {
		return referTo{}, errReferToURI
	}
	user, _, ok := strings.Cut(rest, "@")
	if !ok || user == "" {
		return referTo{}, errReferToURI
	}
	if u, err := url.PathUnescape(user); err == nil {
		user = u
	}
	if i := strings.IndexByte(user, ';'); i >= 0 {
		user = user[:i] // user parameters (";phone-context=…")
	}
	out := referTo{Target: user}
	if out.Target == "" || len(out.Target) > 64 || strings.Trim(out.Target, targetChars) != "" {
		return referTo{}, errReferToURI
	}
	for _, h := range strings.Split(headers, "&") {
		name, val, _ := strings.Cut(h, "=")
		if !strings.EqualFold(name, "Replaces") {
			continue
		}
		raw, err := url.PathUnescape(val) // "+" stays "+": it is legal in Call-IDs and tags
		if err != nil {
			return referTo{}, fmt.Errorf("%w: %w", errReplacesBody, err)
		}
		r, err := parseReplaces(raw)
		if err != nil {
			return referTo{}, err
		}
		out.Replaces = &r
	}
	return out, nil
}

// parseReplaces reads a Replaces value (RFC 3891 §6.1).
func parseReplaces(v string) (replaces, error) {
	parts := strings.Split(v, ";")
	r := replaces{CallID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.ToTag = val
		case "from-tag":
			r.FromTag = val
		case "early-only":
			r.EarlyOnly = true
		}
	}
	if r.CallID == "" || r.ToTag == "" || r.FromTag == "" {
		return replaces{}, errReplacesBody
	}
	return r, nil
}

// referSub is the implicit subscription a REFER creates (RFC 3515 §2.4.4):
// switchd reports the transfer's progress to the transferor in NOTIFYs
// carrying a message/sipfrag status line, one at a time and in order (a
// phone answers a NOTIFY with a lower CSeq 500). Off (nil) when the REFER
// said Refer-Sub: false (RFC 4488 §4) or for a feature-code transfer.
type referSub struct {
	s       *Server
	dlg     *dialogState
	id      uint32 // the REFER's CSeq (the Event header's id, RFC 3515 §2.4.6)
	queue   chan []byte
	done    bool
	flushed chan struct{} // closed when the last NOTIFY was answered
}

func newReferSub(s *Server, dlg *dialogState, id uint32) *referSub {
	n := &referSub{s: s, dlg: dlg, id: id, queue: make(chan []byte, 8), flushed: make(chan struct{})}
	go n.send()
	return n
}

// notify queues the transfer's progress: a 1xx while it goes on
// (subscription active), the final status when it ends (terminated).
func (n *referSub) notify(code int, reason string) {
	if n == nil || n.done {
		return
	}
	if code >= 200 {
		n.done = true
	}
	select {
	case n.queue <- []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)):
	default: // a phone not answering NOTIFYs: later progress is dropped, never the call
	}
	if n.done {
		close(n.queue)
	}
}

// byeAfter hangs up p once the final NOTIFY has been answered (at most
// 5 s later): the transferor learns the outcome before its call ends.
func (n *referSub) byeAfter(p peer) {
	go func() {
		if n != nil {
			select {
			case <-n.flushed:
			case <-time.After(5 * time.Second):
			}
		}
		p.bye()
	}()
}

// send delivers the queued NOTIFYs in order, each after the last one's answer.
func (n *referSub) send() {
	defer close(n.flushed)
	for body := range n.queue {
		state := "active;expires=60"
		if len(body) > 8 && body[8] != '1' { // "SIP/2.0 " then the status' first digit
			state = "terminated;reason=noresource"
		}
		headers := []gosip.Header{
			gosip.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(n.id), 10)),
			gosip.NewHeader("Subscription-State", state),
			gosip.NewHeader("Content-Type", "message/sipfrag;version=2.0"),
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := n.s.doInDialog(ctx, n.dlg, gosip.NOTIFY, body, headers)
		cancel()
		if err != nil {
			n.s.log.Debug("refer_notify_failed", "status", string(bytes.TrimSpace(body)), "error", err)
		}
	}
}

// acceptRefer answers a REFER: 400/403 and false when it cannot be
// taken, else 202 Accepted (RFC 3515 §2.4.2) and the subscription.
func (c *b2bCall) acceptRefer(r dialogRequest) (referTo, *referSub, bool) {
	reject := func(code int, reason string) (referTo, *referSub, bool) {
		r.tx.Respond(gosip.NewResponseFromRequest(r.req, code, reason, nil))
		return referTo{}, nil, false
	}
	var values []string
	for _, h := range r.req.GetHeaders("Refer-To") {
		values = append(values, h.Value())
	}
	for _, h := range r.req.GetHeaders("r") { // compact form (RFC 3515 §2.1)
		values = append(values, h.Value())
	}
	rt, err := parseReferTo(values)
	if err != nil {
		return reject(400, "Bad Request ("+strings.TrimPrefix(err.Error(), "sip: ")+")")
	}
	if !c.isExtensionLeg(r.from) {
		// A carrier does not move our calls: no toll fraud by REFER.
		c.log.Info("refer_refused", "from", r.from.String(), "target", rt.Target)
		return reject(403, "Forbidden (only extensions transfer)")
	}
	res := gosip.NewResponseFromRequest(r.req, 202, "Accepted", nil)
	wantSub := true
	if h := r.req.GetHeader("Refer-Sub"); h != nil && strings.EqualFold(strings.TrimSpace(h.Value()), "false") {
		wantSub = false
		res.AppendHeader(gosip.NewHeader("Refer-Sub", "false"))
	}
	ct := c.dialogOf(r.from).contact
	res.AppendHeader(&ct)
	r.tx.Respond(res)
	if !wantSub {
		return rt, nil, true
	}
	sub := newReferSub(c.s, c.dialogOf(r.from), r.req.CSeq().SeqNo)
	sub.notify(100, "Trying")
	return rt, sub, true
}

// isExtensionLeg reports whether side is a phone of one of our
// extensions (not a carrier's trunk).
func (c *b2bCall) isExtensionLeg(side legSide) bool {
	p := c.peerOf(side)
	switch l := p.(type) {
	case *uasLeg:
		return !l.fromTrunk
	case *uacLeg:
		return l.attempt == nil
	}
	return false
}
