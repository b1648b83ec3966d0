package siptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ErrCallEnded is returned by requests on a call that has ended.
var ErrCallEnded = errors.New("siptest: call ended")

// Call is an established call (a confirmed dialog, RFC 3261 §12) with its
// media. The phone sends its tone while its direction allows it and keeps
// the audio it receives for Listen.
type Call struct {
	p         *Phone
	key       dialogKey
	outbound  bool
	local     sip.Uri // our URI (From of our requests)
	localName string
	remote    sip.Uri // the peer's URI (To of our requests)
	allowed   []Codec // codecs we accept
	stream    *stream

	mu         sync.Mutex
	target     sip.Uri // the peer's Contact
	routes     []sip.Uri
	cseq       uint32
	remoteCSeq uint32
	sdp        localSDP // the last description we sent
	remoteSDP  *SDP     // the last description we received
	codec      Codec    // what we send

	acks     chan *sip.Request // ACKs of our 2xx responses
	offers   chan *SDP         // offers of the re-INVITEs we received
	notifies chan string       // status lines of the NOTIFYs (sipfrag) we received
	// beforeNotifyAnswer runs before a NOTIFY is answered (BeforeNotifyAnswer).
	beforeNotifyAnswer atomic.Pointer[func(line string)]
	pending            atomic.Bool // our re-INVITE is outstanding (RFC 3261 §14.1)
	done               chan struct{}
	endOnce            sync.Once
	byPeer             atomic.Bool
}

func newCall(p *Phone, key dialogKey, outbound bool, st *stream, allowed []Codec) *Call {
	return &Call{
		p: p, key: key, outbound: outbound, stream: st, allowed: allowed, localName: p.cfg.DisplayName,
		cseq: randUint32() & 0xffff, acks: make(chan *sip.Request, 8), offers: make(chan *SDP, 16), notifies: make(chan string, 16),
		done: make(chan struct{}),
	}
}

// CallID is the dialog's Call-ID.
func (c *Call) CallID() string { return c.key.callID }

// Codec is the codec the phone sends on the call.
func (c *Call) Codec() Codec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codec
}

// LocalSDP is the last session description the phone sent on the call.
func (c *Call) LocalSDP() *SDP {
	c.mu.Lock()
	body := c.sdp.marshal()
	c.mu.Unlock()
	s, _ := ParseSDP(body)
	return s
}

// RemoteSDP is the last session description the phone received on the call.
func (c *Call) RemoteSDP() *SDP {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remoteSDP
}

// ReInvites delivers the SDP offer of every re-INVITE the peer sends (after
// the phone has answered it).
func (c *Call) ReInvites() <-chan *SDP { return c.offers }

// Done is closed when the call ends (BYE either way, or Close).
func (c *Call) Done() <-chan struct{} { return c.done }

// EndedByPeer reports whether the call ended with a BYE from the peer.
func (c *Call) EndedByPeer() bool { return c.byPeer.Load() }

// Stats returns the call's RTP counters.
func (c *Call) Stats() MediaStats { return c.stream.stats() }

// SetSilent makes the phone stop sending RTP without telling anyone, as a
// phone that died or lost its network would (false resumes).
func (c *Call) SetSilent(silent bool) { c.stream.setSilent(silent) }

// Listen returns the next d (at most 5 s) of audio the phone receives from
// now on, decoded to 8 kHz linear samples; packets are joined in arrival
// order, gaps left out.
func (c *Call) Listen(ctx context.Context, d time.Duration) ([]int16, error) {
	return c.stream.listen(ctx, d)
}

// ToneLevels listens for d and returns the ToneLevel of each frequency.
func (c *Call) ToneLevels(ctx context.Context, d time.Duration, freqs ...float64) ([]float64, error) {
	pcm, err := c.Listen(ctx, d)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(freqs))
	for i, f := range freqs {
		out[i] = ToneLevel(pcm, f)
	}
	return out, nil
}

// Hold puts the call on hold: a re-INVITE with a=sendonly (RFC 3264 §8.4,
// RFC 6337 §5.3). The phone keeps sending its tone (as music on hold
// would). It returns the answer.
func (c *Call) Hold(ctx context.Context) (*SDP, error) { return c.Reinvite(ctx, SendOnly) }

// Resume takes the call off hold: a re-INVITE with a=sendrecv.
func (c *Call) Resume(ctx context.Context) (*SDP, error) { return c.Reinvite(ctx, SendRecv) }

// Reinvite sends a re-INVITE offering the current stream with direction
// (its o= version incremented, RFC 3264 §8), ACKs a 2xx and applies the
// answer. A non-2xx answer leaves the session as it was (RFC 3261 §14.1).
func (c *Call) Reinvite(ctx context.Context, direction string) (*SDP, error) {
	select {
	case <-c.done:
		return nil, ErrCallEnded
	default:
	}
	c.mu.Lock()
	l := c.sdp
	l.codecs = append([]Codec(nil), l.codecs...)
	l.direction = direction
	l.origin.Version++
	c.mu.Unlock()
	c.pending.Store(true)
	defer c.pending.Store(false)
	req := c.newRequest(sip.INVITE, 0, l.marshal())
	seq := req.CSeq().SeqNo
	tx, err := c.p.client.TransactionRequest(ctx, req, asIs)
	if err != nil {
		return nil, fmt.Errorf("siptest: re-INVITE: %w", err)
	}
	defer tx.Terminate()
	res, err := finalResponse(ctx, c.p.ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("siptest: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return nil, &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
	}
	c.refreshTarget(res.Contact())
	ack := c.newRequest(sip.ACK, seq, nil)
	if err := c.p.client.WriteRequest(ack, asIs); err != nil {
		return nil, fmt.Errorf("siptest: ACK: %w", err)
	}
	ans, err := ParseSDP(res.Body())
	if err != nil {
		return nil, fmt.Errorf("siptest: re-INVITE answer: %w", err)
	}
	codec, ok := pickCodec(ans.Codecs(), c.allowed)
	if !ok {
		return ans, fmt.Errorf("siptest: re-INVITE answer has no codec of %v", c.allowed)
	}
	c.mu.Lock()
	c.sdp, c.remoteSDP, c.codec = l, ans, codec
	c.mu.Unlock()
	c.stream.configure(ans.RTPAddr(), codec, sends(direction) && receives(ans.Direction))
	return ans, nil
}

// receives reports whether a side that wrote dir receives media.
func receives(dir string) bool { return dir == SendRecv || dir == RecvOnly || dir == "" }

// SendEvents sends digits as RFC 4733 telephone-events (payload type
// 101), each held for d, then a pause of d; audio stops meanwhile. It
// returns at once.
func (c *Call) SendEvents(digits string, d time.Duration) error {
	n := max(int(d/packetInterval), 3)
	var spans []eventSpan
	for i := 0; i < len(digits); i++ {
		code := strings.IndexByte("0123456789*#ABCD", digits[i])
		if code < 0 {
			return fmt.Errorf("siptest: %q is not a DTMF key", digits[i])
		}
		spans = append(spans, eventSpan{code: uint8(code), packets: n}, eventSpan{gap: true, packets: n})
	}
	c.stream.playEvents(spans...)
	return nil
}

// SendDTMF sends digits as in-band tones (ITU-T Q.23 pairs) in the audio,
// each for d followed by a pause of d, instead of the phone's tone. It
// returns at once; the tones go out with the next packets.
func (c *Call) SendDTMF(digits string, d time.Duration) error {
	n := max(int(d/packetInterval), 1)
	var spans []toneSpan
	for i := 0; i < len(digits); i++ {
		t, ok := DTMFTone(digits[i], 0)
		if !ok {
			return fmt.Errorf("siptest: %q is not a DTMF key", digits[i])
		}
		spans = append(spans, toneSpan{tone: t, packets: n}, toneSpan{tone: Tone{}, packets: n})
	}
	c.stream.play(spans...)
	return nil
}

// SendInfo sends an in-dialog INFO (RFC 6086) with body of contentType,
// e.g. "application/dtmf-relay" and "Signal=5\r\nDuration=160\r\n", and
// returns the final status.
func (c *Call) SendInfo(ctx context.Context, contentType string, body []byte) (int, error) {
	req := c.newRequest(sip.INFO, 0, nil)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	res, err := c.p.transact(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("siptest: INFO: %w", err)
	}
	return int(res.StatusCode), nil
}

// Replaces is the call's dialog for a Replaces header (RFC 3891 §6.1).
func (c *Call) Replaces() string {
	return c.key.callID + ";to-tag=" + c.key.remoteTag + ";from-tag=" + c.key.localTag
}

// Refer asks the far end to transfer the call to target (a number; RFC
// 3515), attended when replaces is set (Call.Replaces, Outgoing.Replaces
// of the consultation): the Refer-To carries it (RFC 3891 §3). It returns
// the REFER's final status; the transfer's progress arrives on Notifies.
func (c *Call) Refer(ctx context.Context, target, replaces string) (int, error) {
	req := c.newRequest(sip.REFER, 0, nil)
	c.mu.Lock()
	host := c.target.Host
	c.mu.Unlock()
	referTo := "<sip:" + target + "@" + host
	if replaces != "" {
		referTo += "?Replaces=" + url.QueryEscape(replaces)
	}
	req.AppendHeader(sip.NewHeader("Refer-To", referTo+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+c.local.String()+">"))
	req.AppendHeader(c.p.contact())
	res, err := c.p.transact(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("siptest: REFER: %w", err)
	}
	return int(res.StatusCode), nil
}

// BeforeNotifyAnswer makes the phone run f with each NOTIFY's status line
// before it answers the NOTIFY: e.g. hang up on the final one before the
// switch can know it was received (as a phone racing its own BYE does).
func (c *Call) BeforeNotifyAnswer(f func(line string)) { c.beforeNotifyAnswer.Store(&f) }

// Notifies delivers the status line of each NOTIFY received on the call
// ("SIP/2.0 100 Trying"): a transfer's progress.
func (c *Call) Notifies() <-chan string { return c.notifies }

// Hangup sends BYE and ends the call (RFC 3261 §15.1.1). On a call already
// ended it returns ErrCallEnded.
func (c *Call) Hangup(ctx context.Context) error {
	select {
	case <-c.done:
		return ErrCallEnded
	default:
	}
	req := c.newRequest(sip.BYE, 0, nil)
	res, err := c.p.transact(ctx, req)
	c.end(false)
	if err != nil {
		return fmt.Errorf("siptest: BYE: %w", err)
	}
	if !res.IsSuccess() {
		return &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
	}
	return nil
}

// end stops the call's media and forgets its dialog; idempotent.
func (c *Call) end(byPeer bool) {
	c.endOnce.Do(func() {
		c.byPeer.Store(byPeer)
		c.p.removeCall(c)
		c.stream.close()
		close(c.done)
	})
}

// newRequest builds an in-dialog request (RFC 3261 §12.2.1.1); seq 0 takes
// the next local CSeq (ACK passes its INVITE's).
func (c *Call) newRequest(method sip.RequestMethod, seq uint32, body []byte) *sip.Request {
	c.mu.Lock()
	target := c.target
	routes := append([]sip.Uri(nil), c.routes...)
	if seq == 0 {
		c.cseq++
		seq = c.cseq
	}
	c.mu.Unlock()
	req := sip.NewRequest(method, *target.Clone())
	from := &sip.FromHeader{DisplayName: c.localName, Address: c.local, Params: sip.NewParams()}
	from.Params.Add("tag", c.key.localTag)
	to := &sip.ToHeader{Address: c.remote, Params: sip.NewParams()}
	to.Params.Add("tag", c.key.remoteTag)
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(c.key.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	for _, r := range routes {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	if method == sip.INVITE {
		req.AppendHeader(c.p.contact())
		req.AppendHeader(sip.NewHeader("Allow", allow))
	}
	if body != nil {
		req.SetBody(body)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	next := target
	if len(routes) > 0 {
		next = routes[0]
	}
	c.p.prepare(req, hostPort(next))
	return req
}

// hostPort is where a request to u goes (port 5060 by default, RFC 3263
// without DNS).
func hostPort(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

// refreshTarget takes the peer's new Contact (RFC 3261 §12.2).
func (c *Call) refreshTarget(h *sip.ContactHeader) {
	if h == nil {
		return
	}
	c.mu.Lock()
	c.target = *h.Address.Clone()
	c.mu.Unlock()
}

// onAck takes an ACK of one of our 2xx responses.
func (c *Call) onAck(req *sip.Request) {
	select {
	case c.acks <- req:
	default:
	}
}

// onReinvite answers a re-INVITE from the peer (RFC 3261 §14.2): the
// answer keeps our address, picks a codec of the offer, and answers its
// direction (sendonly with recvonly, RFC 3264 §6.1); the o= version grows
// when the description changes (RFC 3264 §8).
func (c *Call) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	if c.pending.Load() {
		tx.Respond(sip.NewResponseFromRequest(req, 491, "Request Pending", nil))
		return
	}
	seq := req.CSeq().SeqNo
	c.mu.Lock()
	if seq <= c.remoteCSeq {
		c.mu.Unlock()
		tx.Respond(sip.NewResponseFromRequest(req, 500, "CSeq Out of Order", nil))
		return
	}
	c.remoteCSeq = seq
	c.mu.Unlock()
	var offer *SDP
	if body := req.Body(); len(body) > 0 {
		var err error
		if offer, err = ParseSDP(body); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
	}
	c.refreshTarget(req.Contact())
	c.mu.Lock()
	l := c.sdp
	l.codecs = append([]Codec(nil), l.codecs...)
	before := string(l.marshal())
	codec := c.codec
	if offer != nil {
		ck, ok := pickCodec(offer.Codecs(), c.allowed)
		if !ok {
			c.mu.Unlock()
			tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		codec = ck
		l.codecs = []Codec{ck}
		l.te = -1
		if te, ok := offer.TelephoneEvent(); ok {
			l.te = int(te)
		}
		l.direction = answerDirection(offer.Direction)
	}
	if string(l.marshal()) != before {
		l.origin.Version++
	}
	if offer != nil {
		c.sdp, c.remoteSDP, c.codec = l, offer, codec
	}
	c.mu.Unlock()
	if offer != nil {
		c.stream.configure(offer.RTPAddr(), codec, sends(l.direction))
	}
	body := l.marshal()
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(c.p.contact())
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Allow", allow))
	if offer != nil {
		// Delivered before the answer, so that the next re-INVITE (sent
		// once this one is answered) cannot overtake it on Offers.
		select {
		case c.offers <- offer:
		default:
		}
	}
	if err := tx.Respond(res); err != nil {
		return
	}
	ack, ok := c.p.awaitAck(c.p.ctx, res, c.acks, seq, c.done)
	if offer == nil && ok && len(ack.Body()) > 0 {
		// Our offer went in the 2xx; the answer is in the ACK.
		if ans, err := ParseSDP(ack.Body()); err == nil {
			if ck, ok := pickCodec(ans.Codecs(), c.allowed); ok {
				c.mu.Lock()
				c.remoteSDP, c.codec = ans, ck
				c.mu.Unlock()
				c.stream.configure(ans.RTPAddr(), ck, sends(l.direction) && receives(ans.Direction))
			}
		}
	}
}
