package media

import (
	"net/netip"
	"time"
)

// SessionStats is a snapshot of one leg's media counters, for the CDR and
// monitoring.
type SessionStats struct {
	// Local is the session's RTP address.
	Local netip.AddrPort
	// Remote is where RTP to the phone goes: the latched source when
	// Latched, else the SDP address (zero if none).
	Remote  netip.AddrPort
	Latched bool

	// PacketsIn and BytesIn count the RTP packets accepted from the phone
	// (bytes: whole RTP packets, headers included).
	PacketsIn, BytesIn uint64
	// PacketsOut and BytesOut count the RTP packets sent to the phone.
	PacketsOut, BytesOut uint64
	// DroppedForeign counts RTP packets from sources the session does not
	// accept (before SetRemote, or not the latched remote: RTP bleed).
	DroppedForeign uint64
	// DroppedMalformed counts datagrams that are not valid RTP.
	DroppedMalformed uint64

	// Lost is the cumulative number of packets from the phone that never
	// arrived (RFC 3550 §A.3; negative with duplicates), all its SSRCs.
	Lost int64
	// JitterMs is the interarrival jitter of the phone's RTP in
	// milliseconds (RFC 3550 §A.8), of its current SSRC.
	JitterMs float64

	// RTCPIn, RTCPOut and RTCPDropped count compound RTCP packets received
	// from the phone, sent to it, and refused (foreign source, malformed).
	RTCPIn, RTCPOut, RTCPDropped uint64
	// RemoteReports counts the phone's report blocks about our stream.
	RemoteReports uint64
	// RemoteFractionLost is the fraction (0–1) of our packets the phone
	// lost in its last report interval, from its last SR/RR.
	RemoteFractionLost float64
	// RemoteLost is the cumulative loss the phone reported.
	RemoteLost int64
	// RemoteJitterMs is the jitter the phone reported, in milliseconds.
	RemoteJitterMs float64
	// RTT is the round-trip time from the phone's LSR/DLSR (RFC 3550
	// §6.4.1); 0 until it echoed one of our SRs.
	RTT time.Duration
}

// Stats returns the session's counters; it is cheap and may be called at
// any time, including after Close.
func (s *Session) Stats() SessionStats {
	pr := s.peer.Load()
	st := SessionStats{
		Local:            s.local,
		Remote:           pr.dest(),
		Latched:          pr.latched.IsValid(),
		DroppedForeign:   s.droppedForeign.Load(),
		DroppedMalformed: s.droppedMalformed.Load(),
	}
	s.rxMu.Lock()
	st.PacketsIn, st.BytesIn = s.rx.packets, s.rx.bytes
	st.Lost = s.rx.lostBefore + s.rx.lost()
	st.JitterMs = s.rx.jitterMs()
	s.rxMu.Unlock()

	s.txMu.Lock()
	st.PacketsOut, st.BytesOut = s.tx.packets, s.tx.bytes
	rate := s.tx.rate
	s.txMu.Unlock()
	if rate == 0 {
		rate = 8000
	}

	s.mu.Lock()
	rc := s.rc
	s.mu.Unlock()
	st.RTCPIn, st.RTCPOut, st.RTCPDropped = rc.in, rc.out, rc.dropped
	st.RemoteReports = rc.reports
	st.RemoteFractionLost = float64(rc.fractionLost) / 256
	st.RemoteLost = int64(rc.totalLost)
	if rc.totalLost&0x800000 != 0 {
		st.RemoteLost -= 1 << 24
	}
	st.RemoteJitterMs = float64(rc.jitter) * 1000 / float64(rate)
	st.RTT = rc.rtt
	return st
}
