package media

import (
	"log/slog"
	"net/netip"
)

// peer is the latching state of a session: where the phone said it is and
// where its media really comes from. It is immutable once stored in
// Session.peer; changes store a new one, so the packet path reads it with
// one atomic load and no lock.
//
// Latching follows symmetric RTP (RFC 4961 §4): a phone sends from the
// address it receives on, so the source of its first packet is where
// switchd sends to. To keep the "RTP bleed" attack out (anyone who guesses
// the port would otherwise capture or inject a call's audio), only a packet
// from the address signalled in SDP, or from any port of the IP the SIP
// signalling came from (the phone's NAT), may latch; once latched, the
// session accepts its remote only, until the next SetRemote — except that
// the exact SDP address replaces a remote latched by the SIP IP alone
// (sdpTakesOver).
type peer struct {
	sdp     netip.AddrPort // signalled in SDP; invalid: none, or c=0.0.0.0 / port 0
	sipIP   netip.Addr     // source IP of the SIP signalling; invalid: unknown
	latched netip.AddrPort // the phone's actual RTP source; invalid until latched
	rtcp    netip.AddrPort // a=rtcp address (RFC 3605), when signalled
}

// dest is where RTP for the phone goes: the latched source, or the SDP
// address until the phone has sent anything (a phone that only listens is
// still reached).
func (p *peer) dest() netip.AddrPort {
	if p.latched.IsValid() {
		return p.latched
	}
	return p.sdp
}

// mayLatch reports whether a packet from src may latch.
func (p *peer) mayLatch(src netip.AddrPort) bool {
	return (p.sdp.IsValid() && src == p.sdp) || (p.sipIP.IsValid() && src.Addr() == p.sipIP)
}

// sdpTakesOver reports whether src, though not the latched source, is the
// exact address signalled in SDP and so replaces a latch that only the
// SIP source IP allowed. A carrier's media gateway sends many calls from
// one IP: a stale stream from it to a port just reused for a new call
// could otherwise latch first and keep the new call's real stream out.
func (p *peer) sdpTakesOver(src netip.AddrPort) bool {
	return p.latched.IsValid() && p.sdp.IsValid() && src == p.sdp && p.latched != p.sdp
}

// SetRemote tells the session where its phone is, from the offer/answer
// (RFC 3264) of the leg: sdpAddr is the connection address and port of the
// audio stream, sipSource the IP the phone's SIP messages come from (zero
// if unknown). It (re-)arms latching: the next packet from sdpAddr, or
// from any port of sipSource, becomes the remote, and nothing else is
// accepted. Call it again on a re-INVITE with a new address; an
// unspecified address (c=0.0.0.0) or port 0 stops sending until the
// phone's next packet latches. It forgets a SetRemoteRTCP address.
func (s *Session) SetRemote(sdpAddr netip.AddrPort, sipSource netip.Addr) {
	p := &peer{sipIP: sipSource.Unmap()}
	if a := sdpAddr.Addr().Unmap(); a.IsValid() && !a.IsUnspecified() && sdpAddr.Port() != 0 {
		p.sdp = netip.AddrPortFrom(a, sdpAddr.Port())
	}
	if p.sipIP.IsUnspecified() {
		p.sipIP = netip.Addr{}
	}
	s.peer.Store(p)
	s.mu.Lock()
	s.rc.latched = netip.AddrPort{}
	s.to.restart(s.e.now())
	s.mu.Unlock()
}

// SetRemoteRTCP sets the RTCP address signalled with a=rtcp (RFC 3605),
// used until the phone's own RTCP latches. Without it RTCP goes to the RTP
// port + 1 (RFC 3550 §11). Call it after SetRemote.
func (s *Session) SetRemoteRTCP(addr netip.AddrPort) {
	for {
		old := s.peer.Load()
		p := *old
		p.rtcp = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
		if s.peer.CompareAndSwap(old, &p) {
			return
		}
	}
}

// latch makes src the remote if it may latch under pr; a concurrent
// SetRemote or latch is re-evaluated. It reports whether src is accepted.
func (s *Session) latch(pr *peer, src netip.AddrPort) bool {
	for {
		switch {
		case pr.latched.IsValid() && src == pr.latched:
			return true
		case pr.latched.IsValid() && !pr.sdpTakesOver(src):
			return false
		case !pr.mayLatch(src):
			return false
		}
		n := *pr
		n.latched = src
		if s.peer.CompareAndSwap(pr, &n) {
			if pr.latched.IsValid() {
				s.logAt(slog.LevelInfo, "rtp relatched to the signalled address", "remote", src.String(), "previous", pr.latched.String())
			} else {
				s.logAt(slog.LevelDebug, "rtp latched", "remote", src.String(), "sdp", pr.sdp.String())
			}
			return true
		}
		pr = s.peer.Load()
	}
}

// Remote is the address RTP to the phone is sent to now (the latched
// source, else the SDP address), and whether it was latched.
func (s *Session) Remote() (addr netip.AddrPort, latched bool) {
	p := s.peer.Load()
	return p.dest(), p.latched.IsValid()
}
