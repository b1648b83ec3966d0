package acd

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/switchd/switchd/call"
)

// putAgent adds an agent (logged out) or updates a profile in place.
func (s *core) putAgent(p Agent, now time.Time) error {
	if err := p.validate(); err != nil {
		return err
	}
	p.Skills = maps.Clone(p.Skills)
	p.Capacity = maps.Clone(p.Capacity)
	p.Devices = slices.Clone(p.Devices)
	p.Queues = slices.Clone(p.Queues)
	a := s.agents[p.ID]
	if a == nil {
		a = &agent{offers: map[call.ID]*offer{}, active: map[call.ID]*contact{}, own: map[call.ID]bool{}, shown: AgentLoggedOut, idleSince: now}
		s.agents[p.ID] = a
	}
	a.prof, a.cap = p, p.capacity()
	s.link(a)
	s.touch(a, "profile updated")
	s.freed(a)
	s.settle(now)
	return nil
}

// link (re)builds a's memberships from its profile and the queues that
// exist, keeping the per-queue counters of memberships that stay.
func (s *core) link(a *agent) {
	old := a.mem
	a.mem = map[string]*membership{}
	for _, m := range old {
		if q := m.q; q.members[a.prof.ID] == m {
			delete(q.members, a.prof.ID)
			q.order = slices.DeleteFunc(q.order, func(x *membership) bool { return x == m })
		}
	}
	for _, ms := range a.prof.Queues {
		q := s.queues[ms.Queue]
		if q == nil {
			continue
		}
		m := &membership{Membership: ms, a: a, q: q}
		if o := old[ms.Queue]; o != nil && o.q == q {
			m.answered, m.talk = o.answered, o.talk
		}
		a.mem[q.name] = m
		q.members[a.prof.ID] = m
		i, _ := slices.BinarySearchFunc(q.order, a.prof.ID, func(x *membership, id AgentID) int {
			return cmpString(string(x.a.prof.ID), string(id))
		})
		q.order = slices.Insert(q.order, i, m)
	}
}

func (s *core) agent(id AgentID) (*agent, error) {
	a := s.agents[id]
	if a == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoAgent, id)
	}
	return a, nil
}

func illegal(a *agent, op string) error {
	return fmt.Errorf("%w: %s while %s (agent %s)", ErrAgentState, op, a.state(), a.prof.ID)
}

// removeAgent forgets a logged-out agent.
func (s *core) removeAgent(id AgentID, now time.Time) error {
	a, err := s.agent(id)
	if err != nil {
		return err
	}
	if a.loggedIn || len(a.active) > 0 {
		return illegal(a, "remove")
	}
	a.prof.Queues = nil
	s.link(a)
	delete(s.agents, id)
	s.settle(now)
	return nil
}

// login: logged_out → available.
func (s *core) login(id AgentID, now time.Time) error {
	a, err := s.agent(id)
	if err != nil {
		return err
	}
	if a.loggedIn {
		return illegal(a, "login")
	}
	a.loggedIn, a.notReady, a.reason, a.misses, a.idleSince = true, false, "", 0, now
	for _, m := range a.mem {
		m.answered, m.talk = 0, 0
	}
	s.touch(a, "logged in")
	s.freed(a)
	s.settle(now)
	return nil
}

// logout: any → logged_out; offers ringing are withdrawn (the contacts keep
// their place), a wrap-up ends, contacts held go on until ContactEnded.
func (s *core) logout(id AgentID, now time.Time) error {
	a, err := s.agent(id)
	if err != nil {
		return err
	}
	if !a.loggedIn {
		return illegal(a, "logout")
	}
	for _, o := range slices.Collect(maps.Values(a.offers)) {
		c := o.c
		s.dropOffer(o)
		s.out = append(s.out, effect{kind: effectWithdraw, withdraw: Withdrawal{Contact: c.id, Agent: id, Reason: "logged_out"}})
		s.emit(contactEvent(EventQueueOfferMissed, c, now, map[string]string{
			DataAgent: string(id), DataMiss: "logged_out", DataMisses: "0", DataReason: string(id) + " logged out while ringing",
		}))
		s.returned(c, now)
	}
	s.endWrap(a, now, "logged out")
	a.loggedIn, a.notReady, a.reason, a.misses = false, false, "", 0
	s.touch(a, "logged out")
	s.settle(now)
	return nil
}

// setNotReady: any logged-in state → not_ready (reason r); contacts held
// and offers ringing go on, and no new offer comes.
func (s *core) setNotReady(id AgentID, r Reason, now time.Time) error {
	a, err := s.agent(id)
	if err != nil {
		return err
	}
	if !a.loggedIn {
		return illegal(a, "not ready")
	}
	if r == "" {
		r = ReasonUnspecified
	}
	a.notReady, a.reason = true, r
	s.touch(a, "not ready: "+string(r))
	s.settle(now)
	return nil
}

// setAvailable: not_ready or wrap_up (or a pause pending while busy) →
// available.
func (s *core) setAvailable(id AgentID, now time.Time) error {
	a, err := s.agent(id)
	if err != nil {
		return err
	}
	if !a.loggedIn || !a.notReady && a.wrapUntil.IsZero() {
		return illegal(a, "available")
	}
	a.notReady, a.reason, a.misses = false, "", 0
	s.endWrap(a, now, "made available")
	s.touch(a, "made available")
	s.freed(a)
	s.settle(now)
	return nil
}

// endWrapUp: wrap_up → available (or not_ready if paused).
func (s *core) endWrapUp(id AgentID, now time.Time) error {
	a, err := s.agent(id)
	if err != nil {
		return err
	}
	if a.wrapUntil.IsZero() {
		return illegal(a, "end wrap-up")
	}
	s.endWrap(a, now, "wrap-up ended by agent")
	s.settle(now)
	return nil
}

// ownCall records a non-queue call of the agent (busy for queue purposes:
// it takes one voice slot) starting or ending.
func (s *core) ownCall(id AgentID, cid call.ID, up bool, now time.Time) error {
	a, err := s.agent(id)
	if err != nil {
		return err
	}
	switch {
	case up && !a.own[cid]:
		a.own[cid] = true
		a.load[call.MediumVoice]++
		s.touch(a, "own call "+string(cid))
	case !up && a.own[cid]:
		delete(a.own, cid)
		a.load[call.MediumVoice]--
		if len(a.own) == 0 && len(a.active) == 0 {
			a.idleSince = now
		}
		s.touch(a, "own call ended "+string(cid))
		s.freed(a)
	}
	s.settle(now)
	return nil
}

// reload applies a new queue configuration: queues kept get their new
// rules at once (waiting contacts included), new queues appear, removed
// queues take no new contacts and disappear once their contacts left.
func (s *core) reload(cfg Config, now time.Time) error {
	if err := checkConfig(cfg); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, qc := range cfg.Queues {
		keep[qc.Name] = true
		if q := s.queues[qc.Name]; q != nil {
			q.cfg, q.retired = qc.withDefaults(), false
			q.gen++
		} else {
			s.queues[qc.Name] = &queue{name: qc.Name, cfg: qc.withDefaults(), members: map[AgentID]*membership{}}
		}
	}
	for name, q := range s.queues {
		if !keep[name] {
			q.retired = true
		}
	}
	for _, id := range sortedKeys(s.agents) {
		s.link(s.agents[id])
	}
	for _, name := range sortedKeys(s.queues) {
		q := s.queues[name]
		for _, c := range q.waiting {
			s.scheduleWaiting(c, now)
			if d := q.cfg.MaxWait.D(); d > 0 && !c.qJoined.Add(d).After(now) {
				s.schedule(timer{at: now, kind: timerMaxWait, cid: c.id, queue: q.name})
			}
		}
		s.markDirty(q)
	}
	s.step(now)
	return nil
}
