package call_test

import (
	"fmt"
	"time"

	"github.com/switchd/switchd/call"
)

// A call's owner moves it through its states and publishes each change; a
// subscriber (here lossless, as the CDR recorder is) sees them in order.
func Example() {
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	bus := call.NewBus(call.WithClock(func() time.Time { return t0 }))
	sub, _ := bus.Subscribe(bus.LastSeq(), call.Lossless())
	defer sub.Close()

	c := call.New(call.NewID(t0), call.MediumVoice, call.DirectionInbound,
		call.Party{Number: "+442071234567"}, call.Party{Number: "100"}, t0)
	bus.Publish(c.Event(call.EventCallCreated, nil))
	if err := c.Transition(call.StateAnswered, t0.Add(5*time.Second)); err == nil {
		bus.Publish(c.Event(call.EventCallAnswered, map[string]string{call.DataCodecA: "PCMU"}))
	}
	if err := c.Transition(call.StateRinging, t0); err != nil {
		fmt.Println(err != nil) // an answered call cannot ring again
	}
	c.End(t0.Add(65*time.Second), call.CauseNormalClearing, call.SideCaller)
	bus.Publish(c.Event(call.EventCallEnded, nil))

	for range 3 {
		e := <-sub.Events()
		fmt.Println(e.Seq, e.Type, e.State, e.Cause, e.HangupSide)
	}
	s := c.Snapshot()
	fmt.Println(s.Duration(time.Time{}), s.Billable(time.Time{}), call.CauseBusy.SIPStatus())
	// Output:
	// true
	// 1 call_created created unknown unknown
	// 2 call_answered answered unknown unknown
	// 3 call_ended ended normal_clearing caller
	// 1m5s 1m0s 486
}
