package call

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func ev(typ EventType) Event { return Event{Type: typ} }

func publishN(b *Bus, n int) {
	for range n {
		b.Publish(ev(EventCallMedia))
	}
}

// recv takes the next event or fails the test (synctest bubbles: the wait
// is virtual).
func recv(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case e, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription closed early: %v", s.Err())
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return Event{}
}

// expectSeqs receives events and checks their sequence numbers.
func expectSeqs(t *testing.T, s *Subscription, from, to uint64) {
	t.Helper()
	for want := from; want <= to; want++ {
		if e := recv(t, s); e.Seq != want {
			t.Fatalf("got seq %d, want %d", e.Seq, want)
		}
	}
}

// expectNothing checks no event is waiting (after the bubble settled).
func expectNothing(t *testing.T, s *Subscription) {
	t.Helper()
	synctest.Wait()
	select {
	case e, ok := <-s.Events():
		t.Fatalf("unexpected event %+v (open %v, err %v)", e, ok, s.Err())
	default:
	}
}

// expectEnd checks the subscription is over and returns its error.
func expectEnd(t *testing.T, s *Subscription) error {
	t.Helper()
	select {
	case e, ok := <-s.Events():
		if ok {
			t.Fatalf("event %d instead of the end", e.Seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription did not end")
	}
	return s.Err()
}

func TestPublishStampsSeqAndTime(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := []time.Time{t0, t0.Add(time.Second), t0.Add(500 * time.Millisecond), t0.Add(2 * time.Second)}
	i := 0
	b := NewBus(WithClock(func() time.Time { i++; return clock[i-1] }))
	data := map[string]string{"k": "v"}
	var got []Event
	for range clock {
		got = append(got, b.Publish(Event{Type: EventCallMedia, Data: data}))
	}
	data["k"] = "changed"
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Errorf("event %d: seq %d", i, e.Seq)
		}
		if i > 0 && e.Time.Before(got[i-1].Time) {
			t.Errorf("event %d: time %v before previous %v", i, e.Time, got[i-1].Time)
		}
		if e.Data["k"] != "v" {
			t.Errorf("event %d: data shares the publisher's map", i)
		}
	}
	if !got[2].Time.Equal(t0.Add(time.Second)) {
		t.Errorf("a clock step back must not move event time back: %v", got[2].Time)
	}
	if b.LastSeq() != 4 {
		t.Errorf("LastSeq %d", b.LastSeq())
	}
}

func TestSubscribeReplaysThenLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, opts := range [][]SubscribeOption{nil, {Lossless()}} {
			b := NewBus()
			publishN(b, 5)
			s, err := b.Subscribe(2, opts...)
			if err != nil {
				t.Fatal(err)
			}
			expectSeqs(t, s, 3, 5)
			expectNothing(t, s)
			publishN(b, 2)
			expectSeqs(t, s, 6, 7)
			expectNothing(t, s)

			live, _ := b.Subscribe(b.LastSeq(), opts...)
			expectNothing(t, live)
			b.Publish(ev(EventCallCreated))
			if e := recv(t, live); e.Seq != 8 || e.Type != EventCallCreated {
				t.Fatalf("live subscriber got %+v", e)
			}
			s.Close()
			live.Close()
			if s.Err() != nil {
				t.Fatalf("Err after Close = %v", s.Err())
			}
		}
	})
}

func TestSubscribeOutsideHistoryIsAGap(t *testing.T) {
	b := NewBus(WithHistory(4))
	publishN(b, 10) // retained: 7..10
	var gap *GapError
	if _, err := b.Subscribe(0); !errors.As(err, &gap) || !errors.Is(err, ErrGap) || gap.From != 0 || gap.Resume != 6 {
		t.Fatalf("from 0: %v, want a gap resuming from 6", err)
	}
	if _, err := b.Subscribe(5, Lossless()); !errors.As(err, &gap) || gap.Resume != 6 {
		t.Fatalf("lossless from 5: %v", err)
	}
	if _, err := b.Subscribe(11); !errors.As(err, &gap) || gap.Resume != 6 {
		t.Fatalf("from the future (a restarted bus): %v", err)
	}
	s, err := b.Subscribe(gap.Resume)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	expectSeqs(t, s, 7, 10)
	empty := NewBus()
	if _, err := empty.Subscribe(3); !errors.As(err, &gap) || gap.Resume != 0 {
		t.Fatalf("ahead of an empty bus: %v", err)
	}
}

func TestLossySlowSubscriberGetsGapAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBus()
		s, _ := b.Subscribe(0, MaxLag(3))
		publishN(b, 1)
		expectSeqs(t, s, 1, 1)
		publishN(b, 3) // 3 behind: at the bound, still fine
		synctest.Wait()
		expectSeqs(t, s, 2, 2)
		publishN(b, 2) // now 4 behind (3,4,5,6 undelivered)
		synctest.Wait()
		err := expectEnd(t, s)
		var gap *GapError
		if !errors.As(err, &gap) || gap.From != 2 || gap.Resume != 2 {
			t.Fatalf("err = %v, want a gap resuming from 2 (the last delivered)", err)
		}
		s.Close()
		s.Close() // idempotent after a gap

		again, err := b.Subscribe(gap.Resume, MaxLag(3))
		if err != nil {
			t.Fatal(err)
		}
		expectSeqs(t, again, 3, 6) // nothing was lost
		again.Close()
	})
}

func TestLossyReplayDoesNotCountAsLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBus(WithHistory(100))
		publishN(b, 50)
		s, _ := b.Subscribe(0, MaxLag(2))
		expectSeqs(t, s, 1, 50)
		publishN(b, 2)
		expectSeqs(t, s, 51, 52)
		s.Close()
	})
}

func TestPublishNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBus(WithHistory(16))
		lossy, _ := b.Subscribe(0)
		lossless, _ := b.Subscribe(0, Lossless())
		// Nobody reads; 50,000 publishes complete anyway.
		publishN(b, 50_000)
		if err := expectEnd(t, lossy); !errors.Is(err, ErrGap) {
			t.Fatalf("lossy: %v", err)
		}
		// The lossless subscriber has every event despite the 16-event history.
		expectSeqs(t, lossless, 1, 50_000)
		expectNothing(t, lossless)
		lossy.Close()
		lossless.Close()
	})
}

func TestLosslessConcurrentPublishers(t *testing.T) {
	b := NewBus(WithHistory(8))
	s, _ := b.Subscribe(0, Lossless())
	defer s.Close()
	const publishers, each = 4, 2500
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() { publishN(b, each) })
	}
	var last uint64
	for range publishers * each {
		e := recv(t, s)
		if e.Seq != last+1 {
			t.Fatalf("seq %d after %d", e.Seq, last)
		}
		last = e.Seq
	}
	wg.Wait()
}

func TestDrainDeliversWhatWasPublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, opts := range [][]SubscribeOption{nil, {Lossless()}} {
			b := NewBus()
			s, _ := b.Subscribe(0, opts...)
			publishN(b, 5)
			s.Drain()
			s.Drain()
			publishN(b, 1) // after Drain: not delivered
			expectSeqs(t, s, 1, 5)
			if err := expectEnd(t, s); err != nil {
				t.Fatalf("Err after Drain = %v", err)
			}
			s.Close()
		}
	})
}

func TestBusClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBus()
		lossless, _ := b.Subscribe(0, Lossless())
		lossy, _ := b.Subscribe(0)
		publishN(b, 3)
		b.Close()
		b.Close()
		if e := b.Publish(ev(EventCallCreated)); e.Seq != 0 {
			t.Fatalf("publish after Close got seq %d", e.Seq)
		}
		if _, err := b.Subscribe(0); !errors.Is(err, ErrBusClosed) {
			t.Fatalf("subscribe after Close: %v", err)
		}
		for _, s := range []*Subscription{lossless, lossy} {
			expectSeqs(t, s, 1, 3)
			if err := expectEnd(t, s); !errors.Is(err, ErrBusClosed) {
				t.Fatalf("Err = %v, want ErrBusClosed", err)
			}
			s.Close()
		}
	})
}

// TestSubscriptionsDoNotLeak opens subscriptions in every state (caught up,
// blocked on an undelivered event, gapped, drained, on a closed bus),
// closes them (twice), and checks every goroutine is gone.
func TestSubscriptionsDoNotLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	b := NewBus(WithHistory(64))
	var subs []*Subscription
	for i := range 40 {
		var opts []SubscribeOption
		if i%2 == 0 {
			opts = append(opts, Lossless())
		} else {
			opts = append(opts, MaxLag(1+i%5))
		}
		s, err := b.Subscribe(b.LastSeq(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 1 {
			s.Drain()
		}
		subs = append(subs, s)
		publishN(b, 3)
	}
	other := NewBus()
	s, _ := other.Subscribe(0)
	other.Close()
	subs = append(subs, s)
	for _, s := range subs {
		s.Close()
		s.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines before, %d after closing every subscription", before, n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) != 0 {
		t.Fatalf("bus still holds %d subscriptions", len(b.subs))
	}
}
