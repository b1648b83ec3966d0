package acd

import (
	"strconv"
	"time"

	"github.com/switchd/switchd/call"
)

// Event types the engine publishes (Event.Data keys below). Every contact
// that joins a queue leaves it exactly once, by queue_answered,
// queue_abandoned, queue_overflowed, queue_cancelled, queue_moved or
// queue_lost; an answered contact then ends with queue_completed and, once
// the agent's wrap-up ends, queue_wrapup_ended.
const (
	EventQueueJoined      call.EventType = "queue_joined"       // queue, priority, position, waiting, reason
	EventQueueOffered     call.EventType = "queue_offered"      // queue, agent, strategy, eligible, eligible_count, criterion, reason
	EventQueueOfferMissed call.EventType = "queue_offer_missed" // queue, agent, miss (rejected, timeout, logged_out), misses, reason
	EventQueueAnswered    call.EventType = "queue_answered"     // queue, agent, wait_ms, total_wait_ms
	EventQueueAbandoned   call.EventType = "queue_abandoned"    // queue, wait_ms, position
	EventQueueOverflowed  call.EventType = "queue_overflowed"   // queue, wait_ms, target_kind, target, reason
	EventQueueCancelled   call.EventType = "queue_cancelled"    // queue, wait_ms, reason
	EventQueueMoved       call.EventType = "queue_moved"        // queue (the new one), from, wait_ms, reason; a supervisor's move
	EventQueueLost        call.EventType = "queue_lost"         // queue, wait_ms; Cause switch_restart (Restore)
	EventQueueCompleted   call.EventType = "queue_completed"    // queue, agent, talk_ms, hold_ms
	EventQueueWrapUpEnded call.EventType = "queue_wrapup_ended" // queue, agent, wrap_ms; CallID the contact wrapped up
	EventQueuePriority    call.EventType = "queue_priority"     // queue, priority, from, reason; a supervisor's change
	EventAgentState       call.EventType = "agent_state"        // agent, state, from, reason (not-ready code), cause
)

// Keys of Event.Data for queue and agent events. Durations are whole
// milliseconds in decimal.
const (
	DataQueue         = "queue"
	DataAgent         = "agent"
	DataReason        = "reason"         // a sentence: why this happened (the routing trace)
	DataPriority      = "priority"       // effective priority at the time
	DataPosition      = "position"       // 1 = next
	DataWaiting       = "waiting"        // contacts waiting in the queue
	DataWaitMS        = "wait_ms"        // time in this queue
	DataTotalWaitMS   = "total_wait_ms"  // time since the contact first joined any queue
	DataStrategy      = "strategy"       //
	DataEligible      = "eligible"       // comma-separated agent IDs (at most maxTraceAgents, then "…")
	DataEligibleCount = "eligible_count" //
	DataCriterion     = "criterion"      // what decided, e.g. "idle 45s", "proficiency 9", "sticky"
	DataMiss          = "miss"           // rejected, timeout, logged_out
	DataMisses        = "misses"         // consecutive misses of the agent
	DataTargetKind    = "target_kind"    //
	DataTarget        = "target"         //
	DataFrom          = "from"           // previous queue, state or priority
	DataState         = "state"          // an AgentState name
	DataNotReady      = "not_ready"      // the Reason code of a not_ready agent
	DataTalkMS        = "talk_ms"        // answer to end, hold included
	DataHoldMS        = "hold_ms"        //
	DataWrapMS        = "wrap_ms"        //
)

// maxTraceAgents bounds the agent IDs listed in one event.
const maxTraceAgents = 10

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// contactEvent is an event about contact c in its queue.
func contactEvent(t call.EventType, c *contact, now time.Time, data map[string]string) call.Event {
	if data == nil {
		data = map[string]string{}
	}
	if c.q != nil {
		data[DataQueue] = c.q.name
	}
	return call.Event{Time: now, Type: t, CallID: c.id, Medium: c.medium, Caller: c.caller, Data: data}
}
