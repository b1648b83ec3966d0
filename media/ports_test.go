package media

import (
	"errors"
	"net"
	"testing"

	"github.com/switchd/switchd/internal/config"
)

func TestPortPairs(t *testing.T) {
	for _, tc := range []struct {
		lo, hi, want int
	}{
		{10000, 20000, 5000}, {10000, 10001, 1}, {10001, 10002, 0}, {10001, 10004, 1},
		{10000, 10000, 0}, {20000, 10000, 0}, {0, 3, 1}, {65534, 65535, 1},
	} {
		if got := portPairs(config.PortRange{Min: tc.lo, Max: tc.hi}); got != tc.want {
			t.Errorf("portPairs(%d-%d) = %d, want %d", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// TestPortPoolExhaustion: three pairs give three sessions, the fourth gets
// ErrNoPorts; closing one frees its pair.
func TestPortPoolExhaustion(t *testing.T) {
	e := newTestEngine(t, 24500, 24505)
	var ss []*Session
	for range 3 {
		s := newTestSession(t, e)
		if p := s.LocalAddr().Port(); p%2 != 0 || p < 24500 || p > 24504 {
			t.Fatalf("RTP port %d", p)
		}
		ss = append(ss, s)
	}
	if st := e.Stats(); st.Sessions != 3 || st.PortsInUse != 6 || st.PortsTotal != 6 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := e.NewSession(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("fourth session: %v", err)
	}
	freed := ss[1].LocalAddr()
	ss[1].Close()
	ss[1].Close()
	if st := e.Stats(); st.Sessions != 2 || st.PortsInUse != 4 {
		t.Fatalf("stats after close %+v", st)
	}
	s := newTestSession(t, e)
	if s.LocalAddr() != freed {
		t.Fatalf("got %v, want the freed pair %v", s.LocalAddr(), freed)
	}
}

// TestPortPoolSkipsForeign: a pair another process holds (either port) is
// skipped, not handed out and not an error.
func TestPortPoolSkipsForeign(t *testing.T) {
	held, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 24601}) // RTCP port of the first pair
	if err != nil {
		t.Fatalf("cannot hold port 24601 for the test: %v", err)
	}
	defer held.Close()
	e := newTestEngine(t, 24600, 24603)
	s := newTestSession(t, e)
	if got := s.LocalAddr().Port(); got != 24602 {
		t.Fatalf("got port %d, want 24602 (24600/24601 is held)", got)
	}
	if _, err := e.NewSession(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("second session: %v", err)
	}
	if st := e.Stats(); st.PortsInUse != 2 {
		t.Fatalf("a skipped pair must not stay reserved: %+v", st)
	}
}

// TestPortPoolRoundRobin: a released pair is not reused at once.
func TestPortPoolRoundRobin(t *testing.T) {
	p := newPortPool(config.PortRange{Min: 1000, Max: 1005})
	a, _ := p.reserve()
	p.release(a)
	b, _ := p.reserve()
	if a == b {
		t.Fatalf("pair %d reused at once", a)
	}
}

func TestEngineClose(t *testing.T) {
	e := newTestEngine(t, 24700, 24799)
	s1 := newTestSession(t, e)
	newTestSession(t, e)
	e.Close()
	e.Close()
	if st := e.Stats(); st.Sessions != 0 || st.PortsInUse != 0 {
		t.Fatalf("after Close: %+v", st)
	}
	if !s1.closed.Load() {
		t.Fatal("engine Close left a session open")
	}
	if _, err := e.NewSession(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewSession after Close: %v", err)
	}
}

func TestBindAddressInvalid(t *testing.T) {
	cfg := testConfig(24800, 24899)
	cfg.BindAddress = "203.0.113.9" // not a local address
	e, err := NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.NewSession(); err == nil || errors.Is(err, ErrNoPorts) {
		t.Fatalf("binding a foreign address: %v", err)
	}
	if st := e.Stats(); st.PortsInUse != 0 {
		t.Fatalf("failed bind leaked a pair: %+v", st)
	}
}
