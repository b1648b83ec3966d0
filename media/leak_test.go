package media

import (
	"context"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
)

func countFDs(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("cannot count file descriptors: %v", err)
	}
	return len(fds)
}

// TestNoLeaks creates, relays and closes 1,000 sessions (500 calls) on a
// pool of 200 pairs, with Run ticking; goroutines, open file descriptors
// and ports in use return to the baseline. Half the calls stop the relay
// first, half close the sessions under the running relay.
func TestNoLeaks(t *testing.T) {
	e := newTestEngine(t, 26000, 26399, withTick(10*time.Millisecond))
	pa, pb := newPhone(t), newPhone(t)
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error)
	go func() { ran <- e.Run(ctx) }()
	defer func() { cancel(); <-ran }()

	g0, fd0 := runtime.NumGoroutine(), countFDs(t)
	for i := range 500 {
		a, err := e.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		a.SetRemote(pa.addr, netip.Addr{})
		b.SetRemote(pb.addr, netip.Addr{})
		r, err := NewRelay(a, b, RelayConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		pa.send(a.LocalAddr(), rtpPacket(t, 0, uint16(i), 0, 1, false, []byte{1}))
		pb.mustRecv()
		pb.send(b.LocalAddr(), rtpPacket(t, 0, uint16(i), 0, 2, false, []byte{2}))
		pa.mustRecv()
		if i%2 == 0 {
			r.Stop()
			a.Close()
			b.Close()
		} else {
			a.Close()
			b.Close()
			r.Stop()
		}
	}
	if st := e.Stats(); st.Sessions != 0 || st.PortsInUse != 0 {
		t.Fatalf("engine after 1,000 sessions: %+v", st)
	}
	eventually(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= g0 })
	if fd := countFDs(t); fd > fd0 {
		t.Fatalf("open fds %d, baseline %d", fd, fd0)
	}
}
