package call

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// allowed is the state machine written out independently of the
// implementation's table.
var allowed = map[[2]State]bool{
	{StateUnknown, StateCreated}:     true,
	{StateCreated, StateRinging}:     true,
	{StateCreated, StateEarlyMedia}:  true,
	{StateCreated, StateAnswered}:    true,
	{StateCreated, StateEnded}:       true,
	{StateRinging, StateEarlyMedia}:  true,
	{StateRinging, StateAnswered}:    true,
	{StateRinging, StateEnded}:       true,
	{StateEarlyMedia, StateRinging}:  true,
	{StateEarlyMedia, StateAnswered}: true,
	{StateEarlyMedia, StateEnded}:    true,
	{StateAnswered, StateHeld}:       true,
	{StateAnswered, StateEnded}:      true,
	{StateHeld, StateAnswered}:       true,
	{StateHeld, StateEnded}:          true,
}

// TestTransitionExhaustive tries every (from, to) pair, including values
// out of range, on a call placed in `from`.
func TestTransitionExhaustive(t *testing.T) {
	at := time.Unix(1000, 0)
	for from := range State(len(stateNames) + 1) {
		for to := range State(len(stateNames) + 1) {
			c := &Call{ID: "c", state: from}
			err := c.Transition(to, at)
			want := allowed[[2]State{from, to}]
			if want != (err == nil) || CanTransition(from, to) != want {
				t.Errorf("%s → %s: err = %v, CanTransition = %v; want allowed = %v", from, to, err, CanTransition(from, to), want)
			}
			if err != nil && !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("%s → %s: error %v does not wrap ErrIllegalTransition", from, to, err)
			}
			got := c.State()
			if err == nil && got != to || err != nil && got != from {
				t.Errorf("%s → %s (err %v): state now %s", from, to, err, got)
			}
		}
	}
}

func TestCallLifecycleTimes(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	c := New(NewID(t0), MediumVoice, DirectionInbound, Party{Number: "+441234"}, Party{Number: "100"}, t0)
	steps := []struct {
		to State
		at time.Duration
	}{
		{StateRinging, time.Second}, {StateEarlyMedia, 2 * time.Second}, {StateRinging, 3 * time.Second},
		{StateAnswered, 5 * time.Second}, {StateHeld, 10 * time.Second}, {StateAnswered, 20 * time.Second},
	}
	for _, s := range steps {
		if err := c.Transition(s.to, t0.Add(s.at)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Transition(StateRinging, t0.Add(21*time.Second)); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("Answered → Ringing: %v", err)
	}
	if err := c.End(t0.Add(65*time.Second), CauseNormalClearing, SideCaller); err != nil {
		t.Fatal(err)
	}
	if err := c.End(t0.Add(70*time.Second), CauseFailure, SideSwitch); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("second End: %v", err)
	}
	s := c.Snapshot()
	if !s.Created.Equal(t0) || !s.Answered.Equal(t0.Add(5*time.Second)) || !s.Ended.Equal(t0.Add(65*time.Second)) {
		t.Fatalf("times: %+v (resume must not move the answer time)", s)
	}
	if s.Cause != CauseNormalClearing || s.HangupSide != SideCaller || c.Cause() != CauseNormalClearing {
		t.Fatalf("the first End's cause and side must stick: %+v", s)
	}
	if d, b := s.Duration(time.Time{}), s.Billable(time.Time{}); d != 65*time.Second || b != 60*time.Second {
		t.Fatalf("duration %v billable %v", d, b)
	}
	ev := c.Event(EventCallEnded, map[string]string{DataCodecA: "PCMA"})
	if ev.CallID != c.ID || ev.State != StateEnded || ev.Cause != CauseNormalClearing || ev.HangupSide != SideCaller ||
		ev.Caller.Number != "+441234" || ev.Data[DataCodecA] != "PCMA" || ev.Seq != 0 {
		t.Fatalf("event %+v", ev)
	}
}

func TestSnapshotOpenCall(t *testing.T) {
	t0 := time.Unix(0, 0)
	c := New("x", MediumChat, DirectionInbound, Party{}, Party{}, t0)
	now := t0.Add(30 * time.Second)
	s := c.Snapshot()
	if s.Duration(now) != 30*time.Second || s.Billable(now) != 0 {
		t.Fatalf("unanswered open call: %v %v", s.Duration(now), s.Billable(now))
	}
	c.Transition(StateAnswered, t0.Add(10*time.Second))
	if b := c.Snapshot().Billable(now); b != 20*time.Second {
		t.Fatalf("billable so far %v", b)
	}
}

// TestTransitionConcurrent races ends against answers: exactly one End wins
// and the state is consistent (run with -race).
func TestTransitionConcurrent(t *testing.T) {
	c := New("x", MediumVoice, DirectionInternal, Party{}, Party{}, time.Unix(0, 0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ends := 0
	for i := range 16 {
		wg.Go(func() {
			_ = c.Transition(StateAnswered, time.Unix(1, 0))
			if c.End(time.Unix(2, 0), Cause(1+i%3), SideCallee) == nil {
				mu.Lock()
				ends++
				mu.Unlock()
			}
			_ = c.Snapshot()
		})
	}
	wg.Wait()
	if ends != 1 || c.State() != StateEnded {
		t.Fatalf("%d successful Ends, state %s", ends, c.State())
	}
}
