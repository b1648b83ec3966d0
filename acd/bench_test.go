package acd

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

// benchScenario builds the routing benchmark's state: 50 queues (mixed
// strategies, each requiring one of 10 skills, relaxed after 30s), 1,000
// agents each in 3 queues with skills, every agent busy, and 10,000
// contacts waiting (200 per queue).
func benchScenario(tb testing.TB) (*harness, *rand.Rand) {
	r := rand.New(rand.NewPCG(7, 7))
	strategies := []string{"longest-idle", "skills", "round-robin", "fewest-contacts", "least-talk-time", "linear", "random"}
	cfg := "queues:\n"
	for i := range 50 {
		cfg += fmt.Sprintf("  - name: q%02d\n    strategy: %s\n    skills: {s%d: 2}\n    relax: [{after: 30s, min_proficiency: 1}]\n    priority_aging: {every: 30s, step: 1}\n",
			i, strategies[i%len(strategies)], i%10)
	}
	h := newHarness(tb, cfg)
	for i := range 1000 {
		a := Agent{ID: AgentID(fmt.Sprintf("a%04d", i)), Skills: map[string]int{}}
		for j := range 3 {
			q := (i*7 + j*17) % 50
			a.Queues = append(a.Queues, Membership{Queue: fmt.Sprintf("q%02d", q), Penalty: r.IntN(2)})
			a.Skills[fmt.Sprintf("s%d", q%10)] = 1 + r.IntN(5)
		}
		h.must(h.s.putAgent(a, h.at))
		h.must(h.s.login(a.ID, h.at))
	}
	n := 0
	add := func() {
		n++
		c := Contact{ID: call.ID(fmt.Sprintf("c%07d", n)), Medium: call.MediumVoice, Queue: fmt.Sprintf("q%02d", r.IntN(50)), Priority: []int{0, 0, 0, 5}[r.IntN(4)]}
		if _, err := h.s.enqueue(c, h.at); err != nil {
			tb.Fatal(err)
		}
	}
	// Fill agents first (answer every offer), then the queues.
	for len(h.s.contacts) < 12_000 {
		add()
		for _, e := range h.s.takeEffects() {
			if e.kind == effectOffer {
				h.must(h.s.accepted(e.offer.Contact, e.offer.Agent, h.at))
			}
		}
		h.at = h.at.Add(10 * time.Millisecond)
	}
	waiting := 0
	for _, q := range h.s.queues {
		waiting += len(q.waiting)
	}
	tb.Logf("%d waiting, %d contacts held", waiting, len(h.s.contacts))
	h.s.takeEffects()
	h.eff = nil
	return h, r
}

// benchDecision ends one random answered contact (the agent becomes free
// and the engine routes the best waiting contact to them: the decision
// timed), answers the offer and enqueues a new contact to keep the load.
func benchDecision(h *harness, r *rand.Rand, connected []call.ID, n *int) ([]call.ID, time.Duration) {
	i := r.IntN(len(connected))
	id := connected[i]
	start := time.Now()
	_ = h.s.ended(id, 0, h.at)
	d := time.Since(start)
	connected[i] = connected[len(connected)-1]
	connected = connected[:len(connected)-1]
	for _, e := range h.s.takeEffects() {
		if e.kind == effectOffer {
			_ = h.s.accepted(e.offer.Contact, e.offer.Agent, h.at)
			connected = append(connected, e.offer.Contact)
		}
	}
	*n++
	_, _ = h.s.enqueue(Contact{ID: call.ID(fmt.Sprintf("n%07d", *n)), Medium: call.MediumVoice, Queue: fmt.Sprintf("q%02d", r.IntN(50))}, h.at)
	for _, e := range h.s.takeEffects() {
		if e.kind == effectOffer {
			_ = h.s.accepted(e.offer.Contact, e.offer.Agent, h.at)
			connected = append(connected, e.offer.Contact)
		}
	}
	h.at = h.at.Add(50 * time.Millisecond)
	h.s.step(h.at)
	h.s.takeEffects()
	return connected, d
}

func connectedIDs(s *core) []call.ID {
	var ids []call.ID
	for id, c := range s.contacts {
		if c.connected {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// BenchmarkRoutingDecision: one agent freed with 10,000 contacts waiting
// and 1,000 agents in 50 queues; reports p50/p99 of the decision (ns/op
// also counts answering the offer, a new arrival and a timer step).
func BenchmarkRoutingDecision(b *testing.B) {
	h, r := benchScenario(b)
	n := 0
	lat := make([]time.Duration, 0, b.N)
	connected := connectedIDs(h.s)
	for b.Loop() {
		var d time.Duration
		connected, d = benchDecision(h, r, connected, &n)
		lat = append(lat, d)
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}
