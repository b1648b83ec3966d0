package media

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestTimeout drives the timeout step with a fake clock: it fires once
// after the configured silence, not before and not again.
func TestTimeout(t *testing.T) {
	clk := newFakeClock()
	e := newTestEngine(t, 24100, 24199, WithClock(clk.Now))
	s := newTestSession(t, e)
	var fired atomic.Int32
	s.OnTimeout(func() { fired.Add(1) })

	// Not armed: a ringing leg that never sent RTP is left alone.
	e.checkTimeouts(clk.Advance(time.Hour))
	if fired.Load() != 0 {
		t.Fatal("fired before being armed")
	}

	s.SetTimeout(30 * time.Second) // answered
	e.checkTimeouts(clk.Advance(29 * time.Second))
	if fired.Load() != 0 {
		t.Fatal("fired early")
	}
	e.checkTimeouts(clk.Advance(time.Second))
	if fired.Load() != 1 {
		t.Fatalf("fired %d times after 30s, want 1", fired.Load())
	}
	e.checkTimeouts(clk.Advance(time.Minute))
	if fired.Load() != 1 {
		t.Fatal("fired twice")
	}
	s.SetTimeout(30 * time.Second) // re-armed
	e.checkTimeouts(clk.Advance(30 * time.Second))
	if fired.Load() != 2 {
		t.Fatal("re-armed timeout did not fire")
	}
}

// TestTimeoutNotOnHold: no timeout while on hold; resuming starts a fresh
// period.
func TestTimeoutNotOnHold(t *testing.T) {
	clk := newFakeClock()
	e := newTestEngine(t, 24200, 24299, WithClock(clk.Now))
	s := newTestSession(t, e)
	var fired atomic.Int32
	s.OnTimeout(func() { fired.Add(1) })
	s.SetTimeout(30 * time.Second)
	s.SetOnHold(true)
	e.checkTimeouts(clk.Advance(10 * time.Minute))
	if fired.Load() != 0 {
		t.Fatal("fired on hold")
	}
	s.SetOnHold(false)
	e.checkTimeouts(clk.Advance(29 * time.Second))
	if fired.Load() != 0 {
		t.Fatal("fired right after resuming")
	}
	e.checkTimeouts(clk.Advance(time.Second))
	if fired.Load() != 1 {
		t.Fatal("did not fire 30s after resuming")
	}
}

// TestTimeoutPacketsRestartClock: RTP restarts the silence, and the first
// packet arms the clock with media.rtp_timeout.
func TestTimeoutPacketsRestartClock(t *testing.T) {
	clk := newFakeClock()
	cfg := testConfig(24300, 24399)
	cfg.RTPTimeout = 20_000_000_000 // 20s
	e, err := NewEngine(cfg, nil, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := newCall(t, e, RelayConfig{})
	var fired atomic.Int32
	c.a.OnTimeout(func() { fired.Add(1) })

	send := func(seq uint16) {
		c.pa.send(c.a.LocalAddr(), rtpPacket(t, 0, seq, uint32(seq)*160, 1, false, []byte{0}))
		c.pb.mustRecv()
	}
	send(1) // arms on the next check
	e.checkTimeouts(clk.Advance(time.Second))
	e.checkTimeouts(clk.Advance(19 * time.Second))
	send(2)
	e.checkTimeouts(clk.Advance(time.Second)) // activity seen: silence restarts here
	e.checkTimeouts(clk.Advance(19 * time.Second))
	if fired.Load() != 0 {
		t.Fatal("fired although packets kept coming")
	}
	e.checkTimeouts(clk.Advance(time.Second))
	if fired.Load() != 1 {
		t.Fatal("did not fire 20s after the last packet")
	}
}

// TestRunTicker checks the engine loop in virtual time: one step per
// interval, and it returns when its context ends or the engine closes.
func TestRunTicker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var steps []time.Time
		done := make(chan struct{})
		go func() {
			defer close(done)
			runTicker(ctx, nil, time.Second, func(now time.Time) { steps = append(steps, now) })
		}()
		time.Sleep(10*time.Second + time.Millisecond)
		synctest.Wait()
		if len(steps) != 10 {
			t.Fatalf("%d steps in 10s, want 10", len(steps))
		}
		cancel()
		<-done

		// Engine.Run: no sockets are opened until NewSession, so the
		// engine can live in the bubble.
		e, err := NewEngine(testConfig(24400, 24499), nil)
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error)
		go func() { ran <- e.Run(t.Context()) }()
		synctest.Wait()
		if err := e.Run(t.Context()); err != ErrRunning {
			t.Fatalf("second Run: %v", err)
		}
		time.Sleep(5 * time.Second)
		e.Close()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
	})
}
