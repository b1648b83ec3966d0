package cdr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
)

var t0 = time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)

// fakeClock is a settable clock for the bus.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t0.Add(d)
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// publishCall publishes the life of one call through c's state machine.
func newCall(id string, caller, callee string) *call.Call {
	return call.New(call.ID(id), call.MediumVoice, call.DirectionInbound,
		call.Party{Number: caller, Name: "Caller " + caller}, call.Party{Number: callee}, t0)
}

func TestRecorderWritesCDRsFromEvents(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	clock := &fakeClock{now: t0}
	bus := call.NewBus(call.WithClock(clock.Now))
	rec, err := New(bus, st)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- rec.Run(context.Background()) }()

	// An answered call with media facts spread over three events.
	a := newCall("call-a", "+441111", "100")
	bus.Publish(a.Event(call.EventCallCreated, nil))
	clock.Set(2 * time.Second)
	a.Transition(call.StateRinging, clock.Now())
	bus.Publish(a.Event(call.EventCallRinging, nil))
	clock.Set(5 * time.Second)
	a.Transition(call.StateAnswered, clock.Now())
	bus.Publish(a.Event(call.EventCallAnswered, map[string]string{call.DataCodecA: "PCMU", call.DataCodecB: "PCMU"}))
	bus.Publish(a.Event(call.EventCallMedia, map[string]string{call.DataCodecB: "PCMA", call.DataJitterMSB: "12.5"}))
	clock.Set(95 * time.Second)
	a.End(clock.Now(), call.CauseNormalClearing, call.SideCallee)
	bus.Publish(a.Event(call.EventCallEnded, map[string]string{
		call.DataPacketsLostA: "7", call.DataJitterMSA: "3.25", call.DataPacketsLostB: "0", call.DataPacketsLostB + "x": "ignored",
	}))
	// A busy call, and events that are not about calls.
	b := newCall("call-b", "+442222", "101")
	bus.Publish(b.Event(call.EventCallCreated, nil))
	bus.Publish(call.Event{Type: "queue_joined"})
	clock.Set(96 * time.Second)
	b.End(clock.Now(), call.CauseBusy, call.SideCallee)
	bus.Publish(b.Event(call.EventCallEnded, nil))

	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	got, err := st.CDR(t.Context(), "call-a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Medium != "voice" || got.Direction != "inbound" || got.Caller != "+441111" || got.CallerName != "Caller +441111" ||
		got.Callee != "100" || !got.Start.Equal(t0) || !got.Answer.Equal(t0.Add(5*time.Second)) ||
		!got.End.Equal(t0.Add(95*time.Second)) || got.Duration != 95*time.Second || got.Billable != 90*time.Second ||
		got.Cause != "normal_clearing" || got.HangupSide != "callee" || got.CodecA != "PCMU" || got.CodecB != "PCMA" {
		t.Fatalf("call-a CDR %+v", got)
	}
	if got.QualityA == nil || *got.QualityA != (store.MediaQuality{PacketsLost: 7, JitterMS: 3.25}) ||
		got.QualityB == nil || *got.QualityB != (store.MediaQuality{PacketsLost: 0, JitterMS: 12.5}) {
		t.Fatalf("call-a quality %+v %+v", got.QualityA, got.QualityB)
	}
	busy, _ := st.CDR(t.Context(), "call-b")
	if busy.Cause != "busy" || busy.Billable != 0 || busy.Duration != time.Second || busy.QualityA != nil || busy.CodecA != "" {
		t.Fatalf("call-b CDR %+v", busy)
	}
	if all, _ := st.ListCDRs(t.Context(), store.CDRFilter{}); len(all) != 2 {
		t.Fatalf("%d CDRs, want 2", len(all))
	}
	if len(rec.media) != 0 {
		t.Fatalf("media facts of ended calls kept: %v", rec.media)
	}
}

// TestRecorderCrashThenRecovery: the switch dies mid-call. The row of the
// call reached disk while it was up; the next start closes it.
func TestRecorderCrashThenRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchd.db")
	st := openStore(t, path)
	bus := call.NewBus()
	rec, err := New(bus, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); rec.Close() })
	go rec.Run(ctx)

	c := call.New(call.NewID(time.Now()), call.MediumVoice, call.DirectionOutbound, call.Party{Number: "100"}, call.Party{Number: "+15550100"}, time.Now())
	start := time.Now()
	bus.Publish(c.Event(call.EventCallCreated, nil))
	c.Transition(call.StateAnswered, time.Now())
	bus.Publish(c.Event(call.EventCallAnswered, nil))

	// Another process (the restarted switch) sees the row without any
	// Close or flush: the recorder commits on its own within its delay.
	other := openStore(t, path)
	var seen time.Duration
	for {
		got, err := other.CDR(t.Context(), string(c.ID))
		if err == nil && !got.Answer.IsZero() {
			seen = time.Since(start)
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("row not on disk after 5s: %+v %v", got, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("row on disk after %v (bound %v by design)", seen, DefaultMaxDelay)

	// "Crash": the call never ends. The next start recovers.
	restart := time.Now().Add(time.Minute)
	n, err := RecoverAfterCrash(t.Context(), other, restart, nil)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	got, _ := other.CDR(t.Context(), string(c.ID))
	if got.Cause != call.CauseSwitchRestart.String() || got.HangupSide != "switch" || !got.End.Equal(restart.Truncate(time.Millisecond)) ||
		got.Duration < time.Minute || got.Billable < time.Minute-time.Second {
		t.Fatalf("recovered CDR %+v", got)
	}
}

// memWriter records what it is asked to write, and when (virtual time in
// synctest), failing the first `fail` calls.
type memWriter struct {
	mu     sync.Mutex
	fail   int
	writes []write
}

type write struct {
	at      time.Time
	changes []store.CDRChange
}

func (m *memWriter) WriteCDRs(_ context.Context, cs []store.CDRChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return errors.New("disk on fire")
	}
	m.writes = append(m.writes, write{time.Now(), append([]store.CDRChange(nil), cs...)})
	return nil
}

func (m *memWriter) snapshot() []write {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]write(nil), m.writes...)
}

func created(bus *call.Bus, id string) {
	bus.Publish(call.Event{Type: call.EventCallCreated, CallID: call.ID(id)})
}

func TestRecorderCommitsWithinMaxDelayAndBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := call.NewBus()
		w := &memWriter{}
		rec, _ := New(bus, w, WithMaxBatch(100))
		ctx, cancel := context.WithCancel(t.Context())
		go rec.Run(ctx)

		start := time.Now()
		created(bus, "one")
		time.Sleep(DefaultMaxDelay - time.Millisecond)
		synctest.Wait()
		if n := len(w.snapshot()); n != 0 {
			t.Fatalf("%d writes before the delay elapsed; the batch should wait", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		ws := w.snapshot()
		if len(ws) != 1 || ws[0].at.Sub(start) != DefaultMaxDelay || ws[0].changes[0].CDR.ID != "one" {
			t.Fatalf("writes %+v; want one at +%v", ws, DefaultMaxDelay)
		}

		// A burst is committed in full batches at once, the rest on the timer.
		for range 250 {
			created(bus, "burst")
		}
		synctest.Wait()
		if ws := w.snapshot(); len(ws) != 3 || len(ws[1].changes) != 100 || len(ws[2].changes) != 100 {
			t.Fatalf("after a burst of 250: %d writes", len(ws))
		}
		time.Sleep(DefaultMaxDelay)
		synctest.Wait()
		if ws := w.snapshot(); len(ws) != 4 || len(ws[3].changes) != 50 {
			t.Fatalf("remainder not committed on the timer: %d writes", len(ws))
		}
		cancel()
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRecorderRetriesFailedWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := call.NewBus()
		w := &memWriter{fail: 2}
		rec, _ := New(bus, w)
		go rec.Run(t.Context())
		created(bus, "x")
		time.Sleep(time.Second)
		synctest.Wait()
		if ws := w.snapshot(); len(ws) != 1 || ws[0].changes[0].CDR.ID != "x" {
			t.Fatalf("after two failures: %+v", ws)
		}
		rec.Close()
	})
}

func TestRecorderCloseWithoutRunAndIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := call.NewBus()
		w := &memWriter{}
		rec, _ := New(bus, w)
		bus.Publish(call.Event{Type: "before"}) // events before New are not the recorder's
		created(bus, "a")
		created(bus, "b")
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		created(bus, "after-close")
		if err := rec.Run(t.Context()); err != nil {
			t.Fatalf("Run after Close: %v", err)
		}
		synctest.Wait()
		ws := w.snapshot()
		if len(ws) != 1 || len(ws[0].changes) != 2 {
			t.Fatalf("writes %+v; want a and b in one batch", ws)
		}
	})
}

// TestRecorderRunStopsOnContextAfterPending: cancelling Run's context
// writes what was already published and returns.
func TestRecorderRunStopsOnContextAfterPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := call.NewBus()
		w := &memWriter{}
		rec, _ := New(bus, w, WithMaxDelay(time.Hour))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- rec.Run(ctx) }()
		for range 10 {
			created(bus, "c")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if ws := w.snapshot(); len(ws) != 1 || len(ws[0].changes) != 10 {
			t.Fatalf("writes %+v", ws)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRecorderEndsWithBus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := call.NewBus()
		w := &memWriter{}
		rec, _ := New(bus, w)
		done := make(chan error)
		go func() { done <- rec.Run(t.Context()) }()
		created(bus, "z")
		bus.Close()
		if err := <-done; err != nil {
			t.Fatalf("Run after bus close: %v", err)
		}
		if len(w.snapshot()) != 1 {
			t.Fatal("event before bus close not written")
		}
	})
}

func TestRecorderSecondRunRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, _ := New(call.NewBus(), &memWriter{})
		go rec.Run(t.Context())
		synctest.Wait()
		if err := rec.Run(t.Context()); !errors.Is(err, ErrRunning) {
			t.Fatalf("second Run: %v", err)
		}
		rec.Close()
	})
}

func TestRecorderDoesNotLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	bus := call.NewBus()
	for range 20 {
		rec, _ := New(bus, &memWriter{})
		ctx, cancel := context.WithCancel(context.Background())
		go rec.Run(ctx)
		created(bus, "x")
		cancel()
		rec.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("goroutines: %d before, %d after", before, n)
	}
}

// TestRecorderRoutingFacts: call_created's trunk, DID and route go into
// the create; a trunk named later (the one an outbound call finally went
// out through) overrides, and facts not named again are kept.
func TestRecorderRoutingFacts(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	bus := call.NewBus()
	w := &memWriter{}
	rec, err := New(bus, teeWriter{w, st})
	if err != nil {
		t.Fatal(err)
	}
	out := call.New("out", call.MediumVoice, call.DirectionOutbound, call.Party{Number: "1001"}, call.Party{Number: "+15550100"}, t0)
	bus.Publish(out.Event(call.EventCallCreated, map[string]string{
		call.DataTrunk: "carrier-a", call.DataDID: "+15550100", call.DataRoute: "rule international via carrier-a",
	}))
	out.Transition(call.StateAnswered, t0.Add(time.Second))
	bus.Publish(out.Event(call.EventCallAnswered, map[string]string{
		call.DataTrunk: "carrier-b", call.DataRoute: "rule international via carrier-b",
	}))
	out.End(t0.Add(time.Minute), call.CauseNormalClearing, call.SideCaller)
	bus.Publish(out.Event(call.EventCallEnded, nil))

	in := call.New("in", call.MediumVoice, call.DirectionInbound, call.Party{Number: "+15550199"}, call.Party{Number: "1001"}, t0)
	bus.Publish(in.Event(call.EventCallCreated, map[string]string{
		call.DataTrunk: "carrier-a", call.DataDID: "+862155550100", call.DataRoute: "did +862155550100 -> extension 1001",
	}))
	bus.Publish(in.Event(call.EventCallMedia, map[string]string{call.DataCodecA: "PCMA"}))
	in.End(t0.Add(time.Minute), call.CauseNoAnswer, call.SideSwitch)
	bus.Publish(in.Event(call.EventCallEnded, map[string]string{call.DataTrunk: "carrier-c"}))

	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{
		"out": {"carrier-b", "+15550100", "rule international via carrier-b"},
		"in":  {"carrier-c", "+862155550100", "did +862155550100 -> extension 1001"},
	}
	for id, w := range want {
		c, err := st.CDR(t.Context(), id)
		if got := [3]string{c.Trunk, c.DID, c.Route}; err != nil || got != w {
			t.Errorf("%s: trunk, did, route = %q, %v; want %q", id, got, err, w)
		}
	}
	if c, _ := st.CDR(t.Context(), "in"); c.CodecA != "PCMA" || c.Cause != "no_answer" {
		t.Errorf("in: media facts lost beside routing facts: %+v", c)
	}
	// What each change carried: the create its own event's facts, the
	// answer and the completion what was remembered since.
	var got []string
	for _, wr := range w.snapshot() {
		for _, ch := range wr.changes {
			got = append(got, fmt.Sprintf("%d %s %s|%s|%s", ch.Kind, ch.CDR.ID, ch.CDR.Trunk, ch.CDR.DID, ch.CDR.Route))
		}
	}
	wantChanges := []string{
		"1 out carrier-a|+15550100|rule international via carrier-a",
		"2 out carrier-b||rule international via carrier-b",
		"3 out carrier-b||rule international via carrier-b",
		"1 in carrier-a|+862155550100|did +862155550100 -> extension 1001",
		"3 in carrier-c||",
	}
	if strings.Join(got, "\n") != strings.Join(wantChanges, "\n") {
		t.Errorf("changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
	}
	if len(rec.media) != 0 {
		t.Fatalf("facts of ended calls kept: %v", rec.media)
	}
}

// teeWriter writes to each writer in turn.
type teeWriter []Writer

func (t teeWriter) WriteCDRs(ctx context.Context, cs []store.CDRChange) error {
	for _, w := range t {
		if err := w.WriteCDRs(ctx, cs); err != nil {
			return err
		}
	}
	return nil
}
