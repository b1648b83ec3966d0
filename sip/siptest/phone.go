// Package siptest is a scriptable SIP test phone for integration tests of
// switchd (after livekit/sip's pkg/siptest). A Phone is one UDP SIP user
// agent built on sipgo: it registers with digest authentication, places
// calls (answering 407 challenges, with or without an SDP offer, with
// CANCEL), answers calls, puts them on hold and back with re-INVITEs and
// hangs up. Every call sends a continuous tone as 20 ms G.711 RTP packets
// and decodes what it receives, so a test can check with a Goertzel
// detector (ToneLevel) that audio really crossed, in both directions.
//
// Everything is bounded: every blocking method takes a context, the phone
// answers the retransmissions the RFCs require for a bounded time only, and
// Close (idempotent) ends every goroutine the phone started and releases
// its sockets.
package siptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config describes a phone.
type Config struct {
	// User is the extension the phone registers and calls as; Password its
	// digest password.
	User, Password string
	// DisplayName goes into From. Default: none.
	DisplayName string
	// Server is where every request goes (switchd's UDP address).
	Server netip.AddrPort
	// Domain is the host part of the phone's and callees' URIs. Default:
	// Server's IP.
	Domain string
	// LocalIP is the address the SIP and RTP sockets bind. Default 127.0.0.1.
	LocalIP netip.Addr
	// Codecs the phone offers and accepts, in order of preference. Default
	// PCMU, PCMA. DialOptions and AnswerOptions override it per call.
	Codecs []Codec
	// ToneHz is the frequency of the tone the phone sends in every call; 0
	// sends silence.
	ToneHz float64
	// Logger receives sipgo's logs. Default: discarded.
	Logger *slog.Logger
}

// StatusError is a final SIP response other than 2xx.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("siptest: %d %s", e.Code, e.Reason) }

// StatusCode returns the code of a *StatusError in err, or 0.
func StatusCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// ErrClosed is returned once the phone is closed.
var ErrClosed = errors.New("siptest: phone closed")

// Phone is one SIP user agent on its own UDP socket.
type Phone struct {
	cfg    Config
	ua     *sipgo.UserAgent
	client *sipgo.Client
	srv    *sipgo.Server
	conn   *net.UDPConn
	laddr  netip.AddrPort

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	incoming chan *Incoming

	mu        sync.Mutex
	closed    bool
	calls     map[dialogKey]*Call
	regCallID string
	regCSeq   uint32
	challenge *sip.Response        // the last 401/407 to an INVITE (DialOptions.Preauthorize)
	pending   map[string]*Incoming // INVITEs without a final response, by Call-ID and branch

	wg        sync.WaitGroup // the UDP reader and the phone's own goroutines
	closeOnce sync.Once
}

// dialogKey identifies a dialog from the phone's side (RFC 3261 §12).
type dialogKey struct{ callID, localTag, remoteTag string }

// New binds the phone's SIP socket and starts serving it.
func New(cfg Config) (*Phone, error) {
	if !cfg.Server.IsValid() {
		return nil, errors.New("siptest: Config.Server is required")
	}
	if !cfg.LocalIP.IsValid() {
		cfg.LocalIP = netip.MustParseAddr("127.0.0.1")
	}
	if cfg.Domain == "" {
		cfg.Domain = cfg.Server.Addr().String()
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []Codec{PCMU, PCMA}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(cfg.LocalIP, 0)))
	if err != nil {
		return nil, fmt.Errorf("siptest: SIP socket: %w", err)
	}
	laddr := netip.AddrPortFrom(cfg.LocalIP, uint16(conn.LocalAddr().(*net.UDPAddr).Port))
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("siptest/"+cfg.User),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)),
	)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("siptest: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, fmt.Errorf("siptest: server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, fmt.Errorf("siptest: client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Phone{
		cfg: cfg, ua: ua, client: client, srv: srv, conn: conn, laddr: laddr,
		ctx: ctx, cancel: cancel, incoming: make(chan *Incoming, 64),
		calls: map[dialogKey]*Call{}, pending: map[string]*Incoming{}, regCallID: randHex(16) + "@siptest",
	}
	srv.OnInvite(p.onInvite)
	srv.OnAck(p.onAck)
	srv.OnBye(p.onBye)
	srv.OnOptions(p.onOK)
	srv.OnInfo(p.onOK)
	srv.OnUpdate(p.onOK)
	srv.OnNotify(p.onNotify)
	srv.OnCancel(p.onStrayCancel)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ua.TransportLayer().ServeUDP(conn)
	}()
	// Requests are sent from the listening socket only once ServeUDP has
	// put it in the transport's pool; before that sipgo would try to bind
	// the same address again.
	pool := ua.TransportLayer().Pool("udp")
	for deadline := time.Now().Add(2 * time.Second); pool.Size() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			p.Close()
			return nil, errors.New("siptest: SIP socket not served within 2s")
		}
	}
	return p, nil
}

// Addr is the phone's SIP address.
func (p *Phone) Addr() netip.AddrPort { return p.laddr }

// User is the phone's extension.
func (p *Phone) User() string { return p.cfg.User }

// Close sends nothing (no BYE, no CANCEL): it drops every call's media and
// dialog, stops the phone's goroutines and closes its sockets, as a phone
// pulled from the wall would. It is idempotent.
func (p *Phone) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		calls := make([]*Call, 0, len(p.calls))
		for _, c := range p.calls {
			calls = append(calls, c)
		}
		p.mu.Unlock()
		p.cancel()
		for _, c := range calls {
			c.end(false)
		}
		p.ua.Close()
		p.conn.Close()
		p.wg.Wait()
	})
	return nil
}

// goTracked runs f in a goroutine Close waits for; false once closed.
func (p *Phone) goTracked(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}

// aor is the phone's address of record.
func (p *Phone) aor() sip.Uri {
	return sip.Uri{Scheme: "sip", User: p.cfg.User, Host: p.cfg.Domain, UriParams: sip.NewParams(), Headers: sip.NewParams()}
}

// contact is the phone's Contact header.
func (p *Phone) contact() *sip.ContactHeader {
	return &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.cfg.User, Host: p.laddr.Addr().String(),
		Port: int(p.laddr.Port()), UriParams: sip.NewParams(), Headers: sip.NewParams()}, Params: sip.NewParams()}
}

// prepare completes a request the phone built: our Via (new branch, RFC
// 3581 rport), Max-Forwards, User-Agent, Content-Length, our socket.
func (p *Phone) prepare(req *sip.Request, dest string) {
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
		Host: p.laddr.Addr().String(), Port: int(p.laddr.Port()), Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranchN(16))
	via.Params.Add("rport", "")
	req.PrependHeader(via)
	if req.MaxForwards() == nil {
		mf := sip.MaxForwardsHeader(70)
		req.AppendHeader(&mf)
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.ua.Name()))
	req.SetBody(req.Body())
	req.SetTransport("UDP")
	req.SetDestination(dest)
	req.Laddr = sip.Addr{IP: net.IP(p.laddr.Addr().AsSlice()), Port: int(p.laddr.Port())}
}

// asIs is a client request option that sends a prepared request unchanged.
func asIs(*sipgo.Client, *sip.Request) error { return nil }

// transact sends a prepared request and returns its final response.
func (p *Phone) transact(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := p.client.TransactionRequest(ctx, req, asIs)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	return finalResponse(ctx, p.ctx, tx)
}

// finalResponse waits for the final response of tx.
func finalResponse(ctx, life context.Context, tx sip.ClientTransaction) (*sip.Response, error) {
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("siptest: transaction ended without a final response")
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-life.Done():
			return nil, ErrClosed
		}
	}
}

// Register binds the phone's contact to its extension for expires
// (RFC 3261 §10.2), answering a 401/407 digest challenge once.
func (p *Phone) Register(ctx context.Context, expires time.Duration) error {
	p.mu.Lock()
	p.regCSeq++
	cseq := p.regCSeq
	p.mu.Unlock()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: p.cfg.Domain, UriParams: sip.NewParams(), Headers: sip.NewParams()})
	from := &sip.FromHeader{DisplayName: p.cfg.DisplayName, Address: p.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", randHex(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: p.aor(), Params: sip.NewParams()})
	cid := sip.CallIDHeader(p.regCallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	req.AppendHeader(p.contact())
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires.Seconds()))))
	p.prepare(req, p.cfg.Server.String())
	res, err := p.transact(ctx, req)
	if err != nil {
		return fmt.Errorf("siptest: REGISTER: %w", err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.cfg.User, Password: p.cfg.Password})
		if err != nil {
			return fmt.Errorf("siptest: REGISTER with credentials: %w", err)
		}
		p.mu.Lock()
		p.regCSeq = max(p.regCSeq, req.CSeq().SeqNo)
		p.mu.Unlock()
	}
	if !res.IsSuccess() {
		return &StatusError{Code: int(res.StatusCode), Reason: res.Reason}
	}
	return nil
}

// Unregister removes the phone's binding (Expires: 0).
func (p *Phone) Unregister(ctx context.Context) error { return p.Register(ctx, 0) }

func (p *Phone) setChallenge(res *sip.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.challenge = res
}

func (p *Phone) lastChallenge() *sip.Response {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.challenge
}

// lookup finds the call an in-dialog request belongs to: our tag is in To,
// the peer's in From.
func (p *Phone) lookup(req *sip.Request) *Call {
	cid, from, to := req.CallID(), req.From(), req.To()
	if cid == nil || from == nil || to == nil {
		return nil
	}
	local, _ := to.Params.Get("tag")
	remote, _ := from.Params.Get("tag")
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[dialogKey{callID: cid.Value(), localTag: local, remoteTag: remote}]
}

func (p *Phone) addCall(c *Call) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.calls[c.key] = c
	return true
}

func (p *Phone) removeCall(c *Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.calls[c.key] == c {
		delete(p.calls, c.key)
	}
}

// Calls returns how many calls the phone has established and not ended.
func (p *Phone) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// onInvite takes a new call (queued for Accept) or a re-INVITE. sipgo ends
// the transaction when the handler returns, so it waits for the final
// response.
func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		c := p.lookup(req)
		if c == nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		c.onReinvite(req, tx)
		return
	}
	in := newIncoming(p, req, tx)
	key := pendingKey(req)
	p.mu.Lock()
	p.pending[key] = in
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, key)
		p.mu.Unlock()
	}()
	if !tx.OnCancel(func(*sip.Request) { in.cancelOnce.Do(func() { close(in.cancelled) }) }) {
		return // cancelled already; the transaction answered 487
	}
	select {
	case p.incoming <- in:
	default:
		tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		return
	}
	select {
	case <-in.final:
	case <-in.cancelled:
	case <-p.ctx.Done():
		in.Reject(503, "Phone Closing")
	}
}

// pendingKey identifies an INVITE transaction and its CANCEL (RFC 3261
// §9.2: same Call-ID and top Via branch).
func pendingKey(req *sip.Request) string {
	key := ""
	if cid := req.CallID(); cid != nil {
		key = cid.Value()
	}
	if via := req.Via(); via != nil {
		b, _ := via.Params.Get("branch")
		key += "|" + b
	}
	return key
}

// onStrayCancel takes a CANCEL that matched no INVITE transaction. sipgo
// handles each datagram in its own goroutine, so a CANCEL sent right after
// its INVITE can get here before the INVITE's transaction exists: wait a
// moment for the INVITE before answering 481 (RFC 3261 §9.2).
func (p *Phone) onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	key := pendingKey(req)
	deadline := time.Now().Add(200 * time.Millisecond)
	for {
		p.mu.Lock()
		in := p.pending[key]
		p.mu.Unlock()
		if in != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			in.cancelLate()
			return
		}
		if time.Now().After(deadline) || p.ctx.Err() != nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}

func (p *Phone) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if c := p.lookup(req); c != nil {
		c.onAck(req)
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.lookup(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	c.end(true)
}

// onOK answers OPTIONS (switchd's qualify), INFO and UPDATE with 200.
func (p *Phone) onOK(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allow))
	tx.Respond(res)
}

// onNotify answers a NOTIFY in one of our calls (a transfer's progress)
// and hands its status line to the call.
func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := p.lookup(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
		return
	}
	line, _, _ := strings.Cut(string(req.Body()), "\r\n")
	line = strings.TrimSpace(line)
	if f := c.beforeNotifyAnswer.Load(); f != nil {
		(*f)(line)
	}
	// Delivered before the answer: switchd sends the next NOTIFY only
	// once this one is answered, and handlers run concurrently, so
	// answering first could let the next status overtake this one.
	select {
	case c.notifies <- line:
	default:
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// allow is the phone's Allow header.
const allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY"

// Accept waits for the next new INVITE to the phone.
func (p *Phone) Accept(ctx context.Context) (*Incoming, error) {
	select {
	case in := <-p.incoming:
		return in, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("siptest: %s: no INVITE: %w", p.cfg.User, ctx.Err())
	case <-p.ctx.Done():
		return nil, ErrClosed
	}
}

// writeResponse sends a response outside its transaction (a 2xx
// retransmission, RFC 3261 §13.3.1.4).
func (p *Phone) writeResponse(res *sip.Response) error {
	return p.ua.TransportLayer().WriteMsg(res)
}

// awaitAck retransmits a 2xx until ack reports its ACK (RFC 3261
// §13.3.1.4: T1 doubling up to T2, for at most 64·T1), ctx ends, stop is
// closed or the phone closes. It returns the ACK, or false when none came.
func (p *Phone) awaitAck(ctx context.Context, res *sip.Response, acks <-chan *sip.Request, seq uint32, stop <-chan struct{}) (*sip.Request, bool) {
	wait := sip.T1
	deadline := time.NewTimer(64 * sip.T1)
	defer deadline.Stop()
	retry := time.NewTimer(wait)
	defer retry.Stop()
	for {
		select {
		case ack := <-acks:
			if ack.CSeq() != nil && ack.CSeq().SeqNo == seq {
				return ack, true
			}
		case <-retry.C:
			p.writeResponse(res)
			wait = min(2*wait, sip.T2)
			retry.Reset(wait)
		case <-deadline.C:
			return nil, false
		case <-ctx.Done():
			return nil, false
		case <-stop:
			return nil, false
		case <-p.ctx.Done():
			return nil, false
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randUint32() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
