package acd

import (
	"time"

	"github.com/switchd/switchd/call"
)

// Snapshot is what the wiring persists so that a restarted switch gets its
// agents back (Engine.Snapshot, Engine.Restore).
type Snapshot struct {
	Taken   time.Time         `json:"taken"`
	Agents  []AgentSnapshot   `json:"agents"`
	Waiting []WaitingSnapshot `json:"waiting,omitempty"`
}

// AgentSnapshot is one agent's state. Contacts, offers and wrap-ups are
// not restorable: a restored agent who was busy, reserved or in wrap-up
// comes back available (or not ready, if paused).
type AgentSnapshot struct {
	ID        AgentID    `json:"id"`
	State     AgentState `json:"state"`
	NotReady  bool       `json:"not_ready,omitempty"`
	Reason    Reason     `json:"reason,omitempty"`
	IdleSince time.Time  `json:"idle_since,omitzero"`
}

// WaitingSnapshot is a contact that was waiting when the snapshot was
// taken; after a restart it is lost (voice contacts cannot be restored).
type WaitingSnapshot struct {
	ID     call.ID     `json:"id"`
	Medium call.Medium `json:"medium"`
	Caller call.Party  `json:"caller,omitzero"`
	Queue  string      `json:"queue"`
	Joined time.Time   `json:"joined"`
}

func (s *core) snapshot(now time.Time) Snapshot {
	snap := Snapshot{Taken: now}
	for _, id := range sortedKeys(s.agents) {
		a := s.agents[id]
		snap.Agents = append(snap.Agents, AgentSnapshot{
			ID: id, State: a.state(), NotReady: a.loggedIn && a.notReady, Reason: a.reason, IdleSince: a.idleSince,
		})
	}
	for _, id := range sortedKeys(s.contacts) {
		c := s.contacts[id]
		if !c.connected {
			snap.Waiting = append(snap.Waiting, WaitingSnapshot{ID: id, Medium: c.medium, Caller: c.caller, Queue: c.q.name, Joined: c.qJoined})
		}
	}
	return snap
}

// restore brings back the agents of a snapshot (those with a profile:
// PutAgent first) and records its waiting contacts as lost.
func (s *core) restore(snap Snapshot, now time.Time) []WaitingSnapshot {
	for _, as := range snap.Agents {
		a := s.agents[as.ID]
		if a == nil || as.State == AgentLoggedOut || as.State == AgentStateUnknown {
			continue
		}
		a.loggedIn, a.notReady, a.reason, a.misses = true, as.NotReady, as.Reason, 0
		if !as.NotReady {
			a.reason = ""
		}
		a.idleSince = as.IdleSince
		if a.idleSince.IsZero() {
			a.idleSince = now
		}
		s.touch(a, "restored after restart")
		s.freed(a)
	}
	var lost []WaitingSnapshot
	for _, w := range snap.Waiting {
		if s.contacts[w.ID] != nil {
			continue
		}
		lost = append(lost, w)
		s.emit(call.Event{Time: now, Type: EventQueueLost, CallID: w.ID, Medium: w.Medium, Caller: w.Caller,
			Cause: call.CauseSwitchRestart, Data: map[string]string{
				DataQueue: w.Queue, DataWaitMS: ms(max(0, snap.Taken.Sub(w.Joined))),
				DataReason: "waiting when the switch stopped",
			}})
	}
	s.settle(now)
	return lost
}

// Status is the engine's state at one instant, for the API and dashboards.
type Status struct {
	Queues []QueueStatus
	Agents []AgentStatus
}

// QueueStatus is one queue's state.
type QueueStatus struct {
	Name          string
	Retired       bool
	Waiting       int
	LongestWait   time.Duration
	Members       int
	Present       int           // logged in and not not-ready
	Ready         int           // taking offers now
	EstimatedWait time.Duration // for a new contact (voice)
	Known         bool
}

func (s *core) status(now time.Time) Status {
	var st Status
	for _, name := range sortedKeys(s.queues) {
		q := s.queues[name]
		qs := QueueStatus{Name: name, Retired: q.retired, Waiting: len(q.waiting), Members: len(q.order)}
		for _, c := range q.waiting {
			qs.LongestWait = max(qs.LongestWait, now.Sub(c.qJoined))
		}
		for _, m := range q.order {
			if m.a.present() {
				qs.Present++
			}
			if m.a.ready() {
				qs.Ready++
			}
		}
		qs.EstimatedWait, qs.Known = s.estimate(q, call.MediumVoice, len(q.waiting)+1)
		st.Queues = append(st.Queues, qs)
	}
	for _, id := range sortedKeys(s.agents) {
		a := s.agents[id]
		as := AgentStatus{ID: id, State: a.state(), IdleSince: a.idleSince, WrapUpUntil: a.wrapUntil, Misses: a.misses, Load: map[call.Medium]int{}}
		if a.notReady && a.loggedIn {
			as.Reason = a.reason
		}
		for m, n := range a.load {
			if n > 0 {
				as.Load[call.Medium(m)] = n
			}
		}
		st.Agents = append(st.Agents, as)
	}
	return st
}
