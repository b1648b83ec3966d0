package sip

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	gosip "github.com/emiago/sipgo/sip"
)

// uacLeg is one outbound INVITE branch: switchd calls a registered contact
// as a UAC (RFC 3261 §13.2). Several branches fork to the contacts of one
// extension; the first 2xx wins.
type uacLeg struct {
	srv     *Server
	binding Binding
	invite  *gosip.Request
	tx      gosip.ClientTransaction
	dlg     *dialogState
	rt      atomic.Pointer[legRoute]

	mu     sync.Mutex
	ack    *gosip.Request  // our ACK for the 2xx, re-sent on 2xx retransmissions
	answer *gosip.Response // the 2xx that established the dialog

	// Trunk attempts only (owned by the call goroutine).
	attempt     *OutboundAttempt
	authed      bool // the INVITE was re-sent with credentials once
	provisional bool // a provisional response arrived (invite_timeout stops)
	channel     bool // holds a channel of attempt.Trunk
}

// outboundCall describes the INVITE the B2BUA sends to a callee.
type outboundCall struct {
	fromUser, fromName string // caller ID presented (RFC 3261 From, RFC 3325 P-Asserted-Identity)
	toUser             string
	domain             string // host of From (and of To unless toDomain)
	toDomain           string
	privacy            bool // anonymous From, Privacy: id (RFC 3325 §9.3)
	sdp                []byte
}

func (s *Server) newUACLeg(b Binding, oc outboundCall, inbox chan dialogRequest) (*uacLeg, error) {
	target, err := parseURI(b.Contact)
	if err != nil {
		return nil, fmt.Errorf("contact %q: %w", b.Contact, err)
	}
	transport := "UDP"
	if b.Transport == "tcp" {
		transport = "TCP"
	}
	laddr := s.laddrFor(transport, b.Local, b.Source)
	host, _ := s.hostFor(laddr, transport, b.Source)
	toDomain := oc.toDomain
	if toDomain == "" {
		toDomain = oc.domain
	}
	local, localName := gosip.Uri{Scheme: "sip", User: oc.fromUser, Host: oc.domain}, oc.fromName
	if oc.privacy {
		local, localName = gosip.Uri{Scheme: "sip", User: "anonymous", Host: "anonymous.invalid"}, "Anonymous"
	}
	d := &dialogState{
		callID:       newCallID(host),
		localTag:     newTag(),
		local:        local,
		localName:    localName,
		remote:       gosip.Uri{Scheme: "sip", User: oc.toUser, Host: toDomain},
		remoteTarget: target,
		destination:  b.Source.String(),
		transport:    transport,
		laddr:        laddr,
	}
	d.contact = s.contactTo(laddr, transport, b.Source)
	req := d.newRequest(gosip.INVITE)
	req.AppendHeader(gosip.NewHeader("P-Asserted-Identity", paiValue(oc.fromName, oc.fromUser, oc.domain)))
	if oc.privacy {
		req.AppendHeader(gosip.NewHeader("Privacy", "id"))
	}
	req.AppendHeader(gosip.NewHeader("Allow", allowedMethods))
	req.AppendHeader(gosip.NewHeader("Supported", "timer"))
	for _, h := range s.calleeTimerHeaders() {
		req.AppendHeader(h)
	}
	if oc.sdp != nil {
		req.SetBody(oc.sdp)
		req.AppendHeader(gosip.NewHeader("Content-Type", "application/sdp"))
	}
	l := &uacLeg{srv: s, binding: b, invite: req, dlg: d}
	l.rt.Store(&legRoute{inbox: inbox, side: sideCallee})
	return l, nil
}

// start sends the INVITE.
func (l *uacLeg) start(ctx context.Context) error {
	tx, err := l.srv.send(ctx, l.invite)
	if err != nil {
		return err
	}
	l.tx = tx
	tx.OnRetransmission(func(res *gosip.Response) {
		if res.IsSuccess() {
			l.mu.Lock()
			ack := l.ack
			l.mu.Unlock()
			if ack != nil {
				// A copy: sipgo's transport writes into the request it
				// sends, and 2xx retransmissions arrive concurrently.
				l.srv.client.WriteRequest(ack.Clone(), noBuild)
			}
		}
	})
	return nil
}

// confirm records the dialog from a 2xx and sends the ACK (RFC 3261 §13.2.2.4).
func (l *uacLeg) confirm(res *gosip.Response) error {
	to := res.To()
	if to == nil {
		return fmt.Errorf("2xx without To")
	}
	l.dlg.remoteTag, _ = to.Params.Get("tag")
	l.dlg.refreshTarget(res.Contact())
	l.dlg.mu.Lock()
	l.dlg.routeSet = routeSetFrom(res, true)
	l.dlg.mu.Unlock()
	ack := l.dlg.newRequest(gosip.ACK)
	ack.CSeq().SeqNo = l.invite.CSeq().SeqNo
	ack.PrependHeader(l.srv.viaFor(ack, l.binding.Source, false))
	ack.SetBody(nil)
	l.mu.Lock()
	l.ack, l.answer = ack, res
	l.mu.Unlock()
	l.srv.dialogs.add(l.dlg.key(), l)
	return l.srv.client.WriteRequest(ack.Clone(), noBuild)
}

// cancel sends CANCEL for a pending INVITE (RFC 3261 §9.1): same Request-URI,
// Call-ID, From, To, CSeq number and top Via as the INVITE.
func (l *uacLeg) cancel(ctx context.Context) {
	inv := l.invite
	req := gosip.NewRequest(gosip.CANCEL, *inv.Recipient.Clone())
	req.AppendHeader(gosip.HeaderClone(inv.Via()))
	req.AppendHeader(gosip.HeaderClone(inv.From()))
	req.AppendHeader(gosip.HeaderClone(inv.To()))
	req.AppendHeader(gosip.HeaderClone(inv.CallID()))
	req.AppendHeader(&gosip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: gosip.CANCEL})
	mf := gosip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(gosip.HeaderClone(h))
	}
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.Laddr = inv.Laddr
	req.SetBody(nil)
	tx, err := l.srv.send(ctx, req)
	if err != nil {
		l.srv.log.Debug("cancel_failed", "error", err)
		return
	}
	go func() {
		defer tx.Terminate()
		select {
		case <-tx.Responses():
		case <-tx.Done():
		case <-ctx.Done():
		}
	}()
}

// bye ends an established branch.
func (l *uacLeg) bye() error {
	defer l.srv.dialogs.remove(l.dlg.key())
	ctx, cancel := l.srv.byeContext()
	defer cancel()
	return l.srv.requestInDialog(ctx, l.dlg, gosip.BYE, nil)
}

// onAck implements dialogPeer (ACKs for our re-INVITE 2xx answers from the callee).
func (l *uacLeg) onAck(req *gosip.Request) {
	if cseq := req.CSeq(); cseq != nil {
		l.dlg.acked(cseq.SeqNo)
	}
	rt := l.rt.Load()
	select {
	case rt.inbox <- dialogRequest{req: req, from: rt.side, leg: l}:
	default:
	}
}

// onRequest implements dialogPeer: in-dialog requests from the callee.
func (l *uacLeg) onRequest(req *gosip.Request, tx gosip.ServerTransaction) {
	deliver(l.dlg, l.rt.Load(), l, req, tx)
}

func (l *uacLeg) close() { l.srv.dialogs.remove(l.dlg.key()) }

func parseURI(s string) (gosip.Uri, error) {
	var u gosip.Uri
	err := gosip.ParseUri(s, &u)
	return u, err
}

// paiValue is a P-Asserted-Identity value (RFC 3325 §9.1).
func paiValue(name, user, host string) string {
	if name == "" {
		return fmt.Sprintf("<sip:%s@%s>", user, host)
	}
	// quoted-string of RFC 3261 §25.1: only " and \ are escaped, UTF-8 kept.
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
	return fmt.Sprintf(`"%s" <sip:%s@%s>`, esc, user, host)
}
