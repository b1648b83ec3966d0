package acd

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

const propConfigA = `queues:
  - name: sales
    strategy: longest-idle
    skills: {english: 2}
    relax: [{after: 20s, min_proficiency: 1}, {after: 60s, any: true}]
    offer_timeout: 8s
    rona: 3
    wrap_up: 5s
    max_wait: 3m
    overflow: {kind: queue, name: support}
    sticky_wait: 10s
  - name: support
    strategy: skills
    priority_aging: {every: 15s, step: 1, max: 20}
    offer_timeout: 6s
    max_waiting: 12
    overflow: {kind: voicemail, name: support}
    announce_interval: 30s
  - name: chat
    strategy: ring-all
    offer_timeout: 10s
    leave_empty: true
    overflow: {kind: flow, name: chat-closed}
`

const propConfigB = `queues:
  - name: sales
    strategy: round-robin
    offer_timeout: 8s
    rona: 0
    max_wait: 2m
    overflow: {kind: extension, name: "1000"}
  - name: support
    strategy: fewest-contacts
    skills: {billing: 3}
    relax: [{after: 30s, drop: [billing]}]
    offer_timeout: 6s
  - name: chat
    strategy: random
    offer_timeout: 10s
`

// TestProperty drives the core with random arrivals, answers, rejections,
// hang-ups, abandons, agent state changes, own calls, supervisor actions,
// reloads and time passing (offers time out), for fixed seeds, checking
// after every operation that no agent exceeds its capacity per medium and
// that the books balance, at every offer that no earlier contact of the
// same priority in the queue could have had that agent (FIFO within a
// priority level), and at the end that every contact ended exactly once.
func TestProperty(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	steps := 4000
	if testing.Short() {
		seeds, steps = seeds[:2], 1000
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runProperty(t, seed, steps) })
	}
}

type propSim struct {
	t       *testing.T
	h       *harness
	r       *rand.Rand
	cfgs    [2]Config
	ends    map[call.ID][]string // terminal outcomes per contact
	started map[call.ID]bool
	n       int
	stats   *Stats
}

func runProperty(t *testing.T, seed uint64, steps int) {
	h := newHarness(t, propConfigA)
	h.s.rand = newRand(seed)
	cb, _ := Parse("b.yaml", []byte(propConfigB))
	ca, _ := Parse("a.yaml", []byte(propConfigA))
	p := &propSim{t: t, h: h, r: rand.New(rand.NewPCG(seed, 99)), cfgs: [2]Config{ca, cb},
		ends: map[call.ID][]string{}, started: map[call.ID]bool{}, stats: NewStats(ca)}
	h.s.onOffer = p.checkFIFO
	skills := []string{"english", "billing", "spanish"}
	for i := range 12 {
		a := Agent{ID: AgentID(fmt.Sprintf("a%02d", i)), Skills: map[string]int{}}
		for _, sk := range skills {
			if p.r.IntN(3) > 0 {
				a.Skills[sk] = 1 + p.r.IntN(5)
			}
		}
		for _, q := range []string{"sales", "support", "chat"} {
			if p.r.IntN(2) == 0 {
				a.Queues = append(a.Queues, Membership{Queue: q, Penalty: p.r.IntN(2), Priority: p.r.IntN(2)})
			}
		}
		if i%3 == 0 {
			a.Capacity = map[call.Medium]int{call.MediumVoice: 1, call.MediumChat: 3}
		}
		h.must(h.s.putAgent(a, h.at))
		if p.r.IntN(4) > 0 {
			h.must(h.s.login(a.ID, h.at))
		}
	}
	for range steps {
		p.act()
		p.account()
		p.checkInvariants()
	}
	// Drain: end everything still held.
	for _, a := range h.s.agents {
		if a.loggedIn {
			_ = h.s.logout(a.prof.ID, h.at)
		}
	}
	for _, id := range sortedKeys(h.s.contacts) {
		c := h.s.contacts[id]
		if c.connected {
			h.must(h.s.ended(id, 0, h.at))
		} else {
			h.must(h.s.leave(id, EventQueueAbandoned, "", h.at))
		}
	}
	p.account()
	if len(h.s.contacts) != 0 {
		t.Fatalf("%d contacts still held", len(h.s.contacts))
	}
	for id := range p.started {
		if got := p.ends[id]; len(got) != 1 {
			t.Fatalf("contact %s ended %v", id, got)
		}
	}
	if p.n < steps/10 {
		t.Fatalf("only %d contacts", p.n)
	}
	st := p.stats.Queue("sales", h.at)
	if st.Answered == 0 {
		t.Errorf("sales answered nothing: %+v", st)
	}
}

// act does one random thing.
func (p *propSim) act() {
	h, r := p.h, p.r
	s := h.s
	agents := sortedKeys(s.agents)
	a := s.agents[agents[r.IntN(len(agents))]]
	contacts := sortedKeys(s.contacts)
	var c *contact
	if len(contacts) > 0 {
		c = s.contacts[contacts[r.IntN(len(contacts))]]
	}
	var err error
	switch k := r.IntN(100); {
	case k < 22:
		p.n++
		ct := Contact{ID: call.ID(fmt.Sprintf("c%05d", p.n)), Medium: call.MediumVoice,
			Queue: []string{"sales", "support", "chat"}[r.IntN(3)], Priority: []int{0, 0, 0, 5}[r.IntN(4)],
			Caller: call.Party{Number: fmt.Sprintf("+44%d", r.IntN(20))}}
		if ct.Queue == "chat" {
			ct.Medium = call.MediumChat
		}
		if r.IntN(3) == 0 {
			ct.Skills = map[string]int{"spanish": 1 + r.IntN(3)}
		}
		var pos Position
		pos, err = s.enqueue(ct, h.at)
		if err == nil {
			p.started[ct.ID] = true
		} else {
			err = nil // refused: never started
		}
		_ = pos
	case k < 30 && c != nil && !c.connected:
		err = s.leave(c.id, EventQueueAbandoned, "", h.at)
	case k < 32 && c != nil && !c.connected:
		err = s.leave(c.id, EventQueueCancelled, "test", h.at)
	case k < 48 && c != nil && len(c.offers) > 0:
		o := c.offers[r.IntN(len(c.offers))]
		err = s.accepted(c.id, o.a.prof.ID, h.at)
	case k < 54 && c != nil && len(c.offers) > 0:
		o := c.offers[r.IntN(len(c.offers))]
		err = s.missed(c.id, o.a.prof.ID, []string{"rejected", "timeout"}[r.IntN(2)], h.at)
	case k < 66 && c != nil && c.connected:
		err = s.ended(c.id, time.Duration(r.IntN(5))*time.Second, h.at)
	case k < 70:
		if a.loggedIn {
			err = s.logout(a.prof.ID, h.at)
		} else {
			err = s.login(a.prof.ID, h.at)
		}
	case k < 74 && a.loggedIn:
		if a.notReady {
			err = s.setAvailable(a.prof.ID, h.at)
		} else {
			err = s.setNotReady(a.prof.ID, ReasonBreak, h.at)
		}
	case k < 76 && !a.wrapUntil.IsZero():
		err = s.endWrapUp(a.prof.ID, h.at)
	case k < 78:
		if len(a.own) > 0 {
			err = s.ownCall(a.prof.ID, "own-"+call.ID(a.prof.ID), false, h.at)
		} else if a.load[call.MediumVoice] == 0 {
			err = s.ownCall(a.prof.ID, "own-"+call.ID(a.prof.ID), true, h.at)
		}
	case k < 80 && c != nil && !c.connected && c.medium == call.MediumVoice:
		err = s.move(c.id, []string{"sales", "support"}[r.IntN(2)], h.at)
	case k < 82 && c != nil && !c.connected:
		err = s.setPriority(c.id, r.IntN(10), h.at)
	case k < 83:
		err = s.reload(p.cfgs[r.IntN(2)], h.at)
	default:
		h.advance(time.Duration(r.IntN(8000)) * time.Millisecond)
	}
	h.must(err)
}

// account records terminal outcomes from the effects and feeds Stats.
func (p *propSim) account() {
	h := p.h
	for _, e := range h.eff {
		switch e.kind {
		case effectExit:
			p.ends[e.exit.Contact] = append(p.ends[e.exit.Contact], "exit")
		case effectEvent:
			p.stats.Add(e.event)
			switch e.event.Type {
			case EventQueueAnswered, EventQueueAbandoned, EventQueueCancelled:
				p.ends[e.event.CallID] = append(p.ends[e.event.CallID], string(e.event.Type))
			case EventQueueCompleted:
				if got := p.ends[e.event.CallID]; len(got) != 1 || got[0] != string(EventQueueAnswered) {
					p.t.Fatalf("completed %s after %v", e.event.CallID, got)
				}
			}
		}
	}
	h.eff = h.eff[:0]
}

func (p *propSim) checkInvariants() {
	s := p.h.s
	for id, a := range s.agents {
		var n [numMedia]int
		for _, o := range a.offers {
			n[o.c.medium]++
			if o.c.offers == nil || !slices.Contains(o.c.offers, o) {
				p.t.Fatalf("agent %s holds an offer its contact forgot", id)
			}
		}
		for _, c := range a.active {
			n[c.medium]++
			if c.agent != a || !c.connected || s.contacts[c.id] != c {
				p.t.Fatalf("agent %s holds a stray contact %s", id, c.id)
			}
		}
		for m := range numMedia {
			if n[m] > a.cap[m] {
				p.t.Fatalf("agent %s: %d contacts of medium %d, capacity %d", id, n[m], m, a.cap[m])
			}
			own := 0
			if call.Medium(m) == call.MediumVoice {
				own = len(a.own)
			}
			if a.load[m] != n[m]+own {
				p.t.Fatalf("agent %s load %d, holds %d+%d", id, a.load[m], n[m], own)
			}
		}
		if len(a.offers) > 0 && !a.loggedIn {
			p.t.Fatalf("logged-out agent %s has offers", id)
		}
	}
	seen := map[call.ID]bool{}
	for _, q := range s.queues {
		for i, c := range q.waiting {
			if seen[c.id] || c.q != q || c.connected || s.contacts[c.id] != c {
				p.t.Fatalf("contact %s misplaced in %s", c.id, q.name)
			}
			seen[c.id] = true
			if i > 0 && !before(q.waiting[i-1], c) {
				p.t.Fatalf("queue %s out of order at %d", q.name, i)
			}
		}
	}
	for id, c := range s.contacts {
		if !c.connected && !seen[id] {
			p.t.Fatalf("waiting contact %s in no queue", id)
		}
		if len(p.ends[id]) > 1 || len(p.ends[id]) == 1 && !c.connected {
			p.t.Fatalf("contact %s held after %v", id, p.ends[id])
		}
	}
}

// checkFIFO runs before every offer of c to a: no contact of the same
// priority that arrived earlier in the queue, routable, could have had a.
func (p *propSim) checkFIFO(c *contact, a *agent, now time.Time) {
	s := p.h.s
	if s.stickyHeld(c, now) != nil {
		return
	}
	for _, d := range c.q.waiting {
		if d == c || d.seq > c.seq || d.priority != c.priority || len(d.offers) > 0 || s.stickyHeld(d, now) != nil {
			continue
		}
		if d.missed[a.prof.ID] != c.missed[a.prof.ID] {
			continue // agents who missed a contact are its last resort
		}
		if a.canTake(d.medium) && a.offers[d.id] == nil && s.requirement(d, now).met(a) {
			p.t.Fatalf("FIFO: %s (seq %d) offered to %s before %s (seq %d, same priority %d)", c.id, c.seq, a.prof.ID, d.id, d.seq, d.priority)
		}
	}
}
