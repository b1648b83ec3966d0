package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// readBufSize is the receive buffer of a relay direction; a datagram that
// fills it is taken as truncated and dropped. Voice RTP is a few hundred
// bytes, and anything that crosses an Ethernet path unfragmented fits
// (1,472 bytes of UDP payload over IPv4).
const readBufSize = 1500

// Session is one call leg's media endpoint: an RTP socket on an even port
// and an RTCP socket on the odd port above it (RFC 3550 §11), bound on
// media.bind_address. It learns its phone's address by latching (see
// SetRemote), keeps reception statistics, terminates RTCP and reports a
// dead leg through OnTimeout.
//
// A Session's RTP socket has at most one reader at a time: the Relay the
// session is part of. Its RTCP socket is read by the engine's RTCP reader,
// shared by all sessions (rtcp_reader_linux.go). All methods are safe for
// concurrent use.
type Session struct {
	e     *Engine
	rtp   *net.UDPConn
	rtcp  *net.UDPConn
	port  int
	local netip.AddrPort
	ssrc  uint32 // our SSRC in RTCP receiver reports (random, RFC 3550 §8)
	cname string // random CNAME (RFC 7022 §4.2)
	start time.Time

	peer   atomic.Pointer[peer]       // latching state, session_latch.go
	clocks atomic.Pointer[clockTable] // clock rates of this leg's payload types
	reader atomic.Bool                // the RTP socket is claimed by a relay
	closed atomic.Bool

	droppedForeign   atomic.Uint64
	droppedMalformed atomic.Uint64

	rxMu sync.Mutex
	rx   receiver

	txMu sync.Mutex
	tx   sender

	mu sync.Mutex // guards to and rc
	to timeoutState
	rc rtcpState

	rtcpWatch rtcpWatch // the RTCP reader's per-session state
	closeOnce sync.Once
}

// NewSession binds a new RTP/RTCP port pair from the pool and has the
// engine's RTCP reader read its RTCP socket. It fails with ErrNoPorts when the pool is exhausted
// and ErrClosed after Engine.Close. The session's RTP timeout is
// media.rtp_timeout; Close releases the ports.
func (e *Engine) NewSession() (*Session, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	rtpConn, rtcpConn, port, err := e.openPair()
	if err != nil {
		return nil, err
	}
	now := e.now()
	s := &Session{
		e:     e,
		rtp:   rtpConn,
		rtcp:  rtcpConn,
		port:  port,
		local: netip.AddrPortFrom(e.bind, uint16(port)),
		ssrc:  randomSSRC(),
		cname: randomCNAME(),
		start: now,
	}
	s.peer.Store(&peer{})
	s.clocks.Store(&staticClocks)
	s.to.timeout = e.cfg.RTPTimeout.D()
	s.rc.next = now.Add(reportInterval(e.cfg.RTCPInterval.D() / 2)) // RFC 3550 §6.2: the first report comes sooner
	if err := e.watchRTCP(s); err != nil {
		rtpConn.Close()
		rtcpConn.Close()
		e.ports.release(port)
		return nil, err
	}
	if !e.add(s) {
		e.unwatchRTCP(s)
		rtpConn.Close()
		rtcpConn.Close()
		e.ports.release(port)
		return nil, ErrClosed
	}
	e.metrics.SessionOpened()
	return s, nil
}

// LocalAddr is the session's RTP address (the RTCP port is one above).
// With the default bind address 0.0.0.0 the IP is unspecified: SDP then
// carries media.advertise_address or the address that routes to the phone.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SetCodecs tells the session the payload types negotiated on its leg, so
// that dynamic payload types get their clock rate for the jitter (RFC 3550
// §A.8) and sender reports. The static types of RFC 3551 are known
// without it; telephone-event packets never count towards the jitter.
func (s *Session) SetCodecs(codecs ...Codec) {
	t := staticClocks.withCodecs(codecs)
	if t != &staticClocks {
		t = s.e.clocks.get(t)
	}
	s.clocks.Store(t)
}

// readPacket reads the next RTP packet accepted from the phone into buf
// and accounts it; foreign-source and malformed packets are dropped and
// counted on the way. It returns the socket's error (net.ErrClosed after
// Close, a timeout when a relay is stopping). Only the session's reader
// calls it.
func (s *Session) readPacket(buf []byte) (int, rtpInfo, error) {
	for {
		n, src, err := s.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return 0, rtpInfo{}, err
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		pr := s.peer.Load()
		if pr.latched.IsValid() && src != pr.latched && !pr.sdpTakesOver(src) {
			s.dropForeign(src)
			continue
		}
		p, ok := parseRTP(buf[:n])
		if !ok || n == len(buf) {
			s.droppedMalformed.Add(1)
			continue
		}
		if src != pr.latched && !s.latch(pr, src) {
			s.dropForeign(src)
			continue
		}
		p.at = s.e.now()
		rate := s.clocks.Load()[p.pt]
		s.rxMu.Lock()
		s.rx.update(&p, n, rate, p.at.Sub(s.start))
		s.rxMu.Unlock()
		return n, p, nil
	}
}

// dropForeign counts a packet from a source the session does not accept
// (RTP bleed protection); the first one is logged.
func (s *Session) dropForeign(src netip.AddrPort) {
	if s.droppedForeign.Add(1) == 1 {
		s.logAt(slog.LevelWarn, "rtp from unexpected source dropped", "source", src.String())
	}
}

// logAt logs msg about the session at level, with its RTP port. Sessions
// log rarely (first foreign packet, latch, timeout), so the attribute is
// added per message rather than kept in a per-session logger.
func (s *Session) logAt(level slog.Level, msg string, args ...any) {
	if !s.e.log.Enabled(context.Background(), level) {
		return
	}
	s.e.log.Log(context.Background(), level, msg, append(args, "rtp_port", s.port)...)
}

// Close stops the session: it sends an RTCP BYE (RFC 3550 §6.6) when it
// reported on the leg, takes its RTCP socket off the engine's reader,
// closes both sockets (a relay reading them stops; a read of the RTCP
// socket in progress finishes first) and returns the ports to the pool.
// It is idempotent and always returns nil.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.sendBye()
		s.e.unwatchRTCP(s)
		s.rtp.Close()
		s.rtcp.Close()
		s.e.remove(s)
		s.e.metrics.SessionClosed(s.Stats())
	})
	return nil
}

func randomSSRC() uint32 {
	var b [4]byte
	for {
		rand.Read(b[:])
		if v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); v != 0 {
			return v
		}
	}
}

func randomCNAME() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
