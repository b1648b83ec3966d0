package media

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchd/switchd/internal/config"
)

// Tests bind on loopback in 23000–29999, clear of the default range other
// packages' tests and a running switchd may use.
func testConfig(lo, hi int) Config {
	cfg := DefaultConfig()
	cfg.RTPPorts = config.PortRange{Min: lo, Max: hi}
	cfg.BindAddress = "127.0.0.1"
	return cfg
}

func newTestEngine(t testing.TB, lo, hi int, opts ...Option) *Engine {
	t.Helper()
	e, err := NewEngine(testConfig(lo, hi), nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func newTestSession(t testing.TB, e *Engine) *Session {
	t.Helper()
	s, err := e.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// phone is a UDP socket on loopback standing in for a phone (or an
// attacker).
type phone struct {
	t    testing.TB
	conn *net.UDPConn
	addr netip.AddrPort
}

func newPhone(t testing.TB) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &phone{t: t, conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
}

func (p *phone) send(to netip.AddrPort, pkt []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(pkt, to); err != nil {
		p.t.Fatal(err)
	}
}

// recv returns the next datagram, or false after timeout.
func (p *phone) recv(timeout time.Duration) ([]byte, netip.AddrPort, bool) {
	buf := make([]byte, 2048)
	p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, netip.AddrPort{}, false
	}
	return buf[:n], from, true
}

// mustRecv fails the test unless a datagram arrives within a second.
func (p *phone) mustRecv() []byte {
	p.t.Helper()
	b, _, ok := p.recv(time.Second)
	if !ok {
		p.t.Fatal("no packet arrived")
	}
	return b
}

// expectNothing fails the test if a datagram arrives within d.
func (p *phone) expectNothing(d time.Duration) {
	p.t.Helper()
	if b, from, ok := p.recv(d); ok {
		p.t.Fatalf("unexpected packet of %d bytes from %s", len(b), from)
	}
}

func rtpPacket(t testing.TB, pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{
		Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: marker,
	}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseTestRTP(t testing.TB, b []byte) *rtp.Packet {
	t.Helper()
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		t.Fatalf("received packet is not RTP: %v", err)
	}
	return &p
}

// call is two sessions with their phones and a running relay.
type call struct {
	a, b   *Session
	pa, pb *phone
	relay  *Relay
}

// newCall sets up two legs whose phones are pa and pb (SDP addresses,
// no SIP source) and starts a relay with cfg.
func newCall(t testing.TB, e *Engine, cfg RelayConfig) *call {
	t.Helper()
	c := &call{a: newTestSession(t, e), b: newTestSession(t, e), pa: newPhone(t), pb: newPhone(t)}
	c.a.SetRemote(c.pa.addr, netip.Addr{})
	c.b.SetRemote(c.pb.addr, netip.Addr{})
	r, err := NewRelay(c.a, c.b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	c.relay = r
	return c
}

// eventually polls cond for up to two seconds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
