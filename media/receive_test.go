package media

import (
	"math"
	"testing"
	"time"
)

// feed gives r one packet of source ssrc with sequence seq, timestamp ts,
// arriving at the given time (8 kHz PCMU).
func feed(r *receiver, ssrc uint32, seq uint16, ts uint32, at time.Duration) {
	r.update(&rtpInfo{ssrc: ssrc, seq: seq, ts: ts}, 172, 8000, at)
}

func TestReceiverLoss(t *testing.T) {
	var r receiver
	// seq 1 is the probation packet (RFC 3550 §A.1): counting starts at 2.
	for seq := uint16(1); seq <= 100; seq++ {
		if seq == 50 || seq == 51 {
			continue
		}
		feed(&r, 1, seq, uint32(seq)*160, time.Duration(seq)*20*time.Millisecond)
	}
	if got := r.lost(); got != 2 {
		t.Fatalf("lost %d, want 2", got)
	}
	blk, ok := r.report(0, 0)
	if !ok || blk.TotalLost != 2 || blk.LastSequenceNumber != 100 || blk.FractionLost != uint8(2*256/99) {
		t.Fatalf("report %+v", blk)
	}
	// Next interval: 4 expected, 3 arrived → 1/4 = 64/256.
	feed(&r, 1, 101, 0, 0)
	feed(&r, 1, 103, 0, 0)
	feed(&r, 1, 104, 0, 0)
	blk, _ = r.report(0, 0)
	if blk.FractionLost != 64 || blk.TotalLost != 3 {
		t.Fatalf("second report %+v", blk)
	}
	// A new SSRC starts over; the old source's loss is kept for the CDR.
	for seq := uint16(7); seq < 12; seq++ {
		feed(&r, 2, seq, 0, 0)
	}
	if got := r.lostBefore + r.lost(); got != 3 || r.packets != 98+3+5 {
		t.Fatalf("after SSRC change: lost %d, packets %d", got, r.packets)
	}
}

func TestReceiverWrapAndReorder(t *testing.T) {
	var r receiver
	seqs := []uint16{65530, 65531, 65532, 65534, 65533, 65535, 0, 1, 1, 2}
	for _, s := range seqs {
		feed(&r, 9, s, 0, 0)
	}
	if r.extendedMax() != 1<<16+2 {
		t.Fatalf("extended max %d", r.extendedMax())
	}
	// 65531..2 is 8 packets expected; 9 counted (one duplicate).
	if got := r.lost(); got != -1 {
		t.Fatalf("lost %d, want -1 (a duplicate)", got)
	}
}

func TestReceiverJitter(t *testing.T) {
	var r receiver
	// Perfectly paced 20 ms packets: no jitter.
	for i := range 100 {
		feed(&r, 1, uint16(i), uint32(160*i), time.Duration(i)*20*time.Millisecond)
	}
	if r.jitterMs() != 0 {
		t.Fatalf("jitter %v ms for paced packets", r.jitterMs())
	}
	// Every other packet 10 ms late: |D| is 10 ms each time, and the
	// estimate converges to it (RFC 3550 §A.8).
	for i := 100; i < 1100; i++ {
		at := time.Duration(i) * 20 * time.Millisecond
		if i%2 == 1 {
			at += 10 * time.Millisecond
		}
		feed(&r, 1, uint16(i), uint32(160*i), at)
	}
	if j := r.jitterMs(); math.Abs(j-10) > 0.5 {
		t.Fatalf("jitter %.2f ms, want ≈10", j)
	}
	// Telephone events (rate 0) do not disturb it.
	before := r.jitter
	r.update(&rtpInfo{ssrc: 1, seq: 1100, ts: 1}, 16, 0, time.Hour)
	if r.jitter != before {
		t.Fatal("a telephone-event packet changed the jitter")
	}
}

// TestSessionJitterWithClock: the jitter in Stats comes from the real
// packet path (arrival times from the engine clock).
func TestSessionJitterWithClock(t *testing.T) {
	clk := newFakeClock()
	e := newTestEngine(t, 25300, 25399, WithClock(clk.Now))
	c := newCall(t, e, RelayConfig{})
	for i := range 20 {
		if i%2 == 1 {
			clk.Advance(40 * time.Millisecond)
		}
		c.pa.send(c.a.LocalAddr(), rtpPacket(t, 0, uint16(i), uint32(160*i), 5, false, []byte{0xff}))
		c.pb.mustRecv()
	}
	if st := c.a.Stats(); st.JitterMs <= 0 || st.PacketsIn != 20 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
}
