package mixer

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// TestRunTicks: Run mixes one frame every 20 ms of (virtual) time and
// ends with its context.
func TestRunTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(Config{})
		a, _ := m.Join("a", JoinConfig{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		if n := m.Stats().Frames; n != 50 {
			t.Errorf("%d frames in 1 s, want 50", n)
		}
		if err := m.Run(ctx); !errors.Is(err, ErrRunning) {
			t.Errorf("second Run: %v", err)
		}
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if n := m.Stats().Frames; n != 500 {
			t.Errorf("%d frames in 10 s, want 500 (drift)", n)
		}
		if st := a.Stats(); st.OutFrames != 500 {
			t.Errorf("a got %d frames", st.OutFrames)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestRunClose: Close ends Run, and Run on a closed mixer fails.
func TestRunClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(Config{})
		done := make(chan error)
		go func() { done <- m.Run(t.Context()) }()
		time.Sleep(100 * time.Millisecond)
		m.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := m.Run(t.Context()); !errors.Is(err, ErrClosed) {
			t.Errorf("Run after Close: %v", err)
		}
	})
}

// TestToSkip: Run catches up to maxCatchUp late frames and skips the
// rest.
func TestToSkip(t *testing.T) {
	for _, tc := range []struct{ k, due, want int64 }{
		{0, 1, 0}, {10, 11, 0}, {10, 13, 0}, {10, 14, 1}, {10, 60, 47}, {10, 10, 0},
	} {
		if got := toSkip(tc.k, tc.due); got != tc.want {
			t.Errorf("toSkip(%d, %d) = %d, want %d", tc.k, tc.due, got, tc.want)
		}
	}
}

// TestFeed: Feed writes a tap's In frames (not its Out frames) and stops
// with its context.
func TestFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(Config{})
		p, _ := m.Join("a", JoinConfig{})
		pt := tap.NewPoint()
		sub := pt.Subscribe(4, tap.In, tap.Out)
		defer sub.Close()
		ctx, cancel := context.WithCancel(t.Context())
		fed := make(chan struct{})
		go func() { p.Feed(ctx, sub); close(fed) }()
		f := audio.Frame{0: 7}
		pt.Publish(tap.In, &f, time.Now())
		pt.Publish(tap.Out, &f, time.Now())
		pt.Publish(tap.In, &f, time.Now())
		synctest.Wait()
		if n := p.Stats().InFrames; n != 2 {
			t.Errorf("%d frames fed, want 2", n)
		}
		cancel()
		<-fed

		// It also stops when the participant leaves, and when the tap
		// closes.
		fed = make(chan struct{})
		go func() { p.Feed(t.Context(), sub); close(fed) }()
		p.Leave()
		m.Step()
		synctest.Wait()
		select {
		case <-fed:
		default:
			t.Error("Feed still running after Leave")
		}
		q, _ := m.Join("b", JoinConfig{})
		fed2 := make(chan struct{})
		go func() { q.Feed(t.Context(), sub); close(fed2) }()
		pt.Close()
		<-fed2
	})
}

// TestConcurrent changes settings, writes and reads from many goroutines
// while Run steps the mixer (run with -race), and leaves no goroutine.
func TestConcurrent(t *testing.T) {
	before := runtime.NumGoroutine()
	m := New(Config{})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = m.Run(ctx) })
	agent, _ := m.Join("agent", JoinConfig{})
	for i := range 8 {
		wg.Go(func() {
			for j := 0; ctx.Err() == nil; j++ {
				p, err := m.Join("p", JoinConfig{Muted: j%3 == 0})
				if err != nil {
					return
				}
				f := audio.Frame{0: int16(i)}
				for k := range 20 {
					p.Write(&f)
					p.Next(&f)
					switch k % 5 {
					case 0:
						p.SetMuted(k%2 == 0)
					case 1:
						p.SetDeaf(k%3 == 0)
					case 2:
						_ = p.Supervise(agent, Mode(1+k%3))
					case 3:
						_ = m.SetHears(agent, p, k%2 == 0)
						_ = m.Hears(p, agent)
					case 4:
						m.Step() // extra steps are allowed from anywhere
					}
					_ = p.Stats()
					_ = m.Stats()
				}
				p.Leave()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	wg.Wait()
	if m.Stats().Frames == 0 {
		t.Error("no frame mixed")
	}
	// The storm left a consistent mixer: two new participants hear each
	// other and not themselves, next to the agent (silent).
	x, _ := m.Join("x", JoinConfig{})
	y, _ := m.Join("y", JoinConfig{})
	m.Step() // faded in on silence
	var out audio.Frame
	for y.Next(&out) {
	}
	for x.Next(&out) {
	}
	in := audio.Frame{}
	for i := range in {
		in[i] = 1000
	}
	x.Write(&in)
	m.Step()
	if !y.Next(&out) || out[0] != 1000 || out[len(out)-1] != 1000 {
		t.Errorf("after the storm y hears %d…%d, want x's 1000", out[0], out[len(out)-1])
	}
	if !x.Next(&out) || out[0] != 0 {
		t.Errorf("after the storm x hears %d, want silence (not itself)", out[0])
	}
	m.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after, %d before", n, before)
	}
}
