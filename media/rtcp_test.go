package media

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func marshalRTCP(t testing.TB, pkts ...rtcp.Packet) []byte {
	t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rtcpOf is a session's RTCP address: its RTP port + 1.
func rtcpOf(s *Session) netip.AddrPort {
	return netip.AddrPortFrom(s.LocalAddr().Addr(), s.LocalAddr().Port()+1)
}

// recvRTCP waits for one compound RTCP packet and parses it.
func recvRTCP(t testing.TB, p *phone) []rtcp.Packet {
	t.Helper()
	pkts, err := rtcp.Unmarshal(p.mustRecv())
	if err != nil {
		t.Fatalf("our RTCP does not parse: %v", err)
	}
	return pkts
}

// TestRTCPPhoneReportInStats: a phone's RR shows up in Stats (for the
// CDR); RTCP from another port after its RTCP latched is refused.
func TestRTCPPhoneReportInStats(t *testing.T) {
	e := newTestEngine(t, 25000, 25099)
	c := newCall(t, e, RelayConfig{})
	phoneRTCP := newPhone(t)

	rr := &rtcp.ReceiverReport{SSRC: 0x1111, Reports: []rtcp.ReceptionReport{{
		SSRC: 0x2222, FractionLost: 64, TotalLost: 12, LastSequenceNumber: 500, Jitter: 80,
	}}}
	phoneRTCP.send(rtcpOf(c.a), marshalRTCP(t, rr))
	eventually(t, "RR taken", func() bool { return c.a.Stats().RTCPIn == 1 })
	st := c.a.Stats()
	if st.RemoteReports != 1 || st.RemoteFractionLost != 0.25 || st.RemoteLost != 12 || st.RemoteJitterMs != 10 {
		t.Fatalf("stats %+v", st)
	}

	// Cumulative loss is signed 24-bit: 0xffffff is -1 (duplicates).
	rr.Reports[0].TotalLost = 0xffffff
	phoneRTCP.send(rtcpOf(c.a), marshalRTCP(t, rr))
	eventually(t, "second RR", func() bool { return c.a.Stats().RTCPIn == 2 })
	if st := c.a.Stats(); st.RemoteLost != -1 {
		t.Fatalf("RemoteLost %d, want -1", st.RemoteLost)
	}

	// The phone's RTCP latched; another source is refused.
	other := newPhone(t)
	other.send(rtcpOf(c.a), marshalRTCP(t, rr))
	other.send(rtcpOf(c.a), []byte("not rtcp"))
	eventually(t, "foreign RTCP refused", func() bool { return c.a.Stats().RTCPDropped == 2 })
	if st := c.a.Stats(); st.RTCPIn != 2 {
		t.Fatalf("RTCPIn %d", st.RTCPIn)
	}
	// And it is not relayed to the other leg.
	c.pb.expectNothing(50 * time.Millisecond)
}

// TestRTCPOurReports: after relaying, the engine step sends an SR on the
// leg switchd sends RTP on (speaking for the relayed SSRC) and an RR with
// a report block on the leg it receives on; both parse. The phone's
// answer to our SR gives the round-trip time, and Close says BYE.
func TestRTCPOurReports(t *testing.T) {
	clk := newFakeClock()
	e := newTestEngine(t, 25100, 25199, WithClock(clk.Now))
	c := newCall(t, e, RelayConfig{})
	paRTCP, pbRTCP := newPhone(t), newPhone(t)
	c.a.SetRemoteRTCP(paRTCP.addr) // a=rtcp (RFC 3605); otherwise RTP port + 1
	c.b.SetRemoteRTCP(pbRTCP.addr)

	payload := make([]byte, 160)
	for i := range 10 {
		c.pa.send(c.a.LocalAddr(), rtpPacket(t, 0, uint16(100+i), uint32(160*i), 0xaaaa, false, payload))
		c.pb.mustRecv()
	}
	eventually(t, "sends accounted", func() bool { return c.b.Stats().PacketsOut == 10 })
	now := clk.Advance(time.Minute)
	e.step(now)

	// Leg B: we sent 10 packets under the relayed SSRC → SR.
	pkts := recvRTCP(t, pbRTCP)
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok {
		t.Fatalf("leg B got %T first, want an SR", pkts[0])
	}
	if sr.SSRC != 0xaaaa || sr.PacketCount != 10 || sr.OctetCount != 1600 || sr.NTPTime != ntpTime(now) {
		t.Fatalf("SR %+v", sr)
	}
	if want := uint32(9*160 + 60*8000); sr.RTPTime != want {
		t.Fatalf("SR RTP time %d, want %d (last timestamp + 60 s at 8 kHz)", sr.RTPTime, want)
	}
	if sdes, ok := pkts[1].(*rtcp.SourceDescription); !ok || sdes.Chunks[0].Source != 0xaaaa || sdes.Chunks[0].Items[0].Type != rtcp.SDESCNAME {
		t.Fatalf("leg B second packet %v", pkts[1])
	}

	// Leg A: we only received → RR about the phone's SSRC.
	pkts = recvRTCP(t, paRTCP)
	rr, ok := pkts[0].(*rtcp.ReceiverReport)
	if !ok {
		t.Fatalf("leg A got %T first, want an RR", pkts[0])
	}
	if rr.SSRC != c.a.ssrc || len(rr.Reports) != 1 {
		t.Fatalf("RR %+v", rr)
	}
	if blk := rr.Reports[0]; blk.SSRC != 0xaaaa || blk.LastSequenceNumber != 109 || blk.TotalLost != 0 || blk.FractionLost != 0 {
		t.Fatalf("report block %+v", blk)
	}
	if _, ok := pkts[1].(*rtcp.SourceDescription); !ok {
		t.Fatalf("RR without SDES: %v", pkts[1])
	}

	// Not due again until the next interval.
	e.step(clk.Advance(time.Second))
	pbRTCP.expectNothing(50 * time.Millisecond)

	// Phone B echoes our SR after holding it 1 s; it arrives 3 s after we sent it.
	clk.Advance(2 * time.Second)
	pbRTCP.send(rtcpOf(c.b), marshalRTCP(t, &rtcp.ReceiverReport{SSRC: 0xbbbb, Reports: []rtcp.ReceptionReport{{
		SSRC: 0xaaaa, LastSenderReport: uint32(sr.NTPTime >> 16), Delay: 65536,
	}}}))
	eventually(t, "RR from phone B", func() bool { return c.b.Stats().RemoteReports == 1 })
	if rtt := c.b.Stats().RTT; rtt < 2*time.Second-time.Millisecond || rtt > 2*time.Second+time.Millisecond {
		t.Fatalf("RTT %v, want 2s", rtt)
	}

	c.relay.Stop()
	c.a.Close()
	pkts = recvRTCP(t, paRTCP)
	if bye, ok := pkts[len(pkts)-1].(*rtcp.Goodbye); !ok || bye.Sources[0] != c.a.ssrc {
		t.Fatalf("Close sent %v, want a compound ending in BYE", pkts)
	}
}

// TestRTCPDefaultPort: without a=rtcp, RTCP goes to the RTP port + 1
// (RFC 3550 §11), and not at all while the remote is unknown.
func TestRTCPDefaultPort(t *testing.T) {
	clk := newFakeClock()
	e := newTestEngine(t, 25200, 25299, WithClock(clk.Now))
	s := newTestSession(t, e)
	rtcpPhone := newPhone(t)
	e.step(clk.Advance(time.Minute)) // no remote: nothing to send to
	if st := s.Stats(); st.RTCPOut != 0 {
		t.Fatalf("sent RTCP without a remote: %+v", st)
	}
	s.SetRemote(netip.AddrPortFrom(rtcpPhone.addr.Addr(), rtcpPhone.addr.Port()-1), netip.Addr{})
	e.step(clk.Advance(time.Minute))
	pkts := recvRTCP(t, rtcpPhone)
	if rr, ok := pkts[0].(*rtcp.ReceiverReport); !ok || len(rr.Reports) != 0 {
		t.Fatalf("got %v, want an empty RR", pkts)
	}
}

// TestRTCPSharedReader: one reader serves every session's RTCP socket. A
// port flooded with reports does not hold up the others; closed sessions
// leave it; it stops with the last session (no goroutine left) and starts
// again with the next one.
func TestRTCPSharedReader(t *testing.T) {
	e := newTestEngine(t, 25400, 25599)
	g0 := runtime.NumGoroutine()
	ph := newPhone(t)
	rr := marshalRTCP(t, &rtcp.ReceiverReport{SSRC: 0x1111, Reports: []rtcp.ReceptionReport{{SSRC: 0x2222, Jitter: 8}}})
	var ss []*Session
	for range 40 {
		s, err := e.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		s.SetRemote(netip.AddrPortFrom(ph.addr.Addr(), 4000), netip.Addr{}) // RTCP from the SDP IP may latch
		ss = append(ss, s)
	}
	for range 200 {
		ph.send(rtcpOf(ss[0]), rr)
	}
	for _, s := range ss[1:] {
		ph.send(rtcpOf(s), rr)
	}
	eventually(t, "every session's report", func() bool {
		for _, s := range ss[1:] {
			if s.Stats().RTCPIn != 1 {
				return false
			}
		}
		return ss[0].Stats().RTCPIn == 200
	})

	for _, s := range ss[:20] {
		s.Close()
	}
	for _, s := range ss[20:] {
		ph.send(rtcpOf(s), rr)
	}
	eventually(t, "reports after closing half", func() bool {
		for _, s := range ss[20:] {
			if s.Stats().RTCPIn != 2 {
				return false
			}
		}
		return true
	})
	for _, s := range ss[20:] {
		s.Close()
	}
	eventually(t, "reader stopped", func() bool { return runtime.NumGoroutine() <= g0 })

	s := newTestSession(t, e)
	s.SetRemote(netip.AddrPortFrom(ph.addr.Addr(), 4000), netip.Addr{})
	ph.send(rtcpOf(s), rr)
	eventually(t, "report after restart", func() bool { return s.Stats().RTCPIn == 1 })
}
