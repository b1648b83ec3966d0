package acd

import (
	"math"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

func TestStatsFormulas(t *testing.T) {
	cfg, _ := Parse("q.yaml", []byte("queues:\n  - name: q\n    service_level: 20s\n    short_abandon: 5s\n  - name: r\n"))
	s := NewStats(cfg)
	ev := func(typ call.EventType, id string, at time.Duration, kv ...string) {
		d := map[string]string{DataQueue: "q"}
		for i := 0; i+1 < len(kv); i += 2 {
			d[kv[i]] = kv[i+1]
		}
		s.Add(call.Event{Type: typ, CallID: call.ID(id), Time: t0.Add(at), Data: d})
	}
	for i, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		ev(EventQueueJoined, id, time.Duration(i)*time.Second)
	}
	ev(EventQueueAnswered, "a", 10*time.Second, DataWaitMS, "10000")
	ev(EventQueueAnswered, "b", 31*time.Second, DataWaitMS, "30000") // outside SL
	ev(EventQueueAbandoned, "c", 5*time.Second, DataWaitMS, "3000")  // short
	ev(EventQueueAbandoned, "d", 60*time.Second, DataWaitMS, "57000")
	ev(EventQueueOverflowed, "e", 90*time.Second, DataWaitMS, "86000")
	ev(EventQueueCompleted, "a", 70*time.Second, DataTalkMS, "60000", DataHoldMS, "10000")
	ev(EventQueueWrapUpEnded, "a", 80*time.Second, DataWrapMS, "10000")
	ev(EventQueueCompleted, "b", 71*time.Second, DataTalkMS, "40000", DataHoldMS, "0")
	ev(EventQueueWrapUpEnded, "b", 71*time.Second, DataWrapMS, "0")
	s.Add(call.Event{Type: EventQueueMoved, CallID: "f", Data: map[string]string{DataQueue: "r", DataFrom: "q"}, Time: t0.Add(100 * time.Second)})
	s.Add(call.Event{Type: EventAgentState, Data: map[string]string{DataAgent: "x"}}) // ignored

	q := s.Queue("q", t0.Add(106*time.Second))
	if q.Joined != 7 || q.Answered != 2 || q.AnsweredInSL != 1 || q.Abandoned != 2 || q.ShortAbandoned != 1 || q.Overflowed != 1 || q.MovedOut != 1 {
		t.Fatalf("counters %+v", q)
	}
	// SL = 1 / (2 + 2 − 1); abandon rate = 1 / 3.
	if !q.SLKnown || math.Abs(q.ServiceLevel-1.0/3) > 1e-9 || math.Abs(q.AbandonRate-1.0/3) > 1e-9 {
		t.Errorf("SL %v abandon %v", q.ServiceLevel, q.AbandonRate)
	}
	if q.ASA != 20*time.Second || q.AHT != 55*time.Second || q.AvgHold != 5*time.Second || q.AvgWrap != 5*time.Second {
		t.Errorf("ASA %s AHT %s hold %s wrap %s", q.ASA, q.AHT, q.AvgHold, q.AvgWrap)
	}
	// g still waits (joined at 6s).
	if q.Waiting != 1 || q.LongestWaiting != 100*time.Second || q.LongestAnswered != 30*time.Second {
		t.Errorf("waiting %d longest %s answered %s", q.Waiting, q.LongestWaiting, q.LongestAnswered)
	}
	if r := s.Queue("r", t0.Add(106*time.Second)); r.Joined != 1 || r.Waiting != 1 {
		t.Errorf("r %+v", r)
	}
	if all := s.Queues(t0); len(all) != 2 {
		t.Errorf("queues %d", len(all))
	}
}
