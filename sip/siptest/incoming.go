package siptest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Incoming is a new INVITE to the phone, waiting for the test to ring,
// answer or reject it (or for the caller to CANCEL it).
type Incoming struct {
	p        *Phone
	req      *sip.Request
	tx       sip.ServerTransaction
	localTag string
	offer    *SDP
	offerErr error

	mu        sync.Mutex
	finalSent bool

	cancelled  chan struct{}
	cancelOnce sync.Once
	final      chan struct{} // closed once a final response is sent
	finalOnce  sync.Once
}

// AnswerOptions adjust how the phone answers a call.
type AnswerOptions struct {
	// Codecs overrides Config.Codecs: the answer picks the first offered
	// codec in this list.
	Codecs []Codec
}

// ErrCancelled is returned by Answer when the caller cancelled the INVITE.
var ErrCancelled = errors.New("siptest: INVITE cancelled")

func newIncoming(p *Phone, req *sip.Request, tx sip.ServerTransaction) *Incoming {
	in := &Incoming{p: p, req: req, tx: tx, localTag: randHex(8),
		cancelled: make(chan struct{}), final: make(chan struct{})}
	if body := req.Body(); len(body) > 0 {
		in.offer, in.offerErr = ParseSDP(body)
	}
	return in
}

// Request is the INVITE.
func (in *Incoming) Request() *sip.Request { return in.req }

// Offer is the INVITE's SDP offer; nil for an INVITE without one.
func (in *Incoming) Offer() *SDP { return in.offer }

// Caller is the user part of the From URI.
func (in *Incoming) Caller() string {
	if f := in.req.From(); f != nil {
		return f.Address.User
	}
	return ""
}

// Cancelled is closed when the caller cancels the INVITE (the transaction
// layer has then answered it 487).
func (in *Incoming) Cancelled() <-chan struct{} { return in.cancelled }

// response builds a response to the INVITE with our To tag and Contact.
func (in *Incoming) response(code int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(in.req, code, reason, body)
	if to := res.To(); to != nil {
		to.Params.Remove("tag")
		to.Params.Add("tag", in.localTag)
	}
	if code < 300 {
		res.AppendHeader(in.p.contact())
	}
	res.AppendHeader(sip.NewHeader("Allow", allow))
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	return res
}

// Ring sends 180 Ringing.
func (in *Incoming) Ring() error {
	in.mu.Lock()
	done := in.finalSent
	in.mu.Unlock()
	if done {
		return errors.New("siptest: final response already sent")
	}
	return in.tx.Respond(in.response(180, "Ringing", nil))
}

// takeFinal claims the right to send the final response.
func (in *Incoming) takeFinal() error {
	select {
	case <-in.cancelled:
		return ErrCancelled
	default:
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.finalSent {
		return errors.New("siptest: final response already sent")
	}
	in.finalSent = true
	return nil
}

func (in *Incoming) finish() { in.finalOnce.Do(func() { close(in.final) }) }

// cancelLate applies a CANCEL that overtook its INVITE in sipgo: 487 for
// the INVITE unless it has its final response (RFC 3261 §9.2).
func (in *Incoming) cancelLate() {
	if in.takeFinal() == nil {
		in.tx.Respond(in.response(487, "Request Terminated", nil))
		in.finish()
	}
	in.cancelOnce.Do(func() { close(in.cancelled) })
}

// Reject sends a final error response (486 Busy Here, 603 Decline…).
func (in *Incoming) Reject(code int, reason string) error {
	if err := in.takeFinal(); err != nil {
		return err
	}
	defer in.finish()
	return in.tx.Respond(in.response(code, reason, nil))
}

// Answer sends 200 OK with the phone's SDP answer (or, for an INVITE
// without SDP, its offer; the answer then comes in the ACK), retransmits
// it until the ACK arrives (RFC 3261 §13.3.1.4) and starts the media.
func (in *Incoming) Answer(ctx context.Context, opts AnswerOptions) (*Call, error) {
	if err := in.takeFinal(); err != nil {
		return nil, err
	}
	p := in.p
	if in.offerErr != nil {
		defer in.finish()
		in.tx.Respond(in.response(400, "Bad SDP", nil))
		return nil, fmt.Errorf("siptest: offer: %w", in.offerErr)
	}
	codecs := opts.Codecs
	if len(codecs) == 0 {
		codecs = p.cfg.Codecs
	}
	st, err := newStream(p.cfg.LocalIP, Tone{Freq: p.cfg.ToneHz})
	if err != nil {
		defer in.finish()
		in.tx.Respond(in.response(500, "No Media", nil))
		return nil, err
	}
	sid := randUint32() >> 1
	l := localSDP{origin: Origin{Username: "siptest", SessionID: strconv.FormatUint(uint64(sid), 10), Version: uint64(sid)},
		addr: st.local, codecs: codecs, te: telephoneEventPT, direction: SendRecv}
	var codec Codec
	if in.offer != nil {
		var ok bool
		if codec, ok = pickCodec(in.offer.Codecs(), codecs); !ok {
			st.close()
			defer in.finish()
			in.tx.Respond(in.response(488, "Not Acceptable Here", nil))
			return nil, &StatusError{Code: 488, Reason: fmt.Sprintf("no codec of %v offered", codecs)}
		}
		l.codecs = []Codec{codec}
		l.te = -1
		if pt, ok := in.offer.TelephoneEvent(); ok {
			l.te = int(pt)
		}
		l.direction = answerDirection(in.offer.Direction)
	}
	req := in.req
	fromTag, _ := req.From().Params.Get("tag")
	c := newCall(p, dialogKey{callID: req.CallID().Value(), localTag: in.localTag, remoteTag: fromTag}, false, st, codecs)
	c.local, c.remote = *req.To().Address.Clone(), *req.From().Address.Clone()
	if h := req.Contact(); h != nil {
		c.target = *h.Address.Clone()
	}
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			c.routes = append(c.routes, *rr.Address.Clone())
		}
	}
	seq := req.CSeq().SeqNo
	c.remoteCSeq, c.sdp, c.codec, c.remoteSDP = seq, l, codec, in.offer
	if in.offer != nil {
		// Configure the media before the dialog is visible to re-INVITEs.
		st.configure(in.offer.RTPAddr(), codec, sends(l.direction) && receives(in.offer.Direction))
	}
	if !p.addCall(c) {
		st.close()
		defer in.finish()
		in.tx.Respond(in.response(503, "Phone Closing", nil))
		return nil, ErrClosed
	}
	res := in.response(200, "OK", l.marshal())
	err = in.tx.Respond(res)
	in.finish()
	if err != nil {
		c.end(false)
		return nil, fmt.Errorf("siptest: 200 OK: %w", err)
	}
	ack, ok := p.awaitAck(ctx, res, c.acks, seq, c.done)
	if !ok {
		// RFC 3261 §13.3.1.4: no ACK, so end the dialog with BYE.
		hctx, stop := context.WithTimeout(p.ctx, 5*time.Second)
		c.Hangup(hctx)
		stop()
		return nil, errors.New("siptest: no ACK for 200 OK")
	}
	if in.offer == nil {
		ans, err := ParseSDP(ack.Body())
		if err == nil {
			var ok bool
			if codec, ok = pickCodec(ans.Codecs(), codecs); !ok {
				err = fmt.Errorf("no codec of %v in %v", codecs, ans.Codecs())
			}
		}
		if err != nil {
			hctx, stop := context.WithTimeout(p.ctx, 5*time.Second)
			c.Hangup(hctx)
			stop()
			return nil, fmt.Errorf("siptest: answer in ACK: %w", err)
		}
		c.mu.Lock()
		c.remoteSDP, c.codec = ans, codec
		c.mu.Unlock()
		st.configure(ans.RTPAddr(), codec, sends(l.direction) && receives(ans.Direction))
	}
	st.start()
	return c, nil
}
