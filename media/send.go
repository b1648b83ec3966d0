package media

import (
	"time"
)

// sender is what a session sent to its phone: counters for Stats, and
// the state of the stream switchd is the sender of on this leg, for our
// sender reports (RFC 3550 §6.4.1). In a pure relay the stream keeps the
// far phone's SSRC, sequence numbers and timestamps, so the SR speaks for
// that SSRC. Guarded by Session.txMu.
type sender struct {
	packets, bytes uint64 // every packet sent, all SSRCs

	ssrc       uint32 // the SSRC we send under now; valid when started
	started    bool
	srPackets  uint32    // SR sender's packet count for ssrc
	srOctets   uint32    // SR sender's octet count (payload only) for ssrc
	lastTS     uint32    // RTP timestamp of the last media packet sent
	lastSeq    uint16    // its sequence number
	lastAt     time.Time // when it was sent
	rate       uint32    // its clock rate
	sentRecent [2]bool   // sent since the last report, and in the interval before
}

// update accounts one sent packet.
func (t *sender) update(p *rtpInfo, n int, rate uint32) {
	t.packets++
	t.bytes += uint64(n)
	if !t.started || p.ssrc != t.ssrc {
		t.ssrc, t.started = p.ssrc, true
		t.srPackets, t.srOctets, t.rate = 0, 0, 0
	}
	t.srPackets++
	t.srOctets += uint32(p.end - p.payload)
	t.sentRecent[0] = true
	if rate != 0 {
		t.lastTS, t.lastAt, t.rate = p.ts, p.at, rate
	}
	t.lastSeq = p.seq
}

// writeRTP sends one RTP packet (described by p) to the phone: to the
// latched remote, or the SDP address before latching. errNoRemote when
// neither is known.
func (s *Session) writeRTP(pkt []byte, p *rtpInfo) error {
	dst := s.peer.Load().dest()
	if !dst.IsValid() {
		return errNoRemote
	}
	if _, err := s.rtp.WriteToUDPAddrPort(pkt, dst); err != nil {
		return err
	}
	rate := s.clocks.Load()[p.pt]
	s.txMu.Lock()
	s.tx.update(p, len(pkt), rate)
	s.txMu.Unlock()
	return nil
}
