package media

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestRelayBothWays: in a pure relay the packets arrive byte for byte as
// sent, headers included, in both directions, from switchd's leg address.
func TestRelayBothWays(t *testing.T) {
	e := newTestEngine(t, 23400, 23499)
	c := newCall(t, e, RelayConfig{})
	for i := range 20 {
		ab := rtpPacket(t, 0, uint16(1000+i), uint32(160*i), 0xaaaa, i == 0, bytes.Repeat([]byte{byte(i)}, 160))
		c.pa.send(c.a.LocalAddr(), ab)
		got, from, ok := c.pb.recv(time.Second)
		if !ok || !bytes.Equal(got, ab) || from != c.b.LocalAddr() {
			t.Fatalf("A→B packet %d: ok=%v equal=%v from %v", i, ok, bytes.Equal(got, ab), from)
		}
		ba := rtpPacket(t, 0, uint16(5000+i), uint32(9000+160*i), 0xbbbb, false, bytes.Repeat([]byte{byte(255 - i)}, 160))
		c.pb.send(c.b.LocalAddr(), ba)
		got, from, ok = c.pa.recv(time.Second)
		if !ok || !bytes.Equal(got, ba) || from != c.a.LocalAddr() {
			t.Fatalf("B→A packet %d: ok=%v from %v", i, ok, from)
		}
	}
	// Counters are updated after the send: the last one may trail its packet.
	eventually(t, "counters", func() bool {
		return c.relay.Stats().BToA.Forwarded == 20 && c.a.Stats().PacketsOut == 20 && c.b.Stats().PacketsOut == 20
	})
	st := c.relay.Stats()
	if st.AToB.Forwarded != 20 || st.BToA.Forwarded != 20 || st.AToB.Transcoded != 0 {
		t.Fatalf("relay stats %+v", st)
	}
	as, bs := c.a.Stats(), c.b.Stats()
	if as.PacketsIn != 20 || as.PacketsOut != 20 || bs.PacketsIn != 20 || bs.PacketsOut != 20 {
		t.Fatalf("session stats a=%+v b=%+v", as, bs)
	}
	if as.BytesIn != 20*172 || bs.BytesOut != 20*172 {
		t.Fatalf("bytes a in %d, b out %d", as.BytesIn, bs.BytesOut)
	}
	if as.Lost != 0 {
		t.Fatalf("lost %d", as.Lost)
	}
}

// TestRelayDropsWithoutRemote: until the far leg's address is known,
// packets are dropped and counted.
func TestRelayDropsWithoutRemote(t *testing.T) {
	e := newTestEngine(t, 23500, 23599)
	a, b := newTestSession(t, e), newTestSession(t, e)
	pa := newPhone(t)
	a.SetRemote(pa.addr, pa.addr.Addr())
	r, err := NewRelay(a, b, RelayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	for i := range 3 {
		pa.send(a.LocalAddr(), rtpPacket(t, 0, uint16(i), 0, 1, false, []byte{1}))
	}
	eventually(t, "no-remote drops", func() bool { return r.Stats().AToB.DroppedNoRemote == 3 })
}

func TestRelayDropUnmapped(t *testing.T) {
	e := newTestEngine(t, 23600, 23699)
	cfg, err := NewRelayConfig([]Codec{PCMU}, []Codec{PCMU})
	if err != nil {
		t.Fatal(err)
	}
	c := newCall(t, e, cfg)
	c.pa.send(c.a.LocalAddr(), rtpPacket(t, 18, 1, 0, 1, false, []byte{1})) // G.729: not negotiated
	eventually(t, "unmapped drop", func() bool { return c.relay.Stats().AToB.DroppedUnmapped == 1 })
	c.pb.expectNothing(50 * time.Millisecond)
	pcmu := rtpPacket(t, 0, 2, 160, 1, false, []byte{1})
	c.pa.send(c.a.LocalAddr(), pcmu)
	if got := c.pb.mustRecv(); !bytes.Equal(got, pcmu) {
		t.Fatal("PCMU altered")
	}
}

// TestRelayTelephoneEventRewrite: RFC 4733 events travel under PT 101 on
// leg A and PT 96 on leg B; only the PT changes (marker, timestamps and
// the event payload stay).
func TestRelayTelephoneEventRewrite(t *testing.T) {
	e := newTestEngine(t, 23700, 23799)
	cfg, err := NewRelayConfig([]Codec{PCMU, TelephoneEvent(101)}, []Codec{PCMU, TelephoneEvent(96)})
	if err != nil {
		t.Fatal(err)
	}
	c := newCall(t, e, cfg)
	// Digit 5, end bit, volume 10, duration 800 (RFC 4733 §2.3).
	event := []byte{5, 0x80 | 10, 0x03, 0x20}
	c.pa.send(c.a.LocalAddr(), rtpPacket(t, 101, 42, 8000, 0xabc, true, event))
	got := parseTestRTP(t, c.pb.mustRecv())
	if got.PayloadType != 96 || !got.Marker || got.SequenceNumber != 42 || got.Timestamp != 8000 || got.SSRC != 0xabc || !bytes.Equal(got.Payload, event) {
		t.Fatalf("A→B event: %v", got)
	}
	c.pb.send(c.b.LocalAddr(), rtpPacket(t, 96, 7, 160, 0xdef, false, event))
	got = parseTestRTP(t, c.pa.mustRecv())
	if got.PayloadType != 101 || got.Marker || !bytes.Equal(got.Payload, event) {
		t.Fatalf("B→A event: %v", got)
	}
	// Audio is untouched.
	audio := rtpPacket(t, 0, 43, 8160, 0xabc, false, []byte{0x7f, 0xff, 0x00})
	c.pa.send(c.a.LocalAddr(), audio)
	if !bytes.Equal(c.pb.mustRecv(), audio) {
		t.Fatal("audio altered")
	}
}

func TestRelayLifecycle(t *testing.T) {
	e := newTestEngine(t, 23800, 23899)
	a, b, x := newTestSession(t, e), newTestSession(t, e), newTestSession(t, e)
	if _, err := NewRelay(a, a, RelayConfig{}); err == nil {
		t.Fatal("relay of a session with itself")
	}
	r1, _ := NewRelay(a, b, RelayConfig{})
	ctx, cancel := context.WithCancel(t.Context())
	if err := r1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r1.Start(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Start: %v", err)
	}
	r2, _ := NewRelay(b, x, RelayConfig{})
	if err := r2.Start(t.Context()); !errors.Is(err, ErrBusy) {
		t.Fatalf("second reader: %v", err)
	}
	if x.reader.Load() {
		t.Fatal("failed Start left a claim")
	}
	cancel() // the context ends forwarding
	eventually(t, "pumps to stop", func() bool { return r1.stopping.Load() })
	r1.Stop()
	r1.Stop()
	if err := r1.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Stop: %v", err)
	}
	// The sessions are free for a new relay, and it forwards.
	if err := r2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer r2.Stop()
	pb, px := newPhone(t), newPhone(t)
	b.SetRemote(pb.addr, netip.Addr{})
	x.SetRemote(px.addr, netip.Addr{})
	pb.send(b.LocalAddr(), rtpPacket(t, 0, 1, 0, 1, false, []byte("after")))
	px.mustRecv()
	// Closing a session ends its direction; Stop still returns.
	b.Close()
	r2.Stop()
}

func TestNewRelayConfig(t *testing.T) {
	cfg, err := NewRelayConfig(
		[]Codec{PCMU, TelephoneEvent(101)},
		[]Codec{PCMA, TelephoneEvent(96)})
	if err != nil {
		t.Fatal(err)
	}
	want := DirectionConfig{DropUnmapped: true, Map: []PayloadMap{{PCMU, PCMA}, {TelephoneEvent(101), TelephoneEvent(96)}}}
	if !equalDirection(cfg.AToB, want) {
		t.Fatalf("A→B = %+v", cfg.AToB)
	}
	want = DirectionConfig{DropUnmapped: true, Map: []PayloadMap{{PCMA, PCMU}, {TelephoneEvent(96), TelephoneEvent(101)}}}
	if !equalDirection(cfg.BToA, want) {
		t.Fatalf("B→A = %+v", cfg.BToA)
	}

	// A common codec wins over transcoding; dynamic PTs are matched by name.
	g722 := Codec{Name: "G722", PayloadType: 9, ClockRate: 8000}
	cfg, err = NewRelayConfig([]Codec{PCMU, PCMA, g722}, []Codec{PCMA, {Name: "pcmu", PayloadType: 0, ClockRate: 8000}})
	if err != nil {
		t.Fatal(err)
	}
	want = DirectionConfig{DropUnmapped: true, Map: []PayloadMap{{PCMU, Codec{Name: "pcmu", ClockRate: 8000}}, {PCMA, PCMA}}}
	if !equalDirection(cfg.AToB, want) {
		t.Fatalf("A→B = %+v", cfg.AToB)
	}

	if _, err := NewRelayConfig([]Codec{g722}, []Codec{PCMU}); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("no common codec: %v", err)
	}
	if _, err := NewRelayConfig([]Codec{TelephoneEvent(101)}, []Codec{TelephoneEvent(101)}); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("events only: %v", err)
	}
	e := newTestEngine(t, 23900, 23999)
	a, b := newTestSession(t, e), newTestSession(t, e)
	if _, err := NewRelay(a, b, RelayConfig{AToB: DirectionConfig{Map: []PayloadMap{{g722, PCMU}}}}); !errors.Is(err, ErrCodec) {
		t.Fatalf("G.722→PCMU: %v", err)
	}
	if _, err := NewRelay(a, b, RelayConfig{BToA: DirectionConfig{Map: []PayloadMap{{PCMU, PCMU}, {PCMU, PCMA}}}}); !errors.Is(err, ErrCodec) {
		t.Fatalf("PT mapped twice: %v", err)
	}
}

func equalDirection(a, b DirectionConfig) bool {
	if a.DropUnmapped != b.DropUnmapped || len(a.Map) != len(b.Map) {
		return false
	}
	for i := range a.Map {
		if a.Map[i] != b.Map[i] {
			return false
		}
	}
	return true
}
