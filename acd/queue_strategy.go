package acd

import (
	"container/heap"
	"fmt"
	"sort"

	"github.com/switchd/switchd/call"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Routing. After every change, dispatch looks at the queues the change
// concerns (dirty) and offers their routable contacts — waiting, no offer
// ringing — in effective order (priority with aging descending, then
// arrival) to eligible agents, chosen by each queue's strategy. An agent is
// eligible for a contact when:
//
//   - they are a member of its queue, logged in, not not-ready, not in
//     wrap-up, and below their capacity for its medium (offers count);
//   - they have every required skill (queue's and contact's) at the
//     minimum proficiency, as relaxed by the steps the contact's wait in
//     the queue has reached;
//   - no queue where their membership priority is higher has a routable
//     contact they are eligible for.
//
// A returning caller (sticky routing) is offered only to the agent who
// served them last while that agent is logged in and the queue's
// sticky_wait has not passed.
//
// Invariant after settle: no routable contact has an eligible agent (except
// a contact waiting for its sticky agent), so a change needs to look only
// at the queues it touches.

// skillReq is one skill an agent needs, with its minimum proficiency.
type skillReq struct {
	name string
	min  int
}

// requirement is what an agent needs for contact c at now; any means any
// member of the queue will do.
type requirement struct {
	skills []skillReq
	any    bool
	step   int // relaxation steps applied
}

func (s *core) requirement(c *contact, now time.Time) requirement {
	q := c.q
	wait := now.Sub(c.qJoined)
	step := 0
	for _, st := range q.cfg.Relax {
		if st.After.D() > wait {
			break
		}
		step++
	}
	if c.req.q == q && c.req.gen == q.gen && c.req.r.step == step {
		return c.req.r
	}
	r := s.computeRequirement(c, wait)
	c.req.q, c.req.gen, c.req.r = q, q.gen, r
	return r
}

// computeRequirement builds the requirement of c after waiting wait in its
// queue (requirement caches it per queue configuration and step).
func (s *core) computeRequirement(c *contact, wait time.Duration) requirement {
	q := c.q
	var r requirement
	capMin := MaxProficiency
	var dropped []string
	for _, st := range q.cfg.Relax {
		if st.After.D() > wait {
			break
		}
		r.step++
		if st.Any {
			r.any = true
			return r
		}
		if st.MinProficiency > 0 {
			capMin = min(capMin, st.MinProficiency)
		}
		dropped = append(dropped, st.Drop...)
	}
	add := func(name string, lvl int) {
		if slices.Contains(dropped, name) {
			return
		}
		lvl = min(lvl, capMin)
		for i := range r.skills {
			if r.skills[i].name == name {
				r.skills[i].min = max(r.skills[i].min, lvl)
				return
			}
		}
		r.skills = append(r.skills, skillReq{name, lvl})
	}
	for name, lvl := range q.cfg.Skills {
		add(name, lvl)
	}
	for name, lvl := range c.skills {
		add(name, lvl)
	}
	return r
}

func (r requirement) met(a *agent) bool {
	if r.any {
		return true
	}
	for _, sk := range r.skills {
		if a.prof.Skills[sk.name] < sk.min {
			return false
		}
	}
	return true
}

func (r requirement) String() string {
	if r.any {
		return "any agent (relaxed)"
	}
	if len(r.skills) == 0 {
		return "no skills"
	}
	parts := make([]string, len(r.skills))
	sorted := slices.Clone(r.skills)
	slices.SortFunc(sorted, func(a, b skillReq) int { return strings.Compare(a.name, b.name) })
	for i, sk := range sorted {
		parts[i] = sk.name + "≥" + strconv.Itoa(sk.min)
	}
	s := strings.Join(parts, ",")
	if r.step > 0 {
		s += fmt.Sprintf(" (relaxation step %d)", r.step)
	}
	return s
}

// dispatch routes the routable contacts of the dirty queues, best first
// across them. It does not sort every waiting contact: a queue's contacts
// of one base priority are FIFO and age alike, so the head of each level
// is the best of it, and a heap of level heads (a few per queue) yields the
// effective order lazily. A queue drops out as soon as none of the agents
// ready at the start of the pass has capacity left, so freeing one agent
// costs about the contacts examined before one fits them.
func (s *core) dispatch(now time.Time) {
	qs := append([]*queue(nil), s.dirty...)
	s.dirty = s.dirty[:0]
	h := cursorHeap{now: now}
	for _, q := range qs {
		q.isDirty = false
		q.ready = q.ready[:0]
		for _, m := range q.order {
			if m.a.ready() {
				q.ready = append(q.ready, m.a)
			}
		}
		if len(q.ready) == 0 {
			continue
		}
		w := q.waiting
		for i := 0; i < len(w); {
			p := w[i].priority
			end := i + sort.Search(len(w)-i, func(k int) bool { return w[i+k].priority < p })
			h.items = append(h.items, cursor{q: q, i: i, end: end, eff: q.effPriority(w[i], now)})
			i = end
		}
	}
	heap.Init(&h)
	offers := s.offerSeq
	for len(h.items) > 0 {
		cur := &h.items[0]
		q := cur.q
		if !q.anyCapacity() {
			heap.Pop(&h)
			continue
		}
		c := q.waiting[cur.i]
		// During a pass contacts only gain offers; indexes stay valid.
		if !c.connected && len(c.offers) == 0 && q.canTake(c.medium) {
			s.route(c, now)
		}
		cur.i++
		if cur.i == cur.end {
			heap.Pop(&h)
			continue
		}
		cur.eff = q.effPriority(q.waiting[cur.i], now)
		heap.Fix(&h, 0)
	}
	for _, q := range qs {
		q.ready = q.ready[:0]
	}
	if s.offerSeq != offers {
		for d := range s.deferred {
			s.markDirty(d.q)
		}
	}
	clear(s.deferred)
}

// cursor walks one priority level of a queue during a routing pass.
type cursor struct {
	q      *queue
	i, end int // next contact, end of the level in q.waiting
	eff    int // effective priority of q.waiting[i]
}

// cursorHeap orders level heads: effective priority descending, arrival.
type cursorHeap struct {
	items []cursor
	now   time.Time
}

func (h *cursorHeap) Len() int { return len(h.items) }
func (h *cursorHeap) Less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if a.eff != b.eff {
		return a.eff > b.eff
	}
	return arrived(a.q.waiting[a.i], b.q.waiting[b.i])
}
func (h *cursorHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *cursorHeap) Push(x any)    { h.items = append(h.items, x.(cursor)) }
func (h *cursorHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// anyCapacity reports whether an agent of the pass's ready list can still
// take an offer of some medium.
func (q *queue) anyCapacity() bool {
	for _, a := range q.ready {
		if a.ready() {
			for m := range numMedia {
				if a.load[m] < a.cap[m] {
					return true
				}
			}
		}
	}
	return false
}

// canTake reports whether an agent of the routing pass's ready list takes
// an offer of medium m now.
func (q *queue) canTake(m call.Medium) bool {
	for _, a := range q.ready {
		if a.canTake(m) {
			return true
		}
	}
	return false
}

// eligible reports whether a may be offered c under requirement r.
func (s *core) eligible(a *agent, c *contact, r requirement, now time.Time) bool {
	if !a.canTake(c.medium) || a.offers[c.id] != nil || !r.met(a) {
		return false
	}
	key := deferral{a, c.q}
	if s.deferred[key] {
		return false
	}
	if s.prefersOther(a, c.q, now) {
		// Not for this queue in this pass, not even for later contacts:
		// FIFO holds if the preference goes away (another agent takes
		// the contact a preferred) and the queue is routed again.
		if s.deferred == nil {
			s.deferred = map[deferral]bool{}
		}
		s.deferred[key] = true
		return false
	}
	return true
}

// deferral is an agent passed over in a queue because they prefer another.
type deferral struct {
	a *agent
	q *queue
}

// prefersOther reports whether a has a queue of higher membership priority
// than q with a routable contact they are eligible for.
func (s *core) prefersOther(a *agent, q *queue, now time.Time) bool {
	m := a.mem[q.name]
	if m == nil || len(a.mem) < 2 {
		return false
	}
	for _, o := range a.mem {
		if o.Priority <= m.Priority {
			continue
		}
		for _, c := range o.q.waiting {
			if len(c.offers) > 0 || !a.canTake(c.medium) || a.offers[c.id] != nil || s.stickyHeld(c, now) != nil {
				continue
			}
			if s.requirement(c, now).met(a) {
				return true
			}
		}
	}
	return false
}

// stickyHeld returns the agent a contact waits for (sticky routing), or nil.
func (s *core) stickyHeld(c *contact, now time.Time) *agent {
	if c.sticky == "" || c.q.cfg.StickyWait == 0 || now.Sub(c.qJoined) >= c.q.cfg.StickyWait.D() {
		return nil
	}
	a := s.agents[c.sticky]
	if a == nil || !a.loggedIn || a.mem[c.q.name] == nil {
		return nil
	}
	return a
}

// route offers c to the agent(s) its queue's strategy chooses, if any.
func (s *core) route(c *contact, now time.Time) {
	q := c.q
	r := s.requirement(c, now)
	if sa := s.stickyHeld(c, now); sa != nil {
		if s.eligible(sa, c, r, now) {
			s.offer(c, []*agent{sa}, []*agent{sa}, "sticky: served this caller last", r, now)
		}
		return
	}
	var elig []*agent
	for _, a := range q.ready { // members ready at the start of the pass, in ID order
		if s.eligible(a, c, r, now) {
			elig = append(elig, a)
		}
	}
	if len(elig) == 0 {
		return
	}
	chosen, crit := s.choose(q, c, elig, now)
	s.offer(c, elig, chosen, crit, r, now)
}

// choose applies the penalty tier, the missed-offer rule and the strategy.
func (s *core) choose(q *queue, c *contact, elig []*agent, now time.Time) ([]*agent, string) {
	pen := q.members[elig[0].prof.ID].Penalty
	for _, a := range elig {
		pen = min(pen, q.members[a.prof.ID].Penalty)
	}
	tier := make([]*agent, 0, len(elig))
	for _, a := range elig {
		if q.members[a.prof.ID].Penalty == pen {
			tier = append(tier, a)
		}
	}
	crit := ""
	if pen != 0 {
		crit = "penalty " + strconv.Itoa(pen) + ", "
	}
	if len(c.missed) > 0 {
		fresh := slices.DeleteFunc(slices.Clone(tier), func(a *agent) bool { return c.missed[a.prof.ID] })
		if len(fresh) > 0 {
			tier = fresh
		} else {
			crit += "every eligible agent missed it, "
		}
	}
	longestIdle := func(as []*agent) *agent {
		best := as[0]
		for _, a := range as[1:] {
			if a.idleSince.Before(best.idleSince) {
				best = a
			}
		}
		return best
	}
	// minBy returns the agents with the lowest key, in ID order.
	minBy := func(key func(*agent) int64) []*agent {
		var out []*agent
		var lo int64
		for _, a := range tier {
			k := key(a)
			switch {
			case len(out) == 0 || k < lo:
				out, lo = []*agent{a}, k
			case k == lo:
				out = append(out, a)
			}
		}
		return out
	}
	var a *agent
	switch q.cfg.Strategy {
	case StrategyRingAll:
		return tier, crit + "ring all " + strconv.Itoa(len(tier))
	case StrategyRoundRobin:
		a = tier[0]
		for _, x := range tier {
			if x.prof.ID > q.rrLast {
				a = x
				break
			}
		}
		q.rrLast = a.prof.ID
		crit += "next after the last chosen"
	case StrategyFewestContacts:
		best := minBy(func(a *agent) int64 { return int64(q.members[a.prof.ID].answered) })
		a = longestIdle(best)
		crit += fmt.Sprintf("%d contacts answered", q.members[a.prof.ID].answered)
	case StrategyLeastTalkTime:
		best := minBy(func(a *agent) int64 { return int64(q.members[a.prof.ID].talk) })
		a = longestIdle(best)
		crit += fmt.Sprintf("talk time %s", q.members[a.prof.ID].talk.Round(time.Second))
	case StrategyLinear:
		a = tier[0]
		crit += "first in order"
	case StrategyRandom:
		a = tier[s.rand.IntN(len(tier))]
		crit += "random"
	case StrategySkills:
		names := make([]string, 0, len(q.cfg.Skills)+len(c.skills))
		for n := range q.cfg.Skills {
			names = append(names, n)
		}
		for n := range c.skills {
			if _, dup := q.cfg.Skills[n]; !dup {
				names = append(names, n)
			}
		}
		score := func(a *agent) int64 {
			t := 0
			for _, n := range names {
				t += a.prof.Skills[n]
			}
			return int64(-t)
		}
		best := minBy(score)
		a = longestIdle(best)
		crit += fmt.Sprintf("proficiency %d", -score(a))
	default: // longest-idle
		a = longestIdle(tier)
		crit += "idle " + now.Sub(a.idleSince).Round(time.Millisecond).String()
	}
	return []*agent{a}, crit
}

// offer rings each chosen agent with c.
func (s *core) offer(c *contact, elig, chosen []*agent, crit string, r requirement, now time.Time) {
	q := c.q
	ids := make([]string, 0, min(len(elig), maxTraceAgents+1))
	for i, a := range elig {
		if i == maxTraceAgents {
			ids = append(ids, "…")
			break
		}
		ids = append(ids, string(a.prof.ID))
	}
	eligible := strings.Join(ids, ",")
	for _, a := range chosen {
		if s.onOffer != nil {
			s.onOffer(c, a, now)
		}
		s.offerSeq++
		o := &offer{id: s.offerSeq, c: c, a: a, deadline: now.Add(q.cfg.OfferTimeout.D())}
		c.offers = append(c.offers, o)
		a.offers[c.id] = o
		a.load[c.medium]++
		s.schedule(timer{at: o.deadline, kind: timerOffer, cid: c.id, aid: a.prof.ID, oid: o.id})
		s.out = append(s.out, effect{kind: effectOffer, offer: Offer{
			Contact: c.id, Medium: c.medium, Caller: c.caller, Agent: a.prof.ID, Devices: a.prof.Devices,
			Queue: q.name, Timeout: q.cfg.OfferTimeout.D(), Attributes: c.attrs,
		}})
		why := fmt.Sprintf("%s: %d eligible (%s) for %s; chose %s by %s",
			q.cfg.Strategy, len(elig), eligible, r, a.prof.ID, crit)
		s.emit(contactEvent(EventQueueOffered, c, now, map[string]string{
			DataAgent: string(a.prof.ID), DataStrategy: q.cfg.Strategy.String(), DataEligible: eligible,
			DataEligibleCount: strconv.Itoa(len(elig)), DataCriterion: crit, DataReason: why,
			DataPriority: strconv.Itoa(q.effPriority(c, now)),
		}))
		s.touch(a, "offered "+string(c.id))
	}
}
