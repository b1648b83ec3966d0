package siptest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DialOptions adjust one outgoing call.
type DialOptions struct {
	// LateOffer sends the INVITE without SDP (RFC 3261 §13.2.1, RFC 3264
	// §4): the offer then comes in the 2xx and the phone answers in the ACK.
	LateOffer bool
	// Codecs overrides Config.Codecs for this call.
	Codecs []Codec
	// Preauthorize sends credentials with the INVITE, computed from the last
	// challenge the phone got for an INVITE (as phones that reuse nonces
	// do), so no 407 round trip is needed; without one it has no effect.
	Preauthorize bool
}

// Outgoing is an INVITE the phone has sent and that has no final response yet.
type Outgoing struct {
	p        *Phone
	opts     DialOptions
	codecs   []Codec
	stream   *stream
	offer    localSDP
	from, to sip.Uri
	localTag string
	callID   string

	mu       sync.Mutex
	req      *sip.Request // the INVITE of the current attempt (a new one after a challenge)
	tx       sip.ClientTransaction
	codes    []int  // provisional responses received
	earlyTag string // the To tag of the early dialog (a provisional response's)

	early      chan struct{}
	earlyOnce  sync.Once
	trying     chan struct{}
	tryingOnce sync.Once
	cancelled  bool // Cancel was called: a challenge is not answered any more
	done       chan struct{}
	call       *Call
	err        error
}

// Dial calls number and returns once the call is answered (and ACKed), or
// with a *StatusError for a final failure response. When ctx ends first the
// phone sends CANCEL.
func (p *Phone) Dial(ctx context.Context, number string, opts DialOptions) (*Call, error) {
	o, err := p.Invite(ctx, number, opts)
	if err != nil {
		return nil, err
	}
	return o.Wait(ctx)
}

// Invite sends an INVITE to number (through Config.Server) and returns at
// once; Wait returns its outcome. A 401/407 challenge is answered once with
// the phone's credentials (RFC 3261 §22.2, §22.3). If ctx ends before the
// final response, the phone sends CANCEL (RFC 3261 §9.1) and hangs up a
// call answered nonetheless.
func (p *Phone) Invite(ctx context.Context, number string, opts DialOptions) (*Outgoing, error) {
	st, err := newStream(p.cfg.LocalIP, Tone{Freq: p.cfg.ToneHz})
	if err != nil {
		return nil, err
	}
	codecs := opts.Codecs
	if len(codecs) == 0 {
		codecs = p.cfg.Codecs
	}
	sid := randUint32() >> 1
	o := &Outgoing{
		p: p, opts: opts, codecs: codecs, stream: st,
		offer: localSDP{origin: Origin{Username: "siptest", SessionID: strconv.FormatUint(uint64(sid), 10), Version: uint64(sid)},
			addr: st.local, codecs: codecs, te: telephoneEventPT, direction: SendRecv},
		from: p.aor(), to: sip.Uri{Scheme: "sip", User: number, Host: p.cfg.Domain, UriParams: sip.NewParams(), Headers: sip.NewParams()},
		localTag: randHex(8), callID: randHex(16) + "@siptest",
		early: make(chan struct{}), trying: make(chan struct{}), done: make(chan struct{}),
	}
	req := sip.NewRequest(sip.INVITE, *o.to.Clone())
	from := &sip.FromHeader{DisplayName: p.cfg.DisplayName, Address: o.from, Params: sip.NewParams()}
	from.Params.Add("tag", o.localTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: o.to, Params: sip.NewParams()})
	cid := sip.CallIDHeader(o.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: randUint32()&0xffff + 1, MethodName: sip.INVITE})
	req.AppendHeader(p.contact())
	req.AppendHeader(sip.NewHeader("Allow", allow))
	if !opts.LateOffer {
		req.SetBody(o.offer.marshal())
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	p.prepare(req, p.cfg.Server.String())
	var tx sip.ClientTransaction
	if chal := p.lastChallenge(); opts.Preauthorize && chal != nil {
		tx, err = p.client.TransactionDigestAuth(ctx, req, chal, sipgo.DigestAuth{Username: p.cfg.User, Password: p.cfg.Password})
	} else {
		tx, err = p.client.TransactionRequest(ctx, req, asIs)
	}
	if err != nil {
		st.close()
		return nil, fmt.Errorf("siptest: INVITE: %w", err)
	}
	o.req, o.tx = req, tx
	if !p.goTracked(func() { o.run(ctx) }) {
		tx.Terminate()
		st.close()
		return nil, ErrClosed
	}
	return o, nil
}

// Trying is closed when 100 Trying arrives.
func (o *Outgoing) Trying() <-chan struct{} { return o.trying }

// Early is closed when the first provisional response above 100 arrives.
func (o *Outgoing) Early() <-chan struct{} { return o.early }

// Replaces is the early dialog of the INVITE for a Replaces header (RFC
// 3891 §6.1): call-id;to-tag=…;from-tag=…, once a provisional response
// with a To tag came ("" before).
func (o *Outgoing) Replaces() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.earlyTag == "" {
		return ""
	}
	return o.callID + ";to-tag=" + o.earlyTag + ";from-tag=" + o.localTag
}

// Provisional returns the codes of the provisional responses received so far.
func (o *Outgoing) Provisional() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.codes...)
}

// Done is closed when the INVITE has its outcome.
func (o *Outgoing) Done() <-chan struct{} { return o.done }

// Wait returns the call once answered, or the failure (*StatusError for a
// final response).
func (o *Outgoing) Wait(ctx context.Context) (*Call, error) {
	select {
	case <-o.done:
		return o.call, o.err
	case <-ctx.Done():
		return nil, fmt.Errorf("siptest: INVITE to %s: %w", o.to.User, ctx.Err())
	}
}

// Cancel sends CANCEL for the INVITE (RFC 3261 §9.1: same Request-URI,
// Call-ID, From, To, CSeq number and top Via) and waits for its response.
// The INVITE then ends with 487 (see Wait).
func (o *Outgoing) Cancel(ctx context.Context) error {
	o.mu.Lock()
	o.cancelled = true
	inv := o.req
	req := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(sip.HeaderClone(h))
	}
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.Laddr = inv.Laddr
	o.mu.Unlock()
	req.SetBody(nil)
	res, err := o.p.transact(ctx, req)
	if err != nil {
		return fmt.Errorf("siptest: CANCEL: %w", err)
	}
	if !res.IsSuccess() {
		return &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
	}
	return nil
}

// run reads the INVITE's responses until its final one.
func (o *Outgoing) run(ctx context.Context) {
	defer close(o.done)
	authed, cancelled := false, false
	ctxDone := ctx.Done()
	var giveUp <-chan time.Time
	fail := func(err error) {
		o.err = err
		o.stream.close()
	}
	for {
		o.mu.Lock()
		tx := o.tx
		o.mu.Unlock()
		select {
		case res := <-tx.Responses():
			code := int(res.StatusCode)
			switch {
			case code == 100:
				o.tryingOnce.Do(func() { close(o.trying) })
			case res.IsProvisional():
				o.mu.Lock()
				o.codes = append(o.codes, code)
				if to := res.To(); to != nil {
					if tag, ok := to.Params.Get("tag"); ok && tag != "" {
						o.earlyTag = tag
					}
				}
				o.mu.Unlock()
				o.earlyOnce.Do(func() { close(o.early) })
			case (code == 401 || code == 407) && !authed && !cancelled:
				authed = true
				o.p.setChallenge(res)
				o.mu.Lock()
				if o.cancelled {
					o.mu.Unlock()
					fail(&StatusError{Code: code, Reason: res.Reason + " (cancelled before authenticating)"})
					return
				}
				req := o.req.Clone() // the old transaction still owns its request
				ntx, err := o.p.client.TransactionDigestAuth(o.p.ctx, req, res,
					sipgo.DigestAuth{Username: o.p.cfg.User, Password: o.p.cfg.Password})
				if err == nil {
					o.req, o.tx = req, ntx
				}
				o.mu.Unlock()
				if err != nil {
					fail(fmt.Errorf("siptest: INVITE with credentials: %w", err))
					return
				}
			case res.IsSuccess():
				c, err := o.establish(tx, res)
				if err != nil {
					fail(err)
					return
				}
				if cancelled {
					// Answered while our CANCEL was on its way: end it (RFC 3261 §9.1).
					hctx, stop := context.WithTimeout(o.p.ctx, 5*time.Second)
					c.Hangup(hctx)
					stop()
					fail(fmt.Errorf("siptest: INVITE to %s: %w", o.to.User, ctx.Err()))
					return
				}
				o.call = c
				return
			default:
				fail(&StatusError{Code: code, Reason: res.Reason})
				return
			}
		case <-tx.Done():
			err := tx.Err()
			if err == nil {
				err = errors.New("transaction ended without a final response")
			}
			fail(fmt.Errorf("siptest: INVITE: %w", err))
			return
		case <-ctxDone:
			ctxDone, cancelled = nil, true
			giveUp = time.After(64 * sip.T1)
			o.p.goTracked(func() {
				cctx, stop := context.WithTimeout(o.p.ctx, 5*time.Second)
				defer stop()
				o.Cancel(cctx)
			})
		case <-giveUp:
			tx.Terminate()
			fail(fmt.Errorf("siptest: INVITE to %s: %w", o.to.User, ctx.Err()))
			return
		case <-o.p.ctx.Done():
			tx.Terminate()
			fail(ErrClosed)
			return
		}
	}
}

// establish confirms the dialog of a 2xx: it takes the answer (or, after a
// late offer, the offer and answers it in the ACK), sends the ACK (again
// for every retransmitted 2xx, RFC 3261 §13.2.2.4) and starts the media.
func (o *Outgoing) establish(tx sip.ClientTransaction, res *sip.Response) (*Call, error) {
	p := o.p
	toTag := ""
	if to := res.To(); to != nil {
		toTag, _ = to.Params.Get("tag")
	}
	c := newCall(p, dialogKey{callID: o.callID, localTag: o.localTag, remoteTag: toTag}, true, o.stream, o.codecs)
	c.local, c.remote = o.from, o.to
	o.mu.Lock()
	inv := o.req
	o.mu.Unlock()
	c.target = *inv.Recipient.Clone()
	if h := res.Contact(); h != nil {
		c.target = *h.Address.Clone()
	}
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- { // the UAC reverses the route set (RFC 3261 §12.1.2)
		if h, ok := rr[i].(*sip.RecordRouteHeader); ok {
			c.routes = append(c.routes, *h.Address.Clone())
		}
	}
	seq := inv.CSeq().SeqNo
	c.cseq = seq

	var ackBody []byte
	remote, sdpErr := ParseSDP(res.Body())
	var codec Codec
	if sdpErr == nil {
		var ok bool
		if o.opts.LateOffer {
			// The 2xx carries the offer: answer it in the ACK.
			if codec, ok = pickCodec(remote.Codecs(), o.codecs); ok {
				te := -1
				if pt, ok := remote.TelephoneEvent(); ok {
					te = int(pt)
				}
				c.sdp = localSDP{origin: o.offer.origin, addr: o.stream.local, codecs: []Codec{codec}, te: te,
					direction: answerDirection(remote.Direction)}
				ackBody = c.sdp.marshal()
			}
		} else {
			codec, ok = pickCodec(remote.Codecs(), o.codecs)
			c.sdp = o.offer
		}
		if !ok {
			sdpErr = fmt.Errorf("no codec of %v in %v", o.codecs, remote.Codecs())
		}
	}
	c.remoteSDP, c.codec = remote, codec
	ack := c.newRequest(sip.ACK, seq, ackBody)
	if sdpErr == nil {
		// Configure the media before the dialog is visible to re-INVITEs.
		o.stream.configure(remote.RTPAddr(), codec, sends(c.sdp.direction) && receives(remote.Direction))
		o.stream.start()
	}
	if !p.addCall(c) {
		return nil, ErrClosed
	}
	if err := p.client.WriteRequest(ack, asIs); err != nil {
		c.end(false)
		return nil, fmt.Errorf("siptest: ACK: %w", err)
	}
	var ackMu sync.Mutex
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			ackMu.Lock()
			p.client.WriteRequest(ack, asIs)
			ackMu.Unlock()
		}
	})
	if sdpErr != nil {
		hctx, stop := context.WithTimeout(p.ctx, 5*time.Second)
		c.Hangup(hctx)
		stop()
		return nil, fmt.Errorf("siptest: 2xx SDP: %w", sdpErr)
	}
	return c, nil
}
