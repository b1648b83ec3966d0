package media

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// TestLatchingRejectsBleed: a third party that sends to a leg's port —
// before or after the phone — is dropped and counted, and none of its
// packets reach the other leg (the RTP bleed attack).
func TestLatchingRejectsBleed(t *testing.T) {
	e := newTestEngine(t, 23000, 23099)
	c := newCall(t, e, RelayConfig{})
	attacker := newPhone(t)

	// Before the phone: the attacker may not latch.
	attacker.send(c.a.LocalAddr(), rtpPacket(t, 0, 1, 160, 0xbad, false, []byte("evil")))
	eventually(t, "first foreign drop", func() bool { return c.a.Stats().DroppedForeign == 1 })
	c.pb.expectNothing(50 * time.Millisecond)

	// The phone latches.
	good := rtpPacket(t, 0, 100, 16000, 0x1234, false, []byte("hello"))
	c.pa.send(c.a.LocalAddr(), good)
	if got := c.pb.mustRecv(); !bytes.Equal(got, good) {
		t.Fatalf("relayed packet differs")
	}
	if remote, latched := c.a.Remote(); !latched || remote != c.pa.addr {
		t.Fatalf("remote = %v latched=%v, want %v latched", remote, latched, c.pa.addr)
	}

	// After latching: still dropped, never forwarded.
	for i := range 5 {
		attacker.send(c.a.LocalAddr(), rtpPacket(t, 0, uint16(2+i), 320, 0xbad, false, []byte("evil")))
	}
	eventually(t, "foreign drops", func() bool { return c.a.Stats().DroppedForeign == 6 })
	c.pb.expectNothing(50 * time.Millisecond)

	// And the attacker gets nothing of leg B's audio.
	c.pb.send(c.b.LocalAddr(), rtpPacket(t, 0, 7, 160, 0x5678, false, []byte("reply")))
	c.pa.mustRecv()
	attacker.expectNothing(50 * time.Millisecond)

	st := c.a.Stats()
	if st.PacketsIn != 1 || st.DroppedForeign != 6 || !st.Latched || st.Remote != c.pa.addr {
		t.Fatalf("stats = %+v", st)
	}
}

// TestLatchingNATSource: a phone behind NAT signals a private address in
// SDP; its packets come from another port of the SIP source IP, latch,
// and from then on switchd answers to that port. Another port of the same
// IP cannot take over.
func TestLatchingNATSource(t *testing.T) {
	e := newTestEngine(t, 23100, 23199)
	c := newCall(t, e, RelayConfig{})
	// Leg A: SDP says 10.0.0.7 (behind the NAT), SIP came from 127.0.0.1.
	c.a.SetRemote(netip.MustParseAddrPort("10.0.0.7:4000"), netip.MustParseAddr("127.0.0.1"))

	c.pa.send(c.a.LocalAddr(), rtpPacket(t, 0, 1, 160, 1, false, []byte("x")))
	c.pb.mustRecv()
	c.pb.send(c.b.LocalAddr(), rtpPacket(t, 0, 1, 160, 2, false, []byte("y")))
	if _, from, ok := c.pa.recv(time.Second); !ok || from != c.a.LocalAddr() {
		t.Fatalf("reply to NATed phone: ok=%v from %v (symmetric RTP: must come from %v)", ok, from, c.a.LocalAddr())
	}

	other := newPhone(t) // same IP, another port: not the latched source
	other.send(c.a.LocalAddr(), rtpPacket(t, 0, 2, 320, 1, false, []byte("z")))
	eventually(t, "foreign drop", func() bool { return c.a.Stats().DroppedForeign == 1 })
	c.pb.expectNothing(50 * time.Millisecond)
}

// TestLatchingSDPAddressTakesOver: a stale stream from the carrier's IP
// (another call's, still sent to a port just reused for this one) latches
// first because it comes from the SIP source IP; the first packet from the
// exact SDP address takes the latch over, and the stale stream is foreign
// from then on.
func TestLatchingSDPAddressTakesOver(t *testing.T) {
	e := newTestEngine(t, 24900, 24999)
	c := newCall(t, e, RelayConfig{})
	c.a.SetRemote(c.pa.addr, netip.MustParseAddr("127.0.0.1"))
	stale := newPhone(t)

	stale.send(c.a.LocalAddr(), rtpPacket(t, 0, 1, 160, 0x5a1e, false, []byte("stale")))
	c.pb.mustRecv()
	if remote, _ := c.a.Remote(); remote != stale.addr {
		t.Fatalf("remote %v, want the stale stream %v latched by the SIP IP", remote, stale.addr)
	}

	c.pa.send(c.a.LocalAddr(), rtpPacket(t, 0, 100, 16000, 0x1234, false, []byte("mine")))
	if got := parseTestRTP(t, c.pb.mustRecv()); string(got.Payload) != "mine" {
		t.Fatalf("payload %q, want the SDP address's", got.Payload)
	}
	if remote, latched := c.a.Remote(); !latched || remote != c.pa.addr {
		t.Fatalf("remote %v latched=%v, want %v", remote, latched, c.pa.addr)
	}
	c.pb.send(c.b.LocalAddr(), rtpPacket(t, 0, 7, 160, 0x5678, false, []byte("reply")))
	c.pa.mustRecv()

	stale.send(c.a.LocalAddr(), rtpPacket(t, 0, 2, 320, 0x5a1e, false, []byte("stale")))
	eventually(t, "stale stream dropped", func() bool { return c.a.Stats().DroppedForeign == 1 })
	c.pb.expectNothing(50 * time.Millisecond)
	stale.expectNothing(50 * time.Millisecond)
}

// TestLatchingBeforeSetRemoteAndRearm: nothing is accepted before the
// remote is signalled; SetRemote on a re-INVITE re-arms latching for the
// new address, after which the old phone is foreign.
func TestLatchingBeforeSetRemoteAndRearm(t *testing.T) {
	e := newTestEngine(t, 23200, 23299)
	a := newTestSession(t, e)
	b := newTestSession(t, e)
	pa, pb, moved := newPhone(t), newPhone(t), newPhone(t)
	b.SetRemote(pb.addr, netip.Addr{})
	r, err := NewRelay(a, b, RelayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()

	pa.send(a.LocalAddr(), rtpPacket(t, 0, 1, 160, 1, false, []byte("early")))
	eventually(t, "drop before SetRemote", func() bool { return a.Stats().DroppedForeign == 1 })

	a.SetRemote(pa.addr, netip.Addr{})
	pa.send(a.LocalAddr(), rtpPacket(t, 0, 2, 320, 1, false, []byte("one")))
	pb.mustRecv()

	// re-INVITE: the leg moves to another address.
	a.SetRemote(moved.addr, netip.Addr{})
	if _, latched := a.Remote(); latched {
		t.Fatal("SetRemote must re-arm latching")
	}
	pa.send(a.LocalAddr(), rtpPacket(t, 0, 3, 480, 1, false, []byte("old")))
	eventually(t, "old address dropped", func() bool { return a.Stats().DroppedForeign == 2 })
	moved.send(a.LocalAddr(), rtpPacket(t, 0, 1, 160, 9, false, []byte("new")))
	if got := parseTestRTP(t, pb.mustRecv()); string(got.Payload) != "new" {
		t.Fatalf("payload %q", got.Payload)
	}
	if remote, latched := a.Remote(); !latched || remote != moved.addr {
		t.Fatalf("remote %v latched=%v, want %v", remote, latched, moved.addr)
	}
}

func TestSetRemoteUnspecifiedStopsSending(t *testing.T) {
	e := newTestEngine(t, 23300, 23399)
	s := newTestSession(t, e)
	s.SetRemote(netip.MustParseAddrPort("0.0.0.0:4000"), netip.Addr{})
	if d, _ := s.Remote(); d.IsValid() {
		t.Fatalf("c=0.0.0.0 gives remote %v", d)
	}
	s.SetRemote(netip.MustParseAddrPort("[::ffff:192.0.2.1]:0"), netip.Addr{})
	if d, _ := s.Remote(); d.IsValid() {
		t.Fatalf("port 0 gives remote %v", d)
	}
}
