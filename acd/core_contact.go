package acd

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/switchd/switchd/call"
)

// enqueue puts a new contact in its queue (see Engine.Enqueue).
func (s *core) enqueue(ct Contact, now time.Time) (Position, error) {
	if ct.ID == "" || ct.Medium == call.MediumUnknown || int(ct.Medium) >= numMedia {
		return Position{}, fmt.Errorf("%w: id %q medium %s", ErrInvalidContact, ct.ID, ct.Medium)
	}
	if s.contacts[ct.ID] != nil {
		return Position{}, fmt.Errorf("%w: %s", ErrDuplicateContact, ct.ID)
	}
	q := s.queues[ct.Queue]
	if q == nil || q.retired {
		return Position{}, fmt.Errorf("%w: %q", ErrNoQueue, ct.Queue)
	}
	s.seq++
	joined := now
	if !ct.Since.IsZero() && ct.Since.Before(now) {
		joined = ct.Since
	}
	c := &contact{
		id: ct.ID, medium: ct.Medium, caller: ct.Caller, skills: maps.Clone(ct.Skills),
		priority: ct.Priority, attrs: maps.Clone(ct.Attributes), seq: s.seq, joined: joined,
	}
	if e, ok := s.sticky[ct.Caller.Number]; ok && ct.Caller.Number != "" && now.Sub(e.at) < s.stickyMemory {
		c.sticky = e.agent
	}
	pos, err := s.join(c, q, now, true)
	s.settle(now)
	if err == nil && s.contacts[c.id] == c && !c.connected {
		pos.Queue = c.q.name
		pos.Position, pos.Waiting = c.q.position(c, now)
		pos.EstimatedWait, pos.Known = s.estimate(c.q, c.medium, pos.Position)
	}
	return pos, err
}

// join puts c in q, or, when q refuses it (full, or empty and not to be
// joined), sends it to q's overflow. A refusal without overflow target is
// an error for a new contact (first) and an exit to nowhere otherwise.
func (s *core) join(c *contact, q *queue, now time.Time, first bool) (Position, error) {
	reason, refusal := "", error(nil)
	switch {
	case !q.present() && (!*q.cfg.JoinEmpty || q.cfg.LeaveEmpty):
		reason, refusal = "empty", ErrQueueEmpty
	case q.cfg.MaxWaiting > 0 && len(q.waiting) >= q.cfg.MaxWaiting:
		reason, refusal = "full", ErrQueueFull
	}
	if refusal != nil {
		if q.cfg.Overflow.IsZero() && first {
			return Position{}, fmt.Errorf("%w: %q", refusal, q.name)
		}
		c.q, c.qJoined = q, now
		s.emit(contactEvent(EventQueueOverflowed, c, now, map[string]string{
			DataWaitMS: "0", DataTargetKind: q.cfg.Overflow.Kind.String(), DataTarget: q.cfg.Overflow.Name,
			DataReason: fmt.Sprintf("refused on joining (%s): to %s", reason, q.cfg.Overflow),
		}))
		return s.sendTo(c, q, reason, now), nil
	}
	c.q, c.qJoined, c.missed = q, now, nil
	q.insert(c)
	s.contacts[c.id] = c
	pos, waiting := q.position(c, now)
	why := fmt.Sprintf("joined %s at position %d of %d with priority %d", q.name, pos, waiting, c.priority)
	if c.sticky != "" && q.cfg.StickyWait > 0 {
		why += fmt.Sprintf("; returning caller, agent %s preferred for %s", c.sticky, q.cfg.StickyWait.D())
	}
	s.emit(contactEvent(EventQueueJoined, c, now, map[string]string{
		DataPriority: strconv.Itoa(c.priority), DataPosition: strconv.Itoa(pos),
		DataWaiting: strconv.Itoa(waiting), DataReason: why,
	}))
	s.scheduleWaiting(c, now)
	s.markDirty(q)
	return Position{Queue: q.name}, nil
}

// sendTo moves c, which left (or was refused by) from, to from's overflow
// target: another queue (joined here), or the wiring through an Exit.
func (s *core) sendTo(c *contact, from *queue, reason string, now time.Time) Position {
	t := from.cfg.Overflow
	if t.Kind == TargetQueue {
		if tq := s.queues[t.Name]; tq != nil && !tq.retired && c.hops < maxOverflowHops {
			c.hops++
			pos, _ := s.join(c, tq, now, false)
			if !pos.Overflowed {
				pos.Queue = tq.name
			}
			pos.Overflowed, pos.Target = true, t
			return pos
		}
		reason, t = "no_target", Target{}
	}
	delete(s.contacts, c.id)
	s.out = append(s.out, effect{kind: effectExit, exit: Exit{Contact: c.id, Medium: c.medium, Queue: from.name, Target: t, Reason: reason}})
	return Position{Queue: from.name, Overflowed: true, Target: t}
}

// overflow takes a waiting contact out of its queue to the queue's target.
func (s *core) overflow(c *contact, reason string, now time.Time) {
	q := c.q
	s.withdrawAll(c, "overflow")
	q.remove(c)
	s.emit(contactEvent(EventQueueOverflowed, c, now, map[string]string{
		DataWaitMS: ms(now.Sub(c.qJoined)), DataTargetKind: q.cfg.Overflow.Kind.String(), DataTarget: q.cfg.Overflow.Name,
		DataReason: fmt.Sprintf("%s after waiting %s: to %s", reason, now.Sub(c.qJoined).Round(time.Millisecond), q.cfg.Overflow),
	}))
	s.sendTo(c, q, reason, now)
}

// withdrawAll stops every offer of c (no miss counted).
func (s *core) withdrawAll(c *contact, reason string) {
	for _, o := range slices.Clone(c.offers) {
		s.dropOffer(o)
		s.out = append(s.out, effect{kind: effectWithdraw, withdraw: Withdrawal{Contact: c.id, Agent: o.a.prof.ID, Reason: reason}})
		s.touch(o.a, "offer withdrawn: "+reason)
		s.freed(o.a)
	}
}

// dropOffer forgets an offer, freeing the agent's capacity.
func (s *core) dropOffer(o *offer) {
	c, a := o.c, o.a
	c.offers = slices.DeleteFunc(c.offers, func(x *offer) bool { return x == o })
	delete(a.offers, c.id)
	a.load[c.medium]--
}

// leave ends a waiting contact: abandoned (the caller hung up), cancelled
// (the wiring took it away), or moved by a supervisor.
func (s *core) leave(id call.ID, t call.EventType, reason string, now time.Time) error {
	c := s.contacts[id]
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNoContact, id)
	}
	if c.connected {
		return fmt.Errorf("%w: %s is answered", ErrContactState, id)
	}
	pos, _ := c.q.position(c, now)
	s.withdrawAll(c, map[call.EventType]string{EventQueueAbandoned: "abandoned", EventQueueCancelled: "cancelled"}[t])
	c.q.remove(c)
	delete(s.contacts, id)
	data := map[string]string{DataWaitMS: ms(now.Sub(c.qJoined)), DataPosition: strconv.Itoa(pos)}
	if reason != "" {
		data[DataReason] = reason
	}
	s.emit(contactEvent(t, c, now, data))
	s.settle(now)
	return nil
}

// move puts a waiting contact in another queue, keeping its arrival order
// and priority; a supervisor's move ignores max_waiting and join_empty.
func (s *core) move(id call.ID, to string, now time.Time) error {
	c := s.contacts[id]
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNoContact, id)
	}
	if c.connected {
		return fmt.Errorf("%w: %s is answered", ErrContactState, id)
	}
	tq := s.queues[to]
	if tq == nil || tq.retired {
		return fmt.Errorf("%w: %q", ErrNoQueue, to)
	}
	if tq == c.q {
		return nil
	}
	from := c.q
	s.withdrawAll(c, "moved")
	from.remove(c)
	wait := now.Sub(c.qJoined)
	c.q, c.qJoined, c.missed = tq, now, nil
	tq.insert(c)
	pos, waiting := tq.position(c, now)
	s.emit(contactEvent(EventQueueMoved, c, now, map[string]string{
		DataFrom: from.name, DataWaitMS: ms(wait), DataPosition: strconv.Itoa(pos), DataWaiting: strconv.Itoa(waiting),
		DataPriority: strconv.Itoa(c.priority),
		DataReason:   fmt.Sprintf("moved by supervisor from %s to %s at position %d of %d", from.name, tq.name, pos, waiting),
	}))
	s.scheduleWaiting(c, now)
	s.markDirty(tq)
	s.markDirty(from)
	s.settle(now)
	return nil
}

// setPriority changes a waiting contact's base priority.
func (s *core) setPriority(id call.ID, p int, now time.Time) error {
	c := s.contacts[id]
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNoContact, id)
	}
	if c.connected {
		return fmt.Errorf("%w: %s is answered", ErrContactState, id)
	}
	old := c.priority
	c.q.remove(c)
	c.priority = p
	c.q.insert(c)
	pos, waiting := c.q.position(c, now)
	s.emit(contactEvent(EventQueuePriority, c, now, map[string]string{
		DataPriority: strconv.Itoa(p), DataFrom: strconv.Itoa(old), DataPosition: strconv.Itoa(pos),
		DataReason: fmt.Sprintf("priority set by supervisor from %d to %d: position %d of %d", old, p, pos, waiting),
	}))
	s.markDirty(c.q)
	s.settle(now)
	return nil
}

// findOffer returns the offer of contact id ringing agent aid.
func (s *core) findOffer(id call.ID, aid AgentID) (*offer, error) {
	c := s.contacts[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoContact, id)
	}
	a := s.agents[aid]
	if a == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoAgent, aid)
	}
	o := a.offers[id]
	if o == nil {
		return nil, fmt.Errorf("%w: %s to %s", ErrNoOffer, id, aid)
	}
	return o, nil
}

// accepted connects the contact to the agent who answered.
func (s *core) accepted(id call.ID, aid AgentID, now time.Time) error {
	o, err := s.findOffer(id, aid)
	if err != nil {
		return err
	}
	c, a, q := o.c, o.a, o.c.q
	s.dropOffer(o)
	s.withdrawAll(c, "answered_elsewhere")
	q.remove(c)
	c.connected, c.agent, c.answered = true, a, now
	a.active[c.id] = c
	a.load[c.medium]++
	a.misses = 0
	if m := a.mem[q.name]; m != nil {
		m.answered++
	}
	if n := c.caller.Number; n != "" && q.cfg.StickyWait > 0 {
		if len(s.sticky) >= s.stickyMax {
			s.pruneSticky(now)
		}
		s.sticky[n] = stickyEntry{agent: a.prof.ID, at: now}
	}
	s.emit(contactEvent(EventQueueAnswered, c, now, map[string]string{
		DataAgent: string(aid), DataWaitMS: ms(now.Sub(c.qJoined)), DataTotalWaitMS: ms(now.Sub(c.joined)),
		DataReason: fmt.Sprintf("answered by %s after %s", aid, now.Sub(c.qJoined).Round(time.Millisecond)),
	}))
	s.touch(a, "answered "+string(c.id))
	s.settle(now)
	return nil
}

// pruneSticky forgets callers remembered longer than stickyMemory, and
// the oldest half if that is not enough.
func (s *core) pruneSticky(now time.Time) {
	for n, e := range s.sticky {
		if now.Sub(e.at) >= s.stickyMemory {
			delete(s.sticky, n)
		}
	}
	if len(s.sticky) < s.stickyMax {
		return
	}
	ats := make([]time.Time, 0, len(s.sticky))
	for _, e := range s.sticky {
		ats = append(ats, e.at)
	}
	slices.SortFunc(ats, func(a, b time.Time) int { return a.Compare(b) })
	cut := ats[len(ats)/2]
	for n, e := range s.sticky {
		if e.at.Before(cut) {
			delete(s.sticky, n)
		}
	}
}

// missed handles a rejected or timed-out offer reported by the wiring.
func (s *core) missed(id call.ID, aid AgentID, kind string, now time.Time) error {
	o, err := s.findOffer(id, aid)
	if err != nil {
		return err
	}
	s.miss(o, kind, now)
	s.settle(now)
	return nil
}

// miss ends an offer the agent did not take: the agent's RONA count
// rises (not-ready after the queue's rona misses in a row) and the
// contact, still at its place in the queue, is routable again.
func (s *core) miss(o *offer, kind string, now time.Time) {
	c, a, q := o.c, o.a, o.c.q
	s.dropOffer(o)
	if c.missed == nil {
		c.missed = map[AgentID]bool{}
	}
	c.missed[a.prof.ID] = true
	a.misses++
	why := fmt.Sprintf("%s missed %s (%s), %d in a row", a.prof.ID, c.id, kind, a.misses)
	if rona := *q.cfg.RONA; rona > 0 && a.misses >= rona && a.loggedIn && !a.notReady {
		a.notReady, a.reason = true, ReasonMissedOffer
		why += fmt.Sprintf(": not ready after %d missed offers (rona %d)", a.misses, rona)
		a.misses = 0
	}
	s.emit(contactEvent(EventQueueOfferMissed, c, now, map[string]string{
		DataAgent: string(a.prof.ID), DataMiss: kind, DataMisses: strconv.Itoa(a.misses), DataReason: why,
	}))
	s.touch(a, why)
	s.freed(a)
	s.returned(c, now)
}

// returned makes a contact whose offers ended routable again, at its place;
// one that reached max wait while ringing overflows now.
func (s *core) returned(c *contact, now time.Time) {
	if len(c.offers) > 0 || c.connected {
		return
	}
	if d := c.q.cfg.MaxWait.D(); d > 0 && now.Sub(c.qJoined) >= d {
		s.overflow(c, "max_wait", now)
		return
	}
	s.markDirty(c.q)
}

// ended finishes an answered contact and starts the agent's wrap-up.
func (s *core) ended(id call.ID, hold time.Duration, now time.Time) error {
	c := s.contacts[id]
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNoContact, id)
	}
	if !c.connected {
		return fmt.Errorf("%w: %s has not been answered (use Abandon)", ErrContactState, id)
	}
	a, q := c.agent, c.q
	delete(a.active, id)
	a.load[c.medium]--
	delete(s.contacts, id)
	talk := max(0, now.Sub(c.answered))
	if m := a.mem[q.name]; m != nil {
		m.talk += talk
	}
	s.emit(contactEvent(EventQueueCompleted, c, now, map[string]string{
		DataAgent: string(a.prof.ID), DataTalkMS: ms(talk), DataHoldMS: ms(max(0, min(hold, talk))),
	}))
	wrap := q.cfg.WrapUp.D()
	if a.prof.WrapUp != nil {
		wrap = *a.prof.WrapUp
	}
	if !a.wrapUntil.IsZero() {
		s.endWrap(a, now, "another contact ended")
	}
	a.wrap = wrapInfo{id: id, medium: c.medium, q: q, start: now, talk: talk}
	if a.loggedIn && wrap > 0 {
		a.wrapUntil = now.Add(wrap)
		s.schedule(timer{at: a.wrapUntil, kind: timerWrapUp, aid: a.prof.ID, cid: id})
		s.touch(a, fmt.Sprintf("%s ended: wrap-up %s", id, wrap))
	} else {
		s.endWrap(a, now, string(id)+" ended")
	}
	s.settle(now)
	return nil
}

// endWrap ends the agent's wrap-up (or records a zero one) and makes the
// agent idle from now.
func (s *core) endWrap(a *agent, now time.Time, why string) {
	w := a.wrap
	if w.id == "" {
		return
	}
	d := time.Duration(0)
	if !a.wrapUntil.IsZero() {
		d = max(0, now.Sub(w.start))
	}
	w.q.handle.add(w.talk + d)
	s.emit(call.Event{Time: now, Type: EventQueueWrapUpEnded, CallID: w.id, Medium: w.medium, Data: map[string]string{
		DataQueue: w.q.name, DataAgent: string(a.prof.ID), DataWrapMS: ms(d), DataReason: why,
	}})
	a.wrap, a.wrapUntil = wrapInfo{}, time.Time{}
	if len(a.active) == 0 {
		a.idleSince = now
	}
	s.touch(a, why)
	s.freed(a)
}
