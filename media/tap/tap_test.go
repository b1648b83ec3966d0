package tap

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// frameN is a frame whose samples identify n.
func frameN(n int) *audio.Frame {
	var f audio.Frame
	for i := range f {
		f[i] = int16(n + i)
	}
	return &f
}

// checkGoroutines fails if the goroutine count does not return to
// before within a second (the runtime needs a moment to reap exited
// goroutines).
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStalledConsumer: a subscriber that never reads does not slow
// Publish: 10,000 publishes complete quickly, the stalled one counts
// exactly the frames that did not fit its queue, and a consumer that
// keeps up gets every frame, in order, intact.
func TestStalledConsumer(t *testing.T) {
	before := runtime.NumGoroutine()
	const n = 10000
	p := NewPoint()
	stalled := p.Subscribe(50)
	fast := p.Subscribe(n, In)

	var wg sync.WaitGroup
	var got []Frame
	wg.Go(func() {
		for f := range fast.C() {
			got = append(got, f)
		}
	})

	frames := make([]audio.Frame, n)
	for i := range frames {
		frames[i] = *frameN(i)
	}
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := range n {
		t1 := time.Now()
		p.Publish(In, &frames[i], t0.Add(time.Duration(i)*audio.FrameDuration))
		lat[i] = time.Since(t1)
	}
	total := time.Since(start)
	// Wall time on a shared, loaded machine under -race is dominated by
	// the scheduler taking the CPU away; the median and 99th percentile
	// show what Publish itself costs, the total bounds the rest. A
	// Publish that waited for the stalled consumer would never return.
	slices.Sort(lat)
	p50, p99 := lat[n/2], lat[n*99/100]
	t.Logf("%d publishes in %v: median %v, p99 %v, worst %v", n, total, p50, p99, lat[n-1])
	if p50 > 100*time.Microsecond || p99 > time.Millisecond || total > 2*time.Second {
		t.Fatalf("%d publishes with a stalled subscriber: total %v, median %v, p99 %v", n, total, p50, p99)
	}
	if d := stalled.Dropped(); d != n-50 || len(stalled.C()) != 50 {
		t.Fatalf("stalled: dropped %d, queued %d; want %d, 50", d, len(stalled.C()), n-50)
	}

	fast.Close()
	wg.Wait()
	if fast.Dropped() != 0 || len(got) != n {
		t.Fatalf("fast: got %d, dropped %d", len(got), fast.Dropped())
	}
	for i, f := range got {
		if f.Dir != In || f.Seq != uint64(i+1) || f.Audio != *frameN(i) || !f.At.Equal(t0.Add(time.Duration(i)*audio.FrameDuration)) {
			t.Fatalf("frame %d: dir %v seq %d at %v", i, f.Dir, f.Seq, f.At)
		}
	}
	// The stalled subscriber holds the first 50.
	for i := range 50 {
		if f := <-stalled.C(); f.Seq != uint64(i+1) {
			t.Fatalf("stalled frame %d: seq %d", i, f.Seq)
		}
	}
	p.Close()
	if _, ok := <-stalled.C(); ok {
		t.Fatal("channel open after Point.Close")
	}
	checkGoroutines(t, before)
}

// TestDirections: subscribers get only their directions; Seq counts per
// direction; Active and Listening follow the subscriptions.
func TestDirections(t *testing.T) {
	p := NewPoint()
	if p.Active() || p.Listening(In) || p.Listening(Out) {
		t.Fatal("active with nobody listening")
	}
	in := p.Subscribe(10, In)
	if !p.Active() || !p.Listening(In) || p.Listening(Out) || p.Listening(0) {
		t.Fatal("Active/Listening wrong with an In subscriber")
	}
	both := p.Subscribe(10)
	out := p.Subscribe(10, Out, 0, 9) // unknown directions are ignored
	for i := range 3 {
		p.Publish(In, frameN(i), t0)
		p.Publish(Out, frameN(100+i), t0)
	}
	p.Publish(0, frameN(0), t0) // ignored
	if len(in.C()) != 3 || len(out.C()) != 3 || len(both.C()) != 6 {
		t.Fatalf("queued: in %d, out %d, both %d", len(in.C()), len(out.C()), len(both.C()))
	}
	for i := range 3 {
		f := <-out.C()
		if f.Dir != Out || f.Seq != uint64(i+1) || f.Audio != *frameN(100 + i) {
			t.Fatalf("out %d: %v %d", i, f.Dir, f.Seq)
		}
	}
	for i := range 6 {
		f := <-both.C()
		if want := [...]Direction{In, Out}[i%2]; f.Dir != want || f.Seq != uint64(i/2+1) {
			t.Fatalf("both %d: %v %d", i, f.Dir, f.Seq)
		}
	}
	in.Close()
	both.Close()
	if p.Listening(In) || !p.Listening(Out) {
		t.Fatal("Listening wrong after unsubscribing In")
	}
	out.Close()
	if p.Active() {
		t.Fatal("active after every subscriber left")
	}
	if Direction(0).String() != "unknown" || In.String() != "in" || Out.String() != "out" {
		t.Fatal("Direction.String")
	}
}

// TestCloseIdempotent: closing a subscription or the point twice, in
// either order, is harmless; a subscription after Point.Close is born
// closed; Publish after Close is a no-op.
func TestCloseIdempotent(t *testing.T) {
	p := NewPoint()
	a, b := p.Subscribe(0), p.Subscribe(1)
	if cap(a.ch) != DefaultDepth {
		t.Fatalf("default depth %d", cap(a.ch))
	}
	a.Close()
	a.Close()
	p.Close()
	p.Close()
	b.Close()
	for _, s := range []*Subscription{a, b} {
		if _, ok := <-s.C(); ok {
			t.Fatal("channel open after Close")
		}
	}
	c := p.Subscribe(5)
	if _, ok := <-c.C(); ok {
		t.Fatal("subscription on a closed point is open")
	}
	c.Close()
	p.Publish(In, frameN(1), t0)
	if p.Active() {
		t.Fatal("closed point active")
	}
}

// TestConcurrentStress: publishers (both directions), subscribers that
// come and go, read or stall, and a Point.Close in the middle, all at
// once; run with -race. Every consumer sees its channel close and no
// goroutine is left.
func TestConcurrentStress(t *testing.T) {
	before := runtime.NumGoroutine()
	for round := range 20 {
		p := NewPoint()
		stop := make(chan struct{})
		var pubs, subs sync.WaitGroup
		for _, dir := range []Direction{In, Out} {
			pubs.Go(func() {
				var f audio.Frame
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					f[0] = int16(i)
					p.Publish(dir, &f, t0)
					if i%64 == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		for w := range 8 {
			subs.Go(func() {
				for k := 0; k < 30; k++ {
					s := p.Subscribe(1+(w+k)%8, [...]Direction{In, Out, 0}[k%3])
					var last [Out + 1]uint64
					for j := 0; j < (w*k)%20; j++ {
						f, ok := <-s.C()
						if !ok {
							break
						}
						if f.Seq <= last[f.Dir] {
							t.Errorf("seq %d after %d", f.Seq, last[f.Dir])
						}
						last[f.Dir] = f.Seq
					}
					_ = s.Dropped()
					s.Close()
					if k%7 == w%7 {
						s.Close()
					}
					for range s.C() { // drains and ends: the channel is closed
					}
				}
			})
		}
		// A few that only the Point's Close ends.
		for range 3 {
			s := p.Subscribe(4)
			subs.Go(func() {
				for range s.C() {
				}
			})
		}
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		p.Close()
		subs.Wait()
		close(stop)
		pubs.Wait()
		p.Close()
	}
	checkGoroutines(t, before)
}
