package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// pingThrough sends RTP packets from one phone through via to the other,
// window packets in flight at a time, and reports per-packet cost.
func pingThrough(b *testing.B, from, to *phone, via netip.AddrPort, window int) {
	pkt := rtpPacket(b, 0, 0, 0, 0x1234, false, make([]byte, 160))
	buf := make([]byte, 2048)
	to.conn.SetReadDeadline(time.Now().Add(time.Minute))
	defer to.conn.SetReadDeadline(time.Time{})
	b.ReportAllocs()
	b.ResetTimer()
	seq := uint16(0)
	for i := 0; i < b.N; i += window {
		n := min(window, b.N-i)
		for range n {
			seq++
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
			if _, err := from.conn.WriteToUDPAddrPort(pkt, via); err != nil {
				b.Fatal(err)
			}
		}
		for range n {
			if _, _, err := to.conn.ReadFromUDPAddrPort(buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

var benchWindows = []struct {
	name   string
	window int
}{{"inflight=1", 1}, {"inflight=16", 16}}

// BenchmarkRelay measures one RTP packet through a Relay on loopback:
// phone A → leg A socket → relay goroutine → leg B socket → phone B.
// Compare with BenchmarkBareUDPLoop, the floor for a Go UDP relay.
func BenchmarkRelay(b *testing.B) {
	for _, w := range benchWindows {
		b.Run(w.name, func(b *testing.B) {
			e := newTestEngine(b, 27000, 27099)
			c := newCall(b, e, RelayConfig{})
			pingThrough(b, c.pa, c.pb, c.a.LocalAddr(), w.window)
		})
	}
	b.Run("transcode/inflight=1", func(b *testing.B) {
		e := newTestEngine(b, 27000, 27099)
		cfg, _ := NewRelayConfig([]Codec{PCMU}, []Codec{PCMA})
		c := newCall(b, e, cfg)
		pingThrough(b, c.pa, c.pb, c.a.LocalAddr(), 1)
	})
}

// BenchmarkBareUDPLoop is a plain Go UDP receive+send loop doing the same
// hop as BenchmarkRelay, without latching, statistics or payload plans.
func BenchmarkBareUDPLoop(b *testing.B) {
	for _, w := range benchWindows {
		b.Run(w.name, func(b *testing.B) {
			pa, pb := newPhone(b), newPhone(b)
			fwd, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Go(func() {
				buf := make([]byte, readBufSize)
				for {
					n, _, err := fwd.ReadFromUDPAddrPort(buf)
					if err != nil {
						return
					}
					fwd.WriteToUDPAddrPort(buf[:n], pb.addr)
				}
			})
			defer wg.Wait()
			defer fwd.Close()
			pingThrough(b, pa, pb, fwd.LocalAddr().(*net.UDPAddr).AddrPort(), w.window)
		})
	}
}

// TestRelayAllocFree: the relay path allocates nothing per packet, pure
// or transcoding.
func TestRelayAllocFree(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []Codec
	}{{"relay", []Codec{PCMU}, []Codec{PCMU}}, {"transcode", []Codec{PCMU}, []Codec{PCMA}}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, 27100, 27199)
			cfg, err := NewRelayConfig(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			c := newCall(t, e, cfg)
			pkt := rtpPacket(t, 0, 0, 0, 0x1234, false, make([]byte, 160))
			buf := make([]byte, 2048)
			via := c.a.LocalAddr()
			c.pb.conn.SetReadDeadline(time.Now().Add(time.Minute))
			seq := uint16(0)
			roundTrip := func() {
				seq++
				binary.BigEndian.PutUint16(pkt[2:], seq)
				c.pa.conn.WriteToUDPAddrPort(pkt, via)
				if _, _, err := c.pb.conn.ReadFromUDPAddrPort(buf); err != nil {
					t.Fatal(err)
				}
			}
			roundTrip() // latch
			if allocs := testing.AllocsPerRun(500, roundTrip); allocs != 0 {
				t.Fatalf("%v allocations per packet", allocs)
			}
		})
	}
}

// BenchmarkPacketPathCPU is the relay's own work per packet without the
// socket calls: header parse, latch check, reception statistics, payload
// plan (here PCMU→PCMA) and send accounting — what BenchmarkRelay adds to
// BenchmarkBareUDPLoop, apart from scheduling.
func BenchmarkPacketPathCPU(b *testing.B) {
	e := newTestEngine(b, 27200, 27299)
	s := newTestSession(b, e)
	src := netip.MustParseAddrPort("192.0.2.1:4000")
	s.SetRemote(src, netip.Addr{})
	plan, err := DirectionConfig{Map: []PayloadMap{{PCMU, PCMA}}}.compile()
	if err != nil {
		b.Fatal(err)
	}
	d := &direction{plan: plan}
	pkt := rtpPacket(b, 0, 0, 0, 0x1234, false, make([]byte, 160))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		pkt[1] = 0
		pr := s.peer.Load()
		p, _ := parseRTP(pkt)
		if !pr.latched.IsValid() {
			s.latch(pr, src)
		}
		p.at = e.now()
		rate := s.clocks.Load()[p.pt]
		s.rxMu.Lock()
		s.rx.update(&p, len(pkt), rate, p.at.Sub(s.start))
		s.rxMu.Unlock()
		act := &d.plan[p.pt]
		act.tc.apply(pkt[p.payload:p.end])
		setPayloadType(pkt, act.pt)
		_ = s.peer.Load().dest()
		s.txMu.Lock()
		s.tx.update(&p, len(pkt), rate)
		s.txMu.Unlock()
	}
}
