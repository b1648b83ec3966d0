package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/switchd/switchd/call"
)

// ErrInvalidEvent is returned for an event the store refuses (no type or
// no time).
var ErrInvalidEvent = errors.New("store: invalid event")

// Limits of QueueEvents.
const (
	// DefaultQueueEventLimit is how many events QueueEvents returns when
	// the filter sets no Limit.
	DefaultQueueEventLimit = 1000
	// MaxQueueEventLimit caps QueueEvents' Limit.
	MaxQueueEventLimit = 10_000
)

// WaitingHorizon is how far back WaitingContacts looks: a contact whose
// latest event is older is not considered waiting (no contact waits a day;
// the bound keeps the start-up scan to a day of events).
const WaitingHorizon = 24 * time.Hour

// The Event.Data keys the store copies into their own columns (package
// acd's DataQueue and DataAgent; the store does not import acd).
const (
	dataQueue = "queue"
	dataAgent = "agent"
)

// The event types after which a contact is still waiting in a queue
// (package acd's), and those that (re)start its wait.
const (
	waitingTypes = `'queue_joined','queue_moved','queue_offered','queue_offer_missed','queue_priority'`
	joinedTypes  = `'queue_joined','queue_moved'`
)

// waitingContactsSQL selects the contacts WaitingContacts returns; its
// parameter is the start of the horizon (unix ms). max(seq) makes the bare
// columns those of each contact's latest row (SQLite's documented min/max
// bare-column rule). INDEXED BY: without statistics the planner would
// rather walk the whole call_id index in GROUP BY order than sort one
// day's rows.
const waitingContactsSQL = `
SELECT l.call_id, l.medium, l.caller, l.queue,
	(SELECT max(j.at) FROM queue_events j
		WHERE j.call_id = l.call_id AND j.call_id <> '' AND j.type IN (` + joinedTypes + `)) AS joined
FROM (SELECT call_id, max(seq) AS last, type, medium, caller, queue FROM queue_events INDEXED BY queue_events_at
	WHERE at >= ? AND call_id <> '' GROUP BY call_id) AS l
WHERE l.type IN (` + waitingTypes + `)
ORDER BY joined, l.call_id`

const queueEventInsertSQL = `INSERT INTO queue_events(at, type, call_id, queue, agent, medium, caller, cause, data)
	VALUES (?,?,?,?,?,?,?,?,?)`

// AppendQueueEvents records ACD events (queue_* and agent_state) in one
// transaction, in order. Each row keeps Time (to the millisecond), Type,
// CallID, Medium, Caller.Number, Cause and Data; Data's "queue" and "agent"
// are also indexed columns. Seq, Direction, State, HangupSide, Callee and
// the caller's name are not kept. An event without Type or Time fails the
// batch with ErrInvalidEvent.
func (s *Store) AppendQueueEvents(ctx context.Context, events []call.Event) error {
	if len(events) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: append queue events: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, queueEventInsertSQL)
	if err != nil {
		return fmt.Errorf("store: append queue events: prepare: %w", err)
	}
	defer stmt.Close()
	for i, e := range events {
		if e.Type == "" || e.Time.IsZero() {
			return fmt.Errorf("%w: event %d of %d (%q, call %q): no type or time", ErrInvalidEvent, i+1, len(events), e.Type, e.CallID)
		}
		data := "{}"
		if len(e.Data) > 0 {
			b, err := json.Marshal(e.Data)
			if err != nil {
				return fmt.Errorf("store: append queue event %s: data: %w", e.Type, err)
			}
			data = string(b)
		}
		if _, err := stmt.ExecContext(ctx, ms(e.Time), string(e.Type), string(e.CallID), e.Data[dataQueue], e.Data[dataAgent],
			enumName(e.Medium, e.Medium.String()), e.Caller.Number, enumName(e.Cause, e.Cause.String()), data); err != nil {
			return fmt.Errorf("store: append queue event %s (call %q): %w", e.Type, e.CallID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: append queue events: commit: %w", err)
	}
	return nil
}

// enumName is name, or "" for an enumeration's zero value (unknown).
func enumName[T ~uint8](v T, name string) string {
	if v == 0 {
		return ""
	}
	return name
}

// QueueEventFilter selects ACD events. Zero fields do not filter.
type QueueEventFilter struct {
	CallID string // one contact's events
	Queue  string // events of the queue (a queue_moved is the queue moved to's)
	Agent  string // events naming the agent: offers, answers, its states
	Since  time.Time
	Until  time.Time // exclusive
	// Limit keeps the most recent Limit events: 0 means
	// DefaultQueueEventLimit, and it is at most MaxQueueEventLimit.
	Limit int
}

func (f QueueEventFilter) where() (string, []any) {
	var conds []string
	var args []any
	// The "<> ''" conditions let SQLite use the partial indexes.
	if f.CallID != "" {
		conds, args = append(conds, "call_id = ? AND call_id <> ''"), append(args, f.CallID)
	}
	if f.Queue != "" {
		conds, args = append(conds, "queue = ? AND queue <> ''"), append(args, f.Queue)
	}
	if f.Agent != "" {
		conds, args = append(conds, "agent = ? AND agent <> ''"), append(args, f.Agent)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "at >= ?"), append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, "at < ?"), append(args, ms(f.Until))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

const queueEventCols = `seq, at, type, call_id, medium, caller, cause, data`

// QueueEvents returns the most recent events f selects (see Limit), oldest
// first. Event.Seq is the store's own sequence number, which orders every
// event recorded, across restarts.
func (s *Store) QueueEvents(ctx context.Context, f QueueEventFilter) ([]call.Event, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultQueueEventLimit
	}
	limit = min(limit, MaxQueueEventLimit)
	where, args := f.where()
	rows, err := s.r.QueryContext(ctx, `SELECT `+queueEventCols+` FROM queue_events`+where+
		` ORDER BY at DESC, seq DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: queue events: %w", err)
	}
	defer rows.Close()
	var out []call.Event
	for rows.Next() {
		e, err := scanQueueEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: queue events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue events: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// ExportQueueEvents streams every event f selects, oldest first, without
// holding them in memory and ignoring f.Limit: what a report replays into
// acd.Stats. Stopping the loop early releases the query.
func (s *Store) ExportQueueEvents(ctx context.Context, f QueueEventFilter) iter.Seq2[call.Event, error] {
	return func(yield func(call.Event, error) bool) {
		where, args := f.where()
		rows, err := s.r.QueryContext(ctx, `SELECT `+queueEventCols+` FROM queue_events`+where+` ORDER BY at, seq`, args...)
		if err != nil {
			yield(call.Event{}, fmt.Errorf("store: export queue events: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanQueueEvent(rows)
			if err != nil {
				yield(call.Event{}, fmt.Errorf("store: export queue events: %w", err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(call.Event{}, fmt.Errorf("store: export queue events: %w", err))
		}
	}
}

func scanQueueEvent(sc interface{ Scan(...any) error }) (call.Event, error) {
	var e call.Event
	var seq, at int64
	var typ, callID, medium, cause, data string
	if err := sc.Scan(&seq, &at, &typ, &callID, &medium, &e.Caller.Number, &cause, &data); err != nil {
		return call.Event{}, err
	}
	e.Seq, e.Time, e.Type, e.CallID = uint64(seq), fromMS(at), call.EventType(typ), call.ID(callID)
	if err := e.Medium.UnmarshalText([]byte(medium)); err != nil {
		return call.Event{}, fmt.Errorf("event %d: %w", seq, err)
	}
	var err error
	if e.Cause, err = call.ParseCause(cause); err != nil {
		return call.Event{}, fmt.Errorf("event %d: %w", seq, err)
	}
	if data != "" && data != "{}" {
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return call.Event{}, fmt.Errorf("event %d: data: %w", seq, err)
		}
	}
	return e, nil
}

// AgentState is an agent's last recorded state (package acd's AgentState
// name, e.g. "not_ready") with its not-ready reason code, if any.
type AgentState struct {
	Agent  string
	State  string
	Reason string
	Since  time.Time
}

// PutAgentState records an agent's current state, replacing the previous
// one. ErrNotFound if the agent has no profile (agents).
func (s *Store) PutAgentState(ctx context.Context, agent, state, reason string, since time.Time) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO agent_states(agent, state, reason, since)
		SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM agents WHERE id = ?1)
		ON CONFLICT(agent) DO UPDATE SET state=excluded.state, reason=excluded.reason, since=excluded.since`,
		agent, state, reason, ms(since))
	if err != nil {
		return fmt.Errorf("store: put agent state %s: %w", agent, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: put agent state %s: %w", agent, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: agent %s", ErrNotFound, agent)
	}
	return nil
}

// AgentStates returns every agent's last recorded state, by agent.
func (s *Store) AgentStates(ctx context.Context) ([]AgentState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT agent, state, reason, since FROM agent_states ORDER BY agent`)
	if err != nil {
		return nil, fmt.Errorf("store: agent states: %w", err)
	}
	defer rows.Close()
	var out []AgentState
	for rows.Next() {
		var a AgentState
		var since int64
		if err := rows.Scan(&a.Agent, &a.State, &a.Reason, &since); err != nil {
			return nil, fmt.Errorf("store: agent states: %w", err)
		}
		a.Since = fromMS(since)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: agent states: %w", err)
	}
	return out, nil
}

// WaitingContact is a contact the recorded events leave waiting in a
// queue: after a crash, one the switch lost.
type WaitingContact struct {
	CallID string
	Medium string
	Caller string    // number
	Queue  string    // the queue it waited in
	Joined time.Time // its latest queue_joined or queue_moved
}

// WaitingContacts returns the contacts whose latest event (of the last
// WaitingHorizon) leaves them waiting: queue_joined, queue_moved,
// queue_offered, queue_offer_missed or queue_priority, not followed by an
// event of their leaving. They are ordered by Joined. It reads a day of
// events through the time index, and the contacts' own events through the
// call_id index.
func (s *Store) WaitingContacts(ctx context.Context) ([]WaitingContact, error) {
	rows, err := s.r.QueryContext(ctx, waitingContactsSQL, ms(s.now().Add(-WaitingHorizon)))
	if err != nil {
		return nil, fmt.Errorf("store: waiting contacts: %w", err)
	}
	defer rows.Close()
	var out []WaitingContact
	for rows.Next() {
		var w WaitingContact
		var joined sql.NullInt64
		if err := rows.Scan(&w.CallID, &w.Medium, &w.Caller, &w.Queue, &joined); err != nil {
			return nil, fmt.Errorf("store: waiting contacts: %w", err)
		}
		if joined.Valid {
			w.Joined = fromMS(joined.Int64)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: waiting contacts: %w", err)
	}
	return out, nil
}
