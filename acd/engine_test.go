package acd

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchd/switchd/call"
)

// fakeConnector records what the engine asks of the wiring; answer, when
// set, is called (on the outbox goroutine) for each offer.
type fakeConnector struct {
	mu        sync.Mutex
	offers    []Offer
	withdrawn []Withdrawal
	exits     []Exit
	anns      []Announcement
	answer    func(o Offer)
}

var _ Connector = (*fakeConnector)(nil)

func (f *fakeConnector) Offer(_ context.Context, o Offer) {
	f.mu.Lock()
	f.offers = append(f.offers, o)
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		answer(o)
	}
}

func (f *fakeConnector) Withdraw(_ context.Context, w Withdrawal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.withdrawn = append(f.withdrawn, w)
}

func (f *fakeConnector) Overflow(_ context.Context, x Exit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exits = append(f.exits, x)
}

func (f *fakeConnector) Announce(_ context.Context, a Announcement) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.anns = append(f.anns, a)
}

// TestEngineVirtualTime runs the engine's goroutines in a synctest bubble:
// an offer that nobody answers expires after offer_timeout of virtual time,
// RONA makes the agent not ready, the contact overflows at max wait, and
// Stats computes the metrics from the bus.
func TestEngineVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, ps := Parse("q.yaml", []byte(`queues:
  - name: sales
    offer_timeout: 15s
    rona: 1
    wrap_up: 10s
    max_wait: 2m
    overflow: {kind: voicemail, name: sales}
`))
		if HasErrors(ps) {
			t.Fatal(ps)
		}
		bus := call.NewBus()
		sub, err := bus.Subscribe(0, call.Lossless())
		if err != nil {
			t.Fatal(err)
		}
		conn := &fakeConnector{}
		e, err := New(cfg, conn, WithEvents(bus), WithAgents(Agent{ID: "a1", Queues: []Membership{{Queue: "sales"}}}, Agent{ID: "a2", Queues: []Membership{{Queue: "sales"}}}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()

		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(e.Login(ctx, "a1"))
		start := time.Now()
		pos, err := e.Enqueue(ctx, Contact{ID: "c1", Medium: call.MediumVoice, Queue: "sales"})
		must(err)
		if pos.Position != 1 {
			t.Fatalf("position %+v", pos)
		}
		synctest.Wait()
		if len(conn.offers) != 1 || conn.offers[0].Agent != "a1" || conn.offers[0].Timeout != 15*time.Second {
			t.Fatalf("offers %+v", conn.offers)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		st, err := e.Status(ctx)
		must(err)
		if st.Agents[0].State != AgentNotReady || st.Agents[0].Reason != ReasonMissedOffer {
			t.Fatalf("a1 after a missed offer: %+v", st.Agents[0])
		}
		if len(conn.withdrawn) != 1 || conn.withdrawn[0].Reason != "timeout" {
			t.Fatalf("withdrawn %+v", conn.withdrawn)
		}
		// a2 logs in and answers at once, from inside Offer.
		conn.mu.Lock()
		conn.answer = func(o Offer) {
			if err := e.OfferAccepted(ctx, o.Contact, o.Agent); err != nil {
				t.Error(err)
			}
		}
		conn.mu.Unlock()
		must(e.Login(ctx, "a2"))
		synctest.Wait()
		time.Sleep(time.Minute)
		must(e.ContactEnded(ctx, "c1", 0))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		// Nobody ready: c2 overflows after 2 minutes.
		must(e.SetNotReady(ctx, "a2", ReasonLunch))
		_, err = e.Enqueue(ctx, Contact{ID: "c2", Medium: call.MediumVoice, Queue: "sales"})
		must(err)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if len(conn.exits) != 1 || conn.exits[0].Contact != "c2" || conn.exits[0].Target.Kind != TargetVoicemail {
			t.Fatalf("exits %+v", conn.exits)
		}
		if got := time.Since(start); got != 3*time.Minute+25*time.Second {
			t.Errorf("virtual time %s", got)
		}

		cancel()
		must(<-done)
		if err := e.Login(context.Background(), "a1"); !errors.Is(err, ErrStopped) {
			t.Errorf("after Run: %v", err)
		}
		if err := e.Run(context.Background()); !errors.Is(err, ErrRunning) {
			t.Errorf("second Run: %v", err)
		}
		bus.Close()
		stats := NewStats(cfg)
		for ev := range sub.Events() {
			stats.Add(ev)
		}
		sub.Close()
		q := stats.Queue("sales", time.Now())
		if q.Answered != 1 || q.Overflowed != 1 || q.Completed != 1 || q.AHT != 70*time.Second || q.ASA != 15*time.Second {
			t.Errorf("stats %+v", q)
		}
	})
}

// TestEngineNoLeak checks that Run's goroutines end with it.
func TestEngineNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		e, err := New(Config{Queues: []QueueConfig{{Name: "q"}}}, &fakeConnector{}, WithAgents(Agent{ID: "a", Queues: []Membership{{Queue: "q"}}}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		if err := e.Login(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Enqueue(ctx, Contact{ID: "c", Medium: call.MediumVoice, Queue: "q"}); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{Queues: []QueueConfig{{Name: ""}}}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Error(err)
	}
	if _, err := New(Config{}, nil, WithAgents(Agent{})); !errors.Is(err, ErrInvalidAgent) {
		t.Error(err)
	}
}

// TestEngineStopWhileConnectorCallsBack: a Connector that calls the engine
// from inside Offer while Run stops gets ErrStopped, and Run returns.
func TestEngineStopWhileConnectorCallsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := &fakeConnector{}
		e, err := New(Config{Queues: []QueueConfig{{Name: "q"}}}, conn, WithAgents(Agent{ID: "a", Queues: []Membership{{Queue: "q"}}}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		release := make(chan struct{})
		got := make(chan error, 1)
		conn.answer = func(o Offer) {
			<-release // Run is stopping by now
			got <- e.OfferAccepted(context.WithoutCancel(ctx), o.Contact, o.Agent)
		}
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		if err := e.Login(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Enqueue(ctx, Contact{ID: "c", Medium: call.MediumVoice, Queue: "q"}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		cancel()
		synctest.Wait()
		close(release)
		if err := <-got; !errors.Is(err, ErrStopped) {
			t.Errorf("call back while stopping: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
