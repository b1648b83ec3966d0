package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// uasLeg is the inbound side of a call: switchd answers the caller's INVITE
// as a UAS (RFC 3261 §13.3). It owns the INVITE server transaction until the
// final response and the dialog after it.
type uasLeg struct {
	srv       *Server
	invite    *gosip.Request
	tx        gosip.ServerTransaction
	dlg       *dialogState
	fromTrunk bool // a carrier's call: never a transferor, wherever it moves

	cancelled <-chan struct{} // closed when the caller CANCELs
	acked     chan struct{}   // closed on the ACK for our 2xx
	ackOne    sync.Once
	inbox     chan dialogRequest // the call's inbox when the leg was made
	rt        atomic.Pointer[legRoute]

	mu        sync.Mutex
	finalSent bool
	lastSDP   []byte
	ack       *gosip.Request // the ACK of our 2xx (it carries the answer to an offer in the 2xx)
}

// dialogRequest is one in-dialog request delivered to the call goroutine.
type dialogRequest struct {
	req  *gosip.Request
	tx   gosip.ServerTransaction
	from legSide
	leg  peer // the leg it came on
}

// legSide says which leg of a call something concerns.
type legSide uint8

const (
	sideUnknown legSide = iota
	sideCaller
	sideCallee
)

func (s legSide) String() string {
	switch s {
	case sideCaller:
		return "caller"
	case sideCallee:
		return "callee"
	default:
		return "switch"
	}
}

func newUASLeg(srv *Server, req *gosip.Request, tx gosip.ServerTransaction, laddr gosip.Addr, pending *pendingInvite) (*uasLeg, error) {
	from, to, contact := req.From(), req.To(), req.Contact()
	if from == nil || to == nil || req.CallID() == nil || req.CSeq() == nil {
		return nil, errors.New("missing From, To, Call-ID or CSeq")
	}
	if contact == nil {
		return nil, errors.New("INVITE without Contact")
	}
	remoteTag, _ := from.Params.Get("tag")
	l := &uasLeg{
		srv: srv, invite: req, tx: tx,
		cancelled: pending.ch, acked: make(chan struct{}),
		inbox: make(chan dialogRequest, 8),
		dlg: &dialogState{
			callID: req.CallID().Value(), localTag: newTag(), remoteTag: remoteTag,
			local: *to.Address.Clone(), remote: *from.Address.Clone(),
			remoteTarget: *contact.Address.Clone(),
			routeSet:     routeSetFrom(req, false),
			destination:  req.Source(), transport: req.Transport(), laddr: laddr,
		},
	}
	l.dlg.remoteCSeq = req.CSeq().SeqNo
	l.rt.Store(&legRoute{inbox: l.inbox, side: sideCaller})
	l.dlg.contact = srv.contactFor(laddr, req.Transport())
	cancelled := func(*gosip.Request) { pending.cancel() }
	if !tx.OnCancel(cancelled) {
		// The CANCEL came before we listened for it (sipgo has answered it
		// and the INVITE 487 already) or the transaction is gone: either
		// way the caller has left, and the call must not ring on.
		cancelled(nil)
	}
	return l, nil
}

// response builds a response to the INVITE carrying our To tag.
func (l *uasLeg) response(code int, reason string, body []byte) *gosip.Response {
	res := gosip.NewResponseFromRequest(l.invite, code, reason, body)
	if code > 100 {
		if to := res.To(); to != nil {
			to.Params.Remove("tag")
			to.Params.Add("tag", l.dlg.localTag)
		}
		c := l.dlg.contact
		res.AppendHeader(&c)
	}
	if body != nil {
		res.AppendHeader(gosip.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(gosip.NewHeader("Allow", allowedMethods))
	return res
}

// provisional sends a 1xx (180 Ringing, 183 Session Progress with early media).
func (l *uasLeg) provisional(code int, reason string, sdp []byte) error {
	l.mu.Lock()
	done := l.finalSent
	if sdp != nil {
		l.lastSDP = sdp
	}
	l.mu.Unlock()
	if done {
		return nil
	}
	return l.tx.Respond(l.response(code, reason, sdp))
}

// reject sends a final non-2xx response; the transaction layer absorbs its ACK.
func (l *uasLeg) reject(code int, reason string, extra ...gosip.Header) error {
	l.mu.Lock()
	if l.finalSent {
		l.mu.Unlock()
		return nil
	}
	l.finalSent = true
	l.mu.Unlock()
	res := l.response(code, reason, nil)
	for _, h := range extra {
		res.AppendHeader(h)
	}
	return l.tx.Respond(res)
}

// answer sends 200 OK with sdp and retransmits it until the ACK arrives
// (RFC 3261 §13.3.1.4: T1 doubling up to T2, give up after 64·T1).
func (l *uasLeg) answer(ctx context.Context, sdp []byte, headers ...gosip.Header) error {
	l.mu.Lock()
	if l.finalSent {
		l.mu.Unlock()
		return errors.New("final response already sent")
	}
	l.finalSent = true
	l.lastSDP = sdp
	l.mu.Unlock()
	l.srv.dialogs.add(l.dlg.key(), l)
	res := l.response(200, "OK", sdp)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	if err := l.tx.Respond(res); err != nil {
		return fmt.Errorf("send 200: %w", err)
	}
	return l.srv.retransmit2xx(ctx, res, l.acked)
}

var errNoAck = errors.New("no ACK for 200 OK")

// ackBody is the body of the ACK for our 2xx.
func (l *uasLeg) ackBody() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ack == nil {
		return nil
	}
	return l.ack.Body()
}

// onAck implements dialogPeer.
func (l *uasLeg) onAck(req *gosip.Request) {
	if cseq := req.CSeq(); cseq != nil && cseq.SeqNo == l.invite.CSeq().SeqNo {
		l.ackOne.Do(func() {
			l.mu.Lock()
			l.ack = req
			l.mu.Unlock()
			close(l.acked)
		})
		return
	}
	if cseq := req.CSeq(); cseq != nil {
		l.dlg.acked(cseq.SeqNo)
	}
	l.deliverAck(req)
}

func (l *uasLeg) deliverAck(req *gosip.Request) {
	rt := l.rt.Load()
	select {
	case rt.inbox <- dialogRequest{req: req, from: rt.side, leg: l}:
	default:
	}
}

// onRequest implements dialogPeer: in-dialog requests from the caller.
func (l *uasLeg) onRequest(req *gosip.Request, tx gosip.ServerTransaction) {
	deliver(l.dlg, l.rt.Load(), l, req, tx)
}

// deliver checks CSeq order and hands an in-dialog request to the call
// goroutine, or answers it at once when the call cannot take it.
func deliver(d *dialogState, rt *legRoute, leg peer, req *gosip.Request, tx gosip.ServerTransaction) {
	if req.Method == gosip.INVITE && d.pendingOut.Load() {
		res := gosip.NewResponseFromRequest(req, 491, "Request Pending", nil)
		tx.Respond(res)
		return
	}
	if !d.checkRemoteCSeq(req.CSeq().SeqNo) {
		tx.Respond(gosip.NewResponseFromRequest(req, 500, "CSeq out of order", nil))
		return
	}
	done := make(chan struct{})
	select {
	case rt.inbox <- dialogRequest{req: req, tx: &notifyTx{ServerTransaction: tx, done: done}, from: rt.side, leg: leg}:
		// Keep the transaction until the call goroutine has answered it:
		// sipgo terminates the transaction when this handler returns.
		select {
		case <-done:
		case <-time.After(32 * time.Second):
		}
	default:
		res := gosip.NewResponseFromRequest(req, 500, "Server Busy", nil)
		res.AppendHeader(gosip.NewHeader("Retry-After", "1"))
		tx.Respond(res)
	}
}

// notifyTx signals when a final response has been sent on a transaction.
type notifyTx struct {
	gosip.ServerTransaction
	done chan struct{}
	once sync.Once
}

func (t *notifyTx) Respond(res *gosip.Response) error {
	err := t.ServerTransaction.Respond(res)
	if res.StatusCode >= 200 {
		t.once.Do(func() { close(t.done) })
	}
	return err
}

// bye ends the dialog from our side.
func (l *uasLeg) bye() error {
	defer l.srv.dialogs.remove(l.dlg.key())
	ctx, cancel := l.srv.byeContext()
	defer cancel()
	return l.srv.requestInDialog(ctx, l.dlg, gosip.BYE, nil)
}

func (l *uasLeg) close() { l.srv.dialogs.remove(l.dlg.key()) }
