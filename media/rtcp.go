package media

import (
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// rtcpState is a session's RTCP side (RFC 3550 §6): where the phone's RTCP
// comes from, when our next report is due, and what the phone reported
// about the stream we send it. Guarded by Session.mu.
type rtcpState struct {
	latched netip.AddrPort // source of the phone's RTCP; invalid until it sends
	next    time.Time      // our next report is due

	in, out, dropped uint64

	lsr   uint32    // middle 32 bits of the NTP time of the phone's last SR
	lsrAt time.Time // when it arrived
	hasSR bool

	// The phone's last report block about our stream (§6.4.1).
	reports      uint64
	fractionLost uint8
	totalLost    uint32 // signed 24-bit
	jitter       uint32 // timestamp units
	rtt          time.Duration
}

// ntpEpochOffset is the seconds from 1900-01-01 (NTP) to 1970-01-01.
const ntpEpochOffset = 2208988800

// ntpTime is t as a 64-bit NTP timestamp (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// ntpMiddle is the middle 32 bits of t's NTP timestamp: the unit of LSR,
// DLSR and round-trip computations (RFC 3550 §6.4.1), 1/65536 s.
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// reportInterval randomises the report interval d to 0.5–1.5 times d
// (RFC 3550 §6.3.1), so that sessions started together do not report in
// lock step.
func reportInterval(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// rtcpBufSize is the receive buffer for RTCP; a compound packet is a few
// hundred bytes.
const rtcpBufSize = 1500

// handleRTCP takes in one compound RTCP packet from src: SRs give the
// LSR/DLSR of our next report block, report blocks about our stream give
// the phone's view of loss and jitter. RTCP is terminated here, never
// relayed to the other leg.
func (s *Session) handleRTCP(b []byte, src netip.AddrPort, now time.Time) {
	pkts, err := rtcp.Unmarshal(b)
	ok := err == nil && s.acceptRTCP(src)
	txSSRC, txStarted := s.txSSRC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		s.rc.dropped++
		return
	}
	s.rc.in++
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.rc.lsr, s.rc.lsrAt, s.rc.hasSR = uint32(p.NTPTime>>16), now, true
			s.rc.takeReports(p.Reports, txSSRC, txStarted, now)
		case *rtcp.ReceiverReport:
			s.rc.takeReports(p.Reports, txSSRC, txStarted, now)
		}
	}
}

// takeReports keeps the report block about the stream we send (the one
// for our SSRC, else the first: a phone may still report an SSRC we just
// replaced) and computes the round trip from its LSR/DLSR (§6.4.1).
func (rc *rtcpState) takeReports(blocks []rtcp.ReceptionReport, txSSRC uint32, txStarted bool, now time.Time) {
	if len(blocks) == 0 {
		return
	}
	blk := blocks[0]
	for _, b := range blocks {
		if txStarted && b.SSRC == txSSRC {
			blk = b
			break
		}
	}
	rc.reports++
	rc.fractionLost, rc.totalLost, rc.jitter = blk.FractionLost, blk.TotalLost&0xffffff, blk.Jitter
	if blk.LastSenderReport != 0 {
		if rtt := int32(ntpMiddle(now) - blk.LastSenderReport - blk.Delay); rtt >= 0 {
			rc.rtt = time.Duration(int64(rtt) * int64(time.Second) >> 16)
		}
	}
}

// acceptRTCP applies latching to RTCP: once the phone's RTCP latched only
// that source; before, a source on the IP RTP latched to, or (before RTP
// latched) on the SDP or SIP IP, or the a=rtcp address.
func (s *Session) acceptRTCP(src netip.AddrPort) bool {
	pr := s.peer.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rc.latched.IsValid() {
		return src == s.rc.latched
	}
	var ok bool
	if pr.latched.IsValid() {
		ok = src.Addr() == pr.latched.Addr()
	} else {
		ok = (pr.sdp.IsValid() && src.Addr() == pr.sdp.Addr()) ||
			(pr.sipIP.IsValid() && src.Addr() == pr.sipIP) || (pr.rtcp.IsValid() && src == pr.rtcp)
	}
	if ok {
		s.rc.latched = src
	}
	return ok
}

// rtcpDest is where our RTCP goes: the phone's RTCP source, else the
// a=rtcp address, else the RTP destination's port + 1 (RFC 3550 §11).
func (s *Session) rtcpDest() netip.AddrPort {
	pr := s.peer.Load()
	s.mu.Lock()
	l := s.rc.latched
	s.mu.Unlock()
	switch d := pr.dest(); {
	case l.IsValid():
		return l
	case pr.rtcp.IsValid():
		return pr.rtcp
	case d.IsValid() && d.Port() < 65535:
		return netip.AddrPortFrom(d.Addr(), d.Port()+1)
	}
	return netip.AddrPort{}
}

func (s *Session) txSSRC() (uint32, bool) {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	return s.tx.ssrc, s.tx.started
}

// maybeReport is the RTCP step of one session at time now: when its
// report is due, send it and schedule the next one.
func (s *Session) maybeReport(now time.Time) {
	if s.closed.Load() {
		return
	}
	s.mu.Lock()
	if now.Before(s.rc.next) {
		s.mu.Unlock()
		return
	}
	s.rc.next = now.Add(reportInterval(s.e.cfg.RTCPInterval.D()))
	s.mu.Unlock()
	s.sendReport(now, false)
}

// sendBye says goodbye on a leg we reported on (RFC 3550 §6.6).
func (s *Session) sendBye() {
	s.mu.Lock()
	sent := s.rc.out > 0
	s.mu.Unlock()
	if sent {
		s.sendReport(s.e.now(), true)
	}
}

// sendReport sends one compound RTCP packet (§6.1): an SR when we sent
// RTP on this leg in the last two intervals (§6.4), else an RR, with one
// report block about the phone's stream, our CNAME, and a BYE when bye.
func (s *Session) sendReport(now time.Time, bye bool) {
	dst := s.rtcpDest()
	if !dst.IsValid() {
		return
	}
	pkt, err := rtcp.Marshal(s.buildReport(now, bye))
	if err != nil {
		s.logAt(slog.LevelDebug, "rtcp report not built", "err", err)
		return
	}
	if _, err := s.rtcp.WriteToUDPAddrPort(pkt, dst); err != nil {
		return
	}
	s.mu.Lock()
	s.rc.out++
	s.mu.Unlock()
}

// buildReport assembles the packets of sendReport.
func (s *Session) buildReport(now time.Time, bye bool) []rtcp.Packet {
	s.mu.Lock()
	lsr, lsrAt, hasSR := s.rc.lsr, s.rc.lsrAt, s.rc.hasSR
	s.mu.Unlock()
	var dlsr uint32
	if hasSR && !now.Before(lsrAt) {
		dlsr = uint32(now.Sub(lsrAt) * 65536 / time.Second)
	} else {
		lsr = 0
	}
	s.rxMu.Lock()
	rr, haveRR := s.rx.report(lsr, dlsr)
	s.rxMu.Unlock()
	var reports []rtcp.ReceptionReport
	if haveRR {
		reports = []rtcp.ReceptionReport{rr}
	}

	s.txMu.Lock()
	tx := s.tx
	s.tx.sentRecent = [2]bool{false, s.tx.sentRecent[0]}
	s.txMu.Unlock()

	ssrc := s.ssrc
	var first rtcp.Packet
	if tx.started && (tx.sentRecent[0] || tx.sentRecent[1]) {
		// We are a sender on this leg: speak for the SSRC we relay under,
		// extrapolating its RTP clock to now (§6.4.1).
		ssrc = tx.ssrc
		ts := tx.lastTS
		if d := now.Sub(tx.lastAt); tx.rate != 0 && d > 0 {
			ts += uint32(uint64(d) * uint64(tx.rate) / uint64(time.Second))
		}
		first = &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpTime(now), RTPTime: ts,
			PacketCount: tx.srPackets, OctetCount: tx.srOctets, Reports: reports}
	} else {
		first = &rtcp.ReceiverReport{SSRC: ssrc, Reports: reports}
	}
	pkts := []rtcp.Packet{first, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: ssrc,
		Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: s.cname}},
	}}}}
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{ssrc}})
	}
	return pkts
}
