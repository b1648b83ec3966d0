package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// allowedMethods is the Allow header of our OPTIONS answers.
const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, REFER, NOTIFY"

// Server is switchd's SIP front: it owns the listening sockets, answers
// REGISTER and out-of-dialog OPTIONS, and keeps registered phones qualified.
//
// On UDP, REGISTER and OPTIONS are answered statelessly from the transport's
// read path (RFC 3261 §17 allows a stateless UAS for them: a retransmitted
// REGISTER carries the stored Call-ID/CSeq and gets the same 200), so they
// cost no transaction goroutines. Everything else, and all TCP traffic, goes
// through sipgo's transaction layer.
type Server struct {
	cfg       Config
	registrar *Registrar
	guard     *Guard
	metrics   *Metrics
	log       *slog.Logger
	now       func() time.Time

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	parser  *gosip.Parser
	dialogs *dialogTable

	b2b     *B2BUA
	calls   callSet
	chans   channels // calls per trunk
	invites sync.Map // inviteKey → *pendingInvite

	udp   map[string]*net.UDPConn // by local address
	tcp   []net.Listener
	qual  *qualifier
	bufs  sync.Pool
	ready chan struct{}
}

// ServerOptions are the collaborators of a Server.
type ServerOptions struct {
	Registrar *Registrar
	Guard     *Guard
	Metrics   *Metrics
	Logger    *slog.Logger
	Now       func() time.Time
	UserAgent string // Server/User-Agent header value
	// B2BUA enables calls; nil leaves INVITE unanswered by a call handler (503).
	B2BUA *B2BUA
}

// NewServer builds a server for cfg; Listen opens its sockets.
func NewServer(cfg Config, o ServerOptions) (*Server, error) {
	s := &Server{
		cfg: cfg, registrar: o.Registrar, guard: o.Guard, metrics: o.Metrics, log: o.Logger, now: o.Now,
		parser: gosip.NewParser(),
		udp:    make(map[string]*net.UDPConn),
		ready:  make(chan struct{}),
	}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(o.UserAgent),
		sipgo.WithUserAgentParser(s.parser),
		sipgo.WithUserAgentTransportLayerOptions(
			gosip.WithTransportLayerReadFilter(s.readFilter),
			gosip.WithTransportLayerLogger(o.Logger),
		),
		sipgo.WithUserAgentTransactionLayerOptions(gosip.WithTransactionLayerLogger(o.Logger)),
	)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(o.Logger))
	if err != nil {
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(o.Logger))
	if err != nil {
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	s.ua, s.srv, s.client = ua, srv, client
	s.dialogs = newDialogTable()
	srv.OnRegister(s.onTx)
	srv.OnOptions(s.onOptionsTx)
	srv.OnInvite(s.onInvite)
	srv.OnAck(s.onAckRequest)
	srv.OnBye(s.onDialogRequest)
	srv.OnUpdate(s.onDialogRequest)
	srv.OnInfo(s.onDialogRequest)
	srv.OnRefer(s.onDialogRequest)
	srv.OnNotify(s.onDialogRequest)
	srv.OnCancel(s.onCancel)
	s.b2b = o.B2BUA
	s.qual = newQualifier(s, cfg.QualifyInterval.D())
	return s, nil
}

// Listen opens every configured socket, so that a bad address is reported
// before anything is served.
func (s *Server) Listen() error {
	for _, l := range s.cfg.ListenAddrs() {
		switch l.Transport {
		case "udp":
			conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(l.Addr))
			if err != nil {
				s.closeSockets()
				return fmt.Errorf("sip: listen %s: %w", l, err)
			}
			s.sizeReceiveBuffer(conn)
			s.udp[conn.LocalAddr().String()] = conn
		case "tcp":
			ln, err := net.Listen("tcp", l.Addr.String())
			if err != nil {
				s.closeSockets()
				return fmt.Errorf("sip: listen %s: %w", l, err)
			}
			s.tcp = append(s.tcp, ln)
		}
	}
	return nil
}

// Addrs returns the bound addresses ("udp://127.0.0.1:5060", …), useful when a port was 0.
func (s *Server) Addrs() []string {
	var out []string
	for a := range s.udp {
		out = append(out, "udp://"+a)
	}
	for _, ln := range s.tcp {
		out = append(out, "tcp://"+ln.Addr().String())
	}
	return out
}

// sizeReceiveBuffer asks for cfg.UDPReceiveBuffer, forcing it past
// net.core.rmem_max where the process may (SO_RCVBUFFORCE needs CAP_NET_ADMIN).
func (s *Server) sizeReceiveBuffer(conn *net.UDPConn) {
	want := s.cfg.UDPReceiveBuffer
	if want == 0 {
		return
	}
	_ = conn.SetReadBuffer(want)
	if raw, err := conn.SyscallConn(); err == nil {
		var got int
		_ = raw.Control(func(fd uintptr) {
			got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			if got < want {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, want)
				got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			}
		})
		// Linux reports double the requested size (bookkeeping overhead).
		if got < want {
			s.log.Warn("udp_receive_buffer_small", "local", conn.LocalAddr().String(), "wanted", want, "got", got,
				"hint", "raise net.core.rmem_max or run with CAP_NET_ADMIN")
		}
	}
}

// Run serves until ctx is done, then closes every socket. Listen must have succeeded.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	tp := s.ua.TransportLayer()
	for _, conn := range s.udp {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tp.ServeUDP(conn); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("sip_udp_serve_failed", "local", conn.LocalAddr().String(), "error", err)
			}
		}()
	}
	for _, ln := range s.tcp {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tp.ServeTCP(ln); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("sip_tcp_serve_failed", "local", ln.Addr().String(), "error", err)
			}
		}()
	}
	wg.Add(3)
	go func() { defer wg.Done(); s.registrar.RunExpiry(ctx, time.Second) }()
	go func() { defer wg.Done(); s.qual.run(ctx) }()
	go func() { defer wg.Done(); s.sweepGuard(ctx) }()
	s.waitServing(ctx)
	for _, a := range s.Addrs() {
		s.log.Info("sip_listening", "addr", a)
	}
	close(s.ready)
	<-ctx.Done()
	s.closeSockets()
	err := s.ua.Close()
	wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("sip: close: %w", err)
	}
	return nil
}

// waitServing waits (up to a second) until sipgo serves every UDP socket,
// so requests sent from a listener right after Ready find it.
func (s *Server) waitServing(ctx context.Context) {
	tp := s.ua.TransportLayer()
	deadline := time.Now().Add(time.Second)
	for addr := range s.udp {
		for {
			if c, err := tp.GetConnection("udp", addr); err == nil && c != nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// Ready is closed once Run serves.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Close releases the sockets of a server that will not Run (Run closes them itself).
func (s *Server) Close() { s.closeSockets() }

func (s *Server) closeSockets() {
	for _, c := range s.udp {
		c.Close()
	}
	for _, ln := range s.tcp {
		ln.Close()
	}
}

func (s *Server) sweepGuard(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.guard.Sweep(s.now())
		}
	}
}

// errBannedConn closes a stream connection from a banned source.
var errBannedConn = errors.New("sip: source is banned")

var (
	prefixRegister = []byte("REGISTER ")
	prefixOptions  = []byte("OPTIONS ")
	prefixResponse = []byte("SIP/2.0 ")
)

// readFilter runs on the transport's read goroutine for every message.
// Returning nil consumes the message; returning an error closes a stream connection.
func (s *Server) readFilter(info gosip.TransportReadProps, data []byte) ([]byte, error) {
	src := addrPortOf(info.RemoteAddr)
	if s.guard.Banned(src.Addr(), s.now()) {
		s.metrics.drop("banned")
		if info.Transport != "UDP" {
			return nil, errBannedConn
		}
		return nil, nil
	}
	if info.Transport != "UDP" {
		return data, nil
	}
	switch {
	case !looksLikeSIP(data):
		// Not a SIP start line: drop it here rather than let the parser log
		// attacker-controlled bytes at error level for every datagram.
		s.metrics.drop("not_sip")
		return nil, nil
	case bytes.HasPrefix(data, prefixRegister), bytes.HasPrefix(data, prefixOptions):
	case bytes.HasPrefix(data, prefixResponse) && bytes.Contains(data, qualifyBranchPrefix):
		s.qual.onResponse(data, s.parser)
		return nil, nil
	default:
		return data, nil
	}
	msg, err := s.parser.ParseSIP(data)
	if err != nil {
		s.metrics.drop("parse_error")
		s.log.Debug("sip_parse_failed", "source", src.String(), "error", err)
		return nil, nil
	}
	req, ok := msg.(*gosip.Request)
	if !ok {
		return nil, nil
	}
	if req.Via() == nil {
		// Nowhere to send a response (RFC 3261 §18.2.2); never answer to the packet source blindly.
		s.metrics.drop("no_via")
		return nil, nil
	}
	if req.Method == gosip.OPTIONS && inDialog(req) {
		return data, nil // in-dialog OPTIONS belongs to the dialog layer
	}
	req.SetTransport("UDP")
	req.SetSource(src.String())
	local := info.LocalAddr.String()
	conn := s.udp[local]
	res := s.handle(context.Background(), req, Source{Addr: src, Transport: "udp", Local: local})
	if res != nil && conn != nil {
		s.writeUDP(conn, res, responseAddr(req, src))
	}
	return nil, nil
}

// looksLikeSIP reports whether data starts like a SIP request line
// ("METHOD sip:…" / "METHOD sips:…" / "METHOD tel:…") or a status line. Keep-alive CRLFs
// are not SIP either.
func looksLikeSIP(data []byte) bool {
	if bytes.HasPrefix(data, prefixResponse) {
		return true
	}
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 || sp > 16 {
		return false
	}
	for _, c := range data[:sp] {
		if (c < 'A' || c > 'Z') && c != '-' {
			return false
		}
	}
	rest := data[sp+1:]
	return bytes.HasPrefix(rest, []byte("sip:")) || bytes.HasPrefix(rest, []byte("sips:")) ||
		bytes.HasPrefix(rest, []byte("tel:")) || bytes.HasPrefix(rest, []byte("SIP:"))
}

// onOptionsTx answers OPTIONS from the transaction layer: in-dialog ones go
// to their call, the rest are keep-alives.
func (s *Server) onOptionsTx(req *gosip.Request, tx gosip.ServerTransaction) {
	if inDialog(req) && s.dialogs.lookup(req) != nil {
		s.onDialogRequest(req, tx)
		return
	}
	s.onTx(req, tx)
}

// onTx handles REGISTER/OPTIONS that came through sipgo's transaction layer (TCP, in-dialog).
func (s *Server) onTx(req *gosip.Request, tx gosip.ServerTransaction) {
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		s.metrics.drop("bad_source")
		return
	}
	transport := strings.ToLower(req.Transport())
	if s.guard.Banned(src.Addr(), s.now()) {
		s.metrics.drop("banned")
		return
	}
	res := s.handle(context.Background(), req, Source{Addr: src, Transport: transport})
	if res == nil {
		return
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip_respond_failed", "source", src.String(), "error", err)
	}
}

// handle answers one REGISTER or OPTIONS.
func (s *Server) handle(ctx context.Context, req *gosip.Request, src Source) *gosip.Response {
	method := string(req.Method)
	s.metrics.request(method)
	var res *gosip.Response
	switch req.Method {
	case gosip.REGISTER:
		res = s.registrar.Register(ctx, req, src)
	case gosip.OPTIONS:
		res = s.registrar.Options(req, allowedMethods)
	default:
		res = gosip.NewResponseFromRequest(req, gosip.StatusMethodNotAllowed, "Method Not Allowed", nil)
		res.AppendHeader(gosip.NewHeader("Allow", allowedMethods))
	}
	s.metrics.response(method, int(res.StatusCode))
	return res
}

func (s *Server) writeUDP(conn *net.UDPConn, res *gosip.Response, dst netip.AddrPort) {
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	res.StringWrite(buf)
	if _, err := conn.WriteToUDPAddrPort(buf.Bytes(), dst); err != nil {
		s.log.Debug("sip_udp_write_failed", "dst", dst.String(), "error", err)
	}
	if buf.Cap() <= 64<<10 {
		s.bufs.Put(buf)
	}
}

// responseAddr is where a UDP response goes (RFC 3261 §18.2.2, RFC 3581 §4):
// the packet source when the top Via asks for rport, else the source IP
// and the port in the Via's sent-by.
func responseAddr(req *gosip.Request, src netip.AddrPort) netip.AddrPort {
	via := req.Via()
	if via == nil || via.Params.Has("rport") {
		return src
	}
	port := via.Port
	if port == 0 {
		port = gosip.DefaultUdpPort
	}
	return netip.AddrPortFrom(src.Addr(), uint16(port))
}

func inDialog(req *gosip.Request) bool {
	to := req.To()
	return to != nil && to.Params.Has("tag")
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case *net.TCPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// Guard returns the server's ban guard.
func (s *Server) Guard() *Guard { return s.guard }

// Registrar returns the server's registrar.
func (s *Server) Registrar() *Registrar { return s.registrar }
