package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

// openTestAt opens a store whose clock reads now.
func openTestAt(t testing.TB, now time.Time) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "switchd.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// qev is a contact's event in a queue.
func qev(typ string, d time.Duration, id, queue string, data ...string) call.Event {
	e := call.Event{Time: at(d), Type: call.EventType(typ), CallID: call.ID(id), Medium: call.MediumVoice,
		Caller: call.Party{Number: "+44" + id}, Data: map[string]string{"queue": queue}}
	for i := 0; i+1 < len(data); i += 2 {
		e.Data[data[i]] = data[i+1]
	}
	return e
}

func agentEv(d time.Duration, agent, state, notReady string) call.Event {
	e := call.Event{Time: at(d), Type: "agent_state", Data: map[string]string{"agent": agent, "state": state, "reason": "login"}}
	if notReady != "" {
		e.Data["not_ready"] = notReady
	}
	return e
}

func mustAppend(t testing.TB, st *Store, events ...call.Event) {
	t.Helper()
	if err := st.AppendQueueEvents(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

// sameEvents compares events as the store keeps them: Seq ignored, times
// at millisecond precision in UTC, Caller's number only.
func sameEvents(t *testing.T, got, want []call.Event) {
	t.Helper()
	norm := func(list []call.Event) []call.Event {
		out := make([]call.Event, len(list))
		for i, e := range list {
			e.Seq, e.Time, e.Caller = 0, e.Time.Truncate(time.Millisecond).UTC(), call.Party{Number: e.Caller.Number}
			if len(e.Data) == 0 {
				e.Data = nil
			}
			out[i] = e
		}
		return out
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("events\n got %+v\nwant %+v", g, w)
	}
}

func TestQueueEventsRoundTrip(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	joined := qev("queue_joined", 0, "c1", "sales", "priority", "5", "position", "1", "reason", "joined sales: 0 agents ready")
	joined.Time = joined.Time.Add(1234567 * time.Nanosecond) // sub-millisecond part is dropped
	joined.Caller.Name = "Alice"                             // not kept
	offered := qev("queue_offered", time.Second, "c1", "sales", "agent", "a1", "strategy", "longest-idle",
		"eligible", "a1,a2", "criterion", "idle 45s", "reason", `chose a1 (idle 45s) of "a1,a2"`)
	chat := qev("queue_joined", 2*time.Second, "c2", "support")
	chat.Medium = call.MediumChat
	state := agentEv(3*time.Second, "a1", "reserved", "")
	lost := qev("queue_lost", 4*time.Second, "c2", "support", "wait_ms", "2000")
	lost.Cause = call.CauseSwitchRestart
	bare := call.Event{Time: at(5 * time.Second), Type: "queue_wrapup_ended", CallID: "c1"} // no data, no medium
	all := []call.Event{joined, offered, chat, state, lost, bare}
	mustAppend(t, st, all...)

	got, err := st.QueueEvents(ctx, QueueEventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, all)
	if got[0].Caller.Name != "" || !got[0].Time.Equal(at(time.Millisecond)) {
		t.Fatalf("first event %+v: want time truncated to the millisecond, no caller name", got[0])
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatalf("Seq not increasing: %d then %d", got[i-1].Seq, got[i].Seq)
		}
	}

	for _, tc := range []struct {
		name string
		f    QueueEventFilter
		want []call.Event
	}{
		{"call", QueueEventFilter{CallID: "c1"}, []call.Event{joined, offered, bare}},
		{"queue", QueueEventFilter{Queue: "support"}, []call.Event{chat, lost}},
		{"agent", QueueEventFilter{Agent: "a1"}, []call.Event{offered, state}},
		{"since until", QueueEventFilter{Since: at(time.Second), Until: at(4 * time.Second)}, []call.Event{offered, chat, state}},
		{"queue and time", QueueEventFilter{Queue: "sales", Since: at(time.Second)}, []call.Event{offered}},
		{"none", QueueEventFilter{CallID: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.QueueEvents(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			sameEvents(t, got, tc.want)
		})
	}

	var exported []call.Event
	for e, err := range st.ExportQueueEvents(ctx, QueueEventFilter{Queue: "sales", Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		exported = append(exported, e)
	}
	sameEvents(t, exported, []call.Event{joined, offered}) // Limit does not apply to an export
}

func TestQueueEventsLimit(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	var all []call.Event
	for i := range 12 {
		all = append(all, qev("queue_joined", time.Duration(i)*time.Second, "c"+strconv.Itoa(i), "sales"))
	}
	// Two events in the same millisecond keep the order they were recorded in.
	all = append(all, qev("queue_abandoned", 11*time.Second, "c11", "sales"))
	mustAppend(t, st, all...)
	got, err := st.QueueEvents(ctx, QueueEventFilter{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, all[len(all)-5:])
	got, err = st.QueueEvents(ctx, QueueEventFilter{Queue: "sales", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, all[len(all)-2:])
	if got, _ := st.QueueEvents(ctx, QueueEventFilter{Limit: -1}); len(got) != len(all) {
		t.Fatalf("negative limit: %d events, want all %d", len(got), len(all))
	}
}

func TestQueueEventsDefaultAndMaxLimit(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	batch := make([]call.Event, MaxQueueEventLimit+5)
	for i := range batch {
		batch[i] = qev("queue_joined", time.Duration(i)*time.Millisecond, "c"+strconv.Itoa(i), "sales")
	}
	mustAppend(t, st, batch...)
	got, err := st.QueueEvents(ctx, QueueEventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != DefaultQueueEventLimit || got[len(got)-1].CallID != batch[len(batch)-1].CallID {
		t.Fatalf("default: %d events ending %s, want the last %d", len(got), got[len(got)-1].CallID, DefaultQueueEventLimit)
	}
	got, err = st.QueueEvents(ctx, QueueEventFilter{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxQueueEventLimit || got[0].CallID != batch[5].CallID {
		t.Fatalf("max: %d events from %s, want the last %d", len(got), got[0].CallID, MaxQueueEventLimit)
	}
}

func TestAppendQueueEventsRefusesWholeBatch(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	good := qev("queue_joined", 0, "c1", "sales")
	for _, bad := range []call.Event{{Type: "queue_joined", CallID: "c2"}, {Time: at(0), CallID: "c2"}} {
		err := st.AppendQueueEvents(ctx, []call.Event{good, bad})
		if !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), "event 2 of 2") {
			t.Fatalf("err = %v, want ErrInvalidEvent naming event 2", err)
		}
	}
	if got, _ := st.QueueEvents(ctx, QueueEventFilter{}); len(got) != 0 {
		t.Fatalf("a refused batch left %d events", len(got))
	}
	if err := st.AppendQueueEvents(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestAgentStatesUpsert(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	for _, id := range []string{"bob", "alice"} {
		if err := st.PutAgent(ctx, Agent{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := st.AgentStates(ctx); err != nil || len(got) != 0 {
		t.Fatalf("AgentStates = %v, %v; want none", got, err)
	}
	steps := []AgentState{
		{"bob", "available", "", at(time.Second)},
		{"alice", "not_ready", "lunch", at(2 * time.Second)},
		{"bob", "busy", "break", at(3 * time.Second)}, // a pause pending while busy
	}
	for _, s := range steps {
		if err := st.PutAgentState(ctx, s.Agent, s.State, s.Reason, s.Since); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.AgentStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []AgentState{steps[1], steps[2]}
	if len(got) != len(want) {
		t.Fatalf("AgentStates = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Agent != want[i].Agent || got[i].State != want[i].State || got[i].Reason != want[i].Reason || !got[i].Since.Equal(want[i].Since) {
			t.Fatalf("AgentStates[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if err := st.PutAgentState(ctx, "ghost", "available", "", at(0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown agent: err = %v, want ErrNotFound", err)
	}
	// Removing the agent removes its state.
	if err := st.RemoveAgent(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.AgentStates(ctx); len(got) != 1 || got[0].Agent != "bob" {
		t.Fatalf("after RemoveAgent: %+v", got)
	}
}

func TestWaitingContacts(t *testing.T) {
	now := at(48 * time.Hour)
	st := openTestAt(t, now)
	ctx := t.Context()
	h := 47 * time.Hour // an hour before now
	chat := qev("queue_joined", h+5*time.Second, "chat", "support")
	chat.Medium = call.MediumChat
	mustAppend(t, st,
		// Too old to be waiting: its last event is beyond the horizon.
		qev("queue_joined", time.Hour, "ancient", "sales"),
		// Waiting after each kind of waiting event.
		qev("queue_joined", h, "joined", "sales"),
		qev("queue_joined", h, "offered", "sales"),
		qev("queue_offered", h+time.Second, "offered", "sales", "agent", "a1"),
		qev("queue_joined", h+time.Second, "missed", "sales"),
		qev("queue_offered", h+2*time.Second, "missed", "sales", "agent", "a1"),
		qev("queue_offer_missed", h+22*time.Second, "missed", "sales", "agent", "a1", "miss", "timeout"),
		qev("queue_joined", h+2*time.Second, "moved", "sales"),
		qev("queue_moved", h+30*time.Second, "moved", "billing", "from", "sales"),
		qev("queue_priority", h+40*time.Second, "moved", "billing", "priority", "9"),
		// Joined more than a day ago, but its last event is recent.
		qev("queue_joined", 23*time.Hour, "patient", "sales"),
		qev("queue_priority", h+3*time.Second, "patient", "sales", "priority", "50"),
		chat,
		agentEv(h+6*time.Second, "a1", "available", ""),
		// Gone: each way of leaving.
		qev("queue_joined", h, "answered", "sales"),
		qev("queue_answered", h+time.Second, "answered", "sales", "agent", "a1"),
		qev("queue_completed", h+time.Minute, "answered", "sales", "agent", "a1"),
		qev("queue_wrapup_ended", h+2*time.Minute, "answered", "sales", "agent", "a1"),
		qev("queue_joined", h, "abandoned", "sales"),
		qev("queue_abandoned", h+time.Second, "abandoned", "sales"),
		qev("queue_joined", h, "overflowed", "sales"),
		qev("queue_overflowed", h+time.Second, "overflowed", "sales"),
		qev("queue_joined", h, "cancelled", "sales"),
		qev("queue_cancelled", h+time.Second, "cancelled", "sales"),
		qev("queue_joined", h, "lost", "sales"),
		qev("queue_lost", h+time.Second, "lost", "sales"),
		// Answered, then transferred back into a queue: waiting again.
		qev("queue_joined", h, "back", "sales"),
		qev("queue_answered", h+time.Second, "back", "sales", "agent", "a1"),
		qev("queue_completed", h+2*time.Second, "back", "sales", "agent", "a1"),
		qev("queue_joined", h+10*time.Second, "back", "support"),
	)
	got, err := st.WaitingContacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []WaitingContact{
		{"patient", "voice", "+44patient", "sales", at(23 * time.Hour)},
		{"joined", "voice", "+44joined", "sales", at(h)},
		{"offered", "voice", "+44offered", "sales", at(h)},
		{"missed", "voice", "+44missed", "sales", at(h + time.Second)},
		{"chat", "chat", "+44chat", "support", at(h + 5*time.Second)},
		{"back", "voice", "+44back", "support", at(h + 10*time.Second)},
		{"moved", "voice", "+44moved", "billing", at(h + 30*time.Second)},
	}
	if len(got) != len(want) {
		t.Fatalf("WaitingContacts\n got %+v\nwant %+v", got, want)
	}
	for i := range want {
		g := got[i]
		g.Joined = g.Joined.UTC()
		if g != want[i] {
			t.Fatalf("WaitingContacts[%d] = %+v, want %+v", i, g, want[i])
		}
	}
}

// TestQueueEventsUseIndexes holds the queries to their indexes, so that a
// table of millions of rows is not scanned whole.
func TestQueueEventsUseIndexes(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	plan := func(q string, args ...any) string {
		rows, err := st.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "; ")
	}
	for _, f := range []QueueEventFilter{
		{CallID: "c1"}, {Queue: "sales"}, {Agent: "a1"}, {Since: at(0)},
		{Queue: "sales", Since: at(0), Until: at(time.Hour)}, {Agent: "a1", Since: at(0)},
	} {
		where, args := f.where()
		p := plan(`SELECT `+queueEventCols+` FROM queue_events`+where+` ORDER BY at DESC, seq DESC LIMIT 10`, args...)
		if !strings.Contains(p, "USING INDEX") {
			t.Errorf("filter %+v: plan %q uses no index", f, p)
		}
	}
	// WaitingContacts: the day's rows by the time index, each contact's by
	// the call_id index.
	p := plan(waitingContactsSQL, 0)
	for _, index := range []string{"queue_events_at", "queue_events_call_id"} {
		if !strings.Contains(p, index) {
			t.Errorf("WaitingContacts: plan %q does not use %s", p, index)
		}
	}
}

// BenchmarkAppendQueueEvents appends batches of 100 events (the ACD
// persister's batch size), reporting the cost per event.
func BenchmarkAppendQueueEvents(b *testing.B) {
	st := openTestAt(b, t0)
	ctx := context.Background()
	// A realistic mix (a fifth each: joined, answered, agent_state; two
	// fifths offers with their trace), built before timing.
	events := make([]call.Event, 100*100)
	for n := range events {
		id := fmt.Sprintf("0196a1b2-0000-7000-8000-%012d", n/5)
		d := time.Duration(n) * time.Millisecond
		switch n % 5 {
		case 0:
			events[n] = qev("queue_joined", d, id, "sales", "priority", "0", "position", "3", "waiting", "3", "reason", "joined sales")
		case 1, 2:
			events[n] = qev("queue_offered", d, id, "sales", "agent", "a"+strconv.Itoa(n%40),
				"strategy", "longest-idle", "eligible", "a1,a2,a3", "eligible_count", "3", "criterion", "idle 45s", "reason", "chose a1 (idle 45s)")
		case 3:
			events[n] = qev("queue_answered", d, id, "sales", "agent", "a1", "wait_ms", "12000", "total_wait_ms", "12000")
		default:
			events[n] = agentEv(d, "a"+strconv.Itoa(n%40), "busy", "")
		}
	}
	n := 0
	for b.Loop() {
		i := n % len(events)
		if err := st.AppendQueueEvents(ctx, events[i:i+100]); err != nil {
			b.Fatal(err)
		}
		n += 100
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkWaitingContacts runs the start-up query on a table of
// 200 000 events (SWITCHD_BENCH_QUEUE_EVENTS sets another number; four days of a busy centre; the last day
// counts) with a hundred contacts waiting.
func BenchmarkWaitingContacts(b *testing.B) {
	rows := 200_000
	if s := os.Getenv("SWITCHD_BENCH_QUEUE_EVENTS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	span := 96 * time.Hour
	st := openTestAt(b, at(span))
	ctx := context.Background()
	batch := make([]call.Event, 0, 1000)
	for i := 0; i < rows; i++ {
		d := time.Duration(int64(span) / int64(rows) * int64(i))
		id := fmt.Sprintf("c%09d", i/4)
		typ := [...]string{"queue_joined", "queue_offered", "queue_answered", "queue_completed"}[i%4]
		if i >= rows-400 && typ != "queue_joined" {
			typ = "queue_offered" // the last hundred contacts are still waiting
		}
		batch = append(batch, qev(typ, d, id, "sales", "agent", "a1"))
		if len(batch) == cap(batch) || i == rows-1 {
			mustAppend(b, st, batch...)
			batch = batch[:0]
		}
	}
	for b.Loop() {
		w, err := st.WaitingContacts(ctx)
		if err != nil || len(w) != 100 {
			b.Fatalf("WaitingContacts: %d, %v", len(w), err)
		}
	}
}
