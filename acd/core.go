package acd

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/switchd/switchd/call"
)

// core is the engine's state: every queue, agent, contact and timer. It
// has one owner (the Engine's loop goroutine, or a test) and no locks; it
// does no I/O. Operations take the current time, change the state, and
// append what the outside world must see (offers, withdrawals, exits,
// announcements, events) to out, which the owner flushes after the
// operation. Every operation ends with settle, which routes what the
// change made routable.
type core struct {
	queues   map[string]*queue
	agents   map[AgentID]*agent
	contacts map[call.ID]*contact

	seq      uint64 // arrival order of contacts
	offerSeq uint64
	timers   timerHeap
	rand     *rand.Rand

	sticky       map[string]stickyEntry // caller number → last agent
	stickyMemory time.Duration
	stickyMax    int

	onOffer func(c *contact, a *agent, now time.Time) // test hook, before each offer

	dirty    []*queue          // queues whose contacts may be routable
	deferred map[deferral]bool // agents passed over in this routing pass
	touched  []*agent          // agents whose state may have changed
	out      []effect
}

type stickyEntry struct {
	agent AgentID
	at    time.Time
}

// contact is a contact held by the engine: waiting in a queue (possibly
// with offers ringing) or connected to an agent until ContactEnded.
type contact struct {
	id       call.ID
	medium   call.Medium
	caller   call.Party
	skills   map[string]int
	priority int
	attrs    map[string]string

	q       *queue
	seq     uint64
	joined  time.Time // first joined a queue of this engine (aging, total wait)
	qJoined time.Time // joined q (relaxation, max wait, sticky wait)
	hops    int       // overflows to another queue

	offers       []*offer
	missed       map[AgentID]bool
	sticky       AgentID
	nextAnnounce time.Time

	connected bool
	agent     *agent
	answered  time.Time

	req struct { // cached requirement
		q   *queue
		gen uint64
		r   requirement
	}
}

type offer struct {
	id       uint64
	c        *contact
	a        *agent
	deadline time.Time
}

// queue is one queue's runtime state.
type queue struct {
	name    string
	cfg     QueueConfig // with defaults
	gen     uint64      // counts configuration changes (reloads)
	waiting []*contact  // base order: priority descending, then arrival
	members map[AgentID]*membership
	order   []*membership // by agent ID
	rrLast  AgentID
	ready   []*agent // during a routing pass: members ready at its start
	handle  handleTimes
	retired bool // removed by a reload: takes no new contacts, deleted when empty
	isDirty bool
}

type membership struct {
	Membership
	a        *agent
	q        *queue
	answered int           // contacts answered from this queue since login
	talk     time.Duration // talk time from this queue since login
}

// agent is one agent's runtime state.
type agent struct {
	prof     Agent
	cap      [numMedia]int
	loggedIn bool
	notReady bool
	reason   Reason
	misses   int

	wrapUntil time.Time // zero when not in wrap-up
	wrap      wrapInfo

	offers map[call.ID]*offer
	active map[call.ID]*contact
	own    map[call.ID]bool
	load   [numMedia]int

	idleSince time.Time
	mem       map[string]*membership // by queue name, only queues that exist

	shown       AgentState // last published
	shownReason Reason
	why         string // cause of the pending state change
	isTouched   bool
}

// wrapInfo is the contact an agent is wrapping up.
type wrapInfo struct {
	id     call.ID
	medium call.Medium
	q      *queue
	start  time.Time
	talk   time.Duration
}

// state derives the agent's state (see AgentState).
func (a *agent) state() AgentState {
	switch {
	case !a.loggedIn:
		return AgentLoggedOut
	case len(a.active) > 0 || len(a.own) > 0:
		return AgentBusy
	case len(a.offers) > 0:
		return AgentReserved
	case !a.wrapUntil.IsZero():
		return AgentWrapUp
	case a.notReady:
		return AgentNotReady
	}
	return AgentAvailable
}

// ready reports whether the agent takes offers at all.
func (a *agent) ready() bool { return a.loggedIn && !a.notReady && a.wrapUntil.IsZero() }

// canTake reports whether the agent takes an offer of medium m now.
func (a *agent) canTake(m call.Medium) bool {
	return a.ready() && int(m) < numMedia && a.load[m] < a.cap[m]
}

// present reports whether the agent counts for join/leave-when-empty.
func (a *agent) present() bool { return a.loggedIn && !a.notReady }

func newCore(cfg Config, r *rand.Rand) *core {
	c := &core{
		queues:       map[string]*queue{},
		agents:       map[AgentID]*agent{},
		contacts:     map[call.ID]*contact{},
		rand:         r,
		sticky:       map[string]stickyEntry{},
		stickyMemory: 24 * time.Hour,
		stickyMax:    100_000,
	}
	for _, qc := range cfg.Queues {
		c.queues[qc.Name] = &queue{name: qc.Name, cfg: qc.withDefaults(), members: map[AgentID]*membership{}}
	}
	return c
}

// effect is something the owner must do after an operation.
type effect struct {
	kind     effectKind
	offer    Offer
	withdraw Withdrawal
	exit     Exit
	announce Announcement
	event    call.Event
}

type effectKind uint8

const (
	effectEvent effectKind = iota
	effectOffer
	effectWithdraw
	effectExit
	effectAnnounce
)

func (s *core) emit(e call.Event) { s.out = append(s.out, effect{kind: effectEvent, event: e}) }

// takeEffects returns and clears the pending effects.
func (s *core) takeEffects() []effect {
	out := s.out
	s.out = nil
	return out
}

// markDirty schedules q for routing at the next settle.
func (s *core) markDirty(q *queue) {
	if q != nil && !q.isDirty {
		q.isDirty = true
		s.dirty = append(s.dirty, q)
	}
}

// touch records that a's state may have changed, and why.
func (s *core) touch(a *agent, why string) {
	if why != "" {
		a.why = why
	}
	if !a.isTouched {
		a.isTouched = true
		s.touched = append(s.touched, a)
	}
}

// freed schedules routing of a's queues: the agent may take a contact.
func (s *core) freed(a *agent) {
	for _, m := range a.mem {
		s.markDirty(m.q)
	}
}

// settle routes what the operation made routable, sends waiting contacts of
// queues left empty to their overflow, deletes drained retired queues, and
// publishes agent state changes.
func (s *core) settle(now time.Time) {
	// Routing repeats while a pass both made offers and passed agents
	// over (each repeat makes offers, so it ends); leaving-empty overflows
	// may free nothing but are checked each time.
	for range 1000 {
		s.leaveEmpty(now)
		if len(s.dirty) == 0 {
			break
		}
		s.dispatch(now)
	}
	for name, q := range s.queues {
		if q.retired && len(q.waiting) == 0 {
			for _, m := range q.order {
				delete(m.a.mem, name)
			}
			delete(s.queues, name)
		}
	}
	touched := s.touched
	s.touched = s.touched[:0]
	slices.SortFunc(touched, func(x, y *agent) int { return cmpString(string(x.prof.ID), string(y.prof.ID)) })
	for _, a := range touched {
		a.isTouched = false
		st := a.state()
		r := Reason("")
		if a.notReady && a.loggedIn {
			r = a.reason
		}
		if st == a.shown && r == a.shownReason {
			continue
		}
		data := map[string]string{DataAgent: string(a.prof.ID), DataState: st.String(), DataFrom: a.shown.String(), DataReason: a.why}
		if r != "" {
			data[DataNotReady] = string(r)
		}
		a.shown, a.shownReason, a.why = st, r, ""
		s.emit(call.Event{Time: now, Type: EventAgentState, Data: data})
	}
}

// leaveEmpty overflows the waiting contacts of leave_empty queues that no
// present agent serves.
func (s *core) leaveEmpty(now time.Time) {
	var names []string
	for name, q := range s.queues {
		if q.cfg.LeaveEmpty && len(q.waiting) > 0 && !q.present() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		q := s.queues[name]
		for _, c := range slices.Clone(q.waiting) {
			if len(c.offers) == 0 {
				s.overflow(c, "empty", now)
			}
		}
	}
}

// present reports whether any member agent is present.
func (q *queue) present() bool {
	for _, m := range q.order {
		if m.a.present() {
			return true
		}
	}
	return false
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Timers. Entries are never removed early: a fired entry re-checks the
// state it was set for and does nothing when that changed.

type timerKind uint8

const (
	timerOffer    timerKind = iota // offer deadline
	timerWrapUp                    // wrap-up end
	timerMaxWait                   // contact's max wait in its queue
	timerRoute                     // a relaxation step or sticky wait ends: route again
	timerAnnounce                  // announce position and estimated wait
)

type timer struct {
	at    time.Time
	kind  timerKind
	cid   call.ID
	aid   AgentID
	oid   uint64
	queue string
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (s *core) schedule(t timer) { heap.Push(&s.timers, t) }

// next returns when Step next has something to do (zero: nothing).
func (s *core) next() time.Time {
	if len(s.timers) == 0 {
		return time.Time{}
	}
	return s.timers[0].at
}

// step fires the timers due at now, then settles.
func (s *core) step(now time.Time) {
	for len(s.timers) > 0 && !s.timers[0].at.After(now) {
		t := heap.Pop(&s.timers).(timer)
		s.fire(t, now)
	}
	s.settle(now)
}

func (s *core) fire(t timer, now time.Time) {
	switch t.kind {
	case timerOffer:
		a := s.agents[t.aid]
		if a == nil {
			return
		}
		if o := a.offers[t.cid]; o != nil && o.id == t.oid {
			s.out = append(s.out, effect{kind: effectWithdraw, withdraw: Withdrawal{Contact: o.c.id, Agent: a.prof.ID, Reason: "timeout"}})
			s.miss(o, "timeout", now)
		}
	case timerWrapUp:
		a := s.agents[t.aid]
		if a != nil && !a.wrapUntil.IsZero() && !a.wrapUntil.After(now) && a.wrap.id == t.cid {
			s.endWrap(a, now, "wrap-up time over")
		}
	case timerMaxWait:
		c := s.waitingIn(t.cid, t.queue)
		if c != nil && len(c.offers) == 0 && c.q.cfg.MaxWait > 0 && now.Sub(c.qJoined) >= c.q.cfg.MaxWait.D() {
			s.overflow(c, "max_wait", now)
		}
	case timerRoute:
		if c := s.waitingIn(t.cid, t.queue); c != nil {
			s.markDirty(c.q)
		}
	case timerAnnounce:
		c := s.waitingIn(t.cid, t.queue)
		if c == nil || c.q.cfg.AnnounceInterval == 0 || !c.nextAnnounce.Equal(t.at) {
			return
		}
		if len(c.offers) == 0 {
			pos, waiting := c.q.position(c, now)
			ewt, known := s.estimate(c.q, c.medium, pos)
			s.out = append(s.out, effect{kind: effectAnnounce, announce: Announcement{
				Contact: c.id, Queue: c.q.name, Position: pos, Waiting: waiting,
				EstimatedWait: ewt, Known: known, MusicOnHold: c.q.cfg.MusicOnHold,
			}})
		}
		c.nextAnnounce = now.Add(c.q.cfg.AnnounceInterval.D())
		s.schedule(timer{at: c.nextAnnounce, kind: timerAnnounce, cid: c.id, queue: c.q.name})
	}
}

// waitingIn returns contact id if it waits in the queue named q.
func (s *core) waitingIn(id call.ID, q string) *contact {
	c := s.contacts[id]
	if c == nil || c.connected || c.q == nil || c.q.name != q {
		return nil
	}
	return c
}

// scheduleWaiting sets the timers of a contact that joined its queue (or
// whose queue was reloaded).
func (s *core) scheduleWaiting(c *contact, now time.Time) {
	q := c.q
	if d := q.cfg.MaxWait.D(); d > 0 {
		s.schedule(timer{at: c.qJoined.Add(d), kind: timerMaxWait, cid: c.id, queue: q.name})
	}
	for _, st := range q.cfg.Relax {
		if at := c.qJoined.Add(st.After.D()); at.After(now) {
			s.schedule(timer{at: at, kind: timerRoute, cid: c.id, queue: q.name})
		}
	}
	if d := q.cfg.StickyWait.D(); d > 0 && c.sticky != "" {
		s.schedule(timer{at: c.qJoined.Add(d), kind: timerRoute, cid: c.id, queue: q.name})
	}
	if d := q.cfg.AnnounceInterval.D(); d > 0 {
		c.nextAnnounce = now.Add(d)
		s.schedule(timer{at: c.nextAnnounce, kind: timerAnnounce, cid: c.id, queue: q.name})
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
