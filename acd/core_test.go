package acd

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

func TestRONA(t *testing.T) {
	h := newHarness(t, queueYAML("rona: 2"))
	h.agent("a1 q=q")
	h.enqueue("c1 q")
	h.enqueue("c2 q")
	wantOffers(t, h.offers(), "c1>a1")
	h.advance(10 * time.Second) // engine expires the offer
	wantOffers(t, h.offers(), "c1>a1")
	if h.s.agents["a1"].misses != 1 {
		t.Fatalf("misses %d", h.s.agents["a1"].misses)
	}
	h.must(h.s.missed(id("c1"), "a1", "rejected", h.at))
	if got := h.state("a1"); got != AgentNotReady || h.s.agents["a1"].reason != ReasonMissedOffer {
		t.Fatalf("after 2 misses: %s %s", got, h.s.agents["a1"].reason)
	}
	wantOffers(t, h.offers())
	ev := h.events(EventAgentState)
	if last := ev[len(ev)-1]; last.Data[DataNotReady] != "missed_offer" || !strings.Contains(last.Data[DataReason], "rona 2") {
		t.Errorf("agent event %v", last.Data)
	}
	// Back at its place: c1 is still first.
	h.agent("a2 q=q")
	wantOffers(t, h.offers(), "c1>a2")
	if _, err := h.s.findOffer(id("c1"), "a1"); !errors.Is(err, ErrNoOffer) {
		t.Errorf("late result: %v", err)
	}
	// A late OfferTimedOut from the wiring is harmless.
	if err := h.s.missed(id("c1"), "a1", "timeout", h.at); !errors.Is(err, ErrNoOffer) {
		t.Errorf("late timeout: %v", err)
	}
}

func TestMissedOfferKeepsPlace(t *testing.T) {
	h := newHarness(t, queueYAML("rona: 0"))
	h.agent("a1 q=q")
	h.agent("a2 q=q out")
	h.enqueue("c1 q")
	h.advance(time.Second)
	h.enqueue("c2 q")
	h.enqueue("c3 q")
	wantOffers(t, h.offers(), "c1>a1")
	h.must(h.s.missed(id("c1"), "a1", "rejected", h.at))
	// a1 missed c1: with nobody else eligible it is offered again, first.
	wantOffers(t, h.offers(), "c1>a1")
	h.must(h.s.login("a2", h.at))
	wantOffers(t, h.offers(), "c2>a2")
	h.must(h.s.missed(id("c1"), "a1", "rejected", h.at))
	// a2 is busy ringing; a1 gets c1 again (its place), not c3.
	wantOffers(t, h.offers(), "c1>a1")
	if p, _ := h.s.queues["q"].position(h.s.contacts[id("c1")], h.at); p != 1 {
		t.Errorf("c1 at position %d", p)
	}
}

func TestWrapUp(t *testing.T) {
	h := newHarness(t, queueYAML("wrap_up: 30s"))
	h.agent("a1 q=q")
	h.enqueue("c1 q")
	h.enqueue("c2 q")
	h.offers()
	h.serve("c1", "a1", time.Minute)
	if h.state("a1") != AgentWrapUp {
		t.Fatalf("state %s", h.state("a1"))
	}
	h.advance(29 * time.Second)
	wantOffers(t, h.offers())
	h.advance(time.Second)
	wantOffers(t, h.offers(), "c2>a1")
	ev := h.events(EventQueueWrapUpEnded)
	if len(ev) != 1 || ev[0].Data[DataWrapMS] != "30000" || ev[0].CallID != id("c1") {
		t.Fatalf("wrap-up events %v", ev)
	}
	// Ended early, and an agent override.
	h.serve("c2", "a1", time.Second)
	h.enqueue("c3 q")
	h.advance(5 * time.Second)
	h.must(h.s.endWrapUp("a1", h.at))
	wantOffers(t, h.offers(), "c3>a1")
	if err := h.s.endWrapUp("a1", h.at); !errors.Is(err, ErrAgentState) {
		t.Errorf("end wrap-up while reserved: %v", err)
	}
	h.agent("a2 q=q wrap=0s")
	h.must(h.s.logout("a1", h.at))
	wantOffers(t, h.offers(), "c3>a2")
	h.serve("c3", "a2", time.Second)
	if h.state("a2") != AgentAvailable {
		t.Errorf("override 0s: %s", h.state("a2"))
	}
}

func TestOverflowAfterMaxWait(t *testing.T) {
	h := newHarness(t, `queues:
  - name: sales
    max_wait: 60s
    overflow: {kind: queue, name: backup}
  - name: backup
    max_wait: 30s
    overflow: {kind: voicemail, name: sales-box}
`)
	h.agent("a1 q=sales out")
	h.enqueue("c1 sales")
	h.advance(59 * time.Second)
	if h.s.contacts[id("c1")].q.name != "sales" {
		t.Fatal("moved early")
	}
	h.advance(time.Second)
	if c := h.s.contacts[id("c1")]; c == nil || c.q.name != "backup" {
		t.Fatal("not in backup")
	}
	ev := h.events(EventQueueOverflowed)
	if len(ev) != 1 || ev[0].Data[DataTarget] != "backup" || ev[0].Data[DataWaitMS] != "60000" {
		t.Fatalf("overflow events %v", ev)
	}
	h.advance(30 * time.Second)
	x := h.exits()
	if len(x) != 1 || x[0].Target != (Target{TargetVoicemail, "sales-box"}) || x[0].Reason != "max_wait" {
		t.Fatalf("exits %v", x)
	}
	if len(h.s.contacts) != 0 {
		t.Error("contact still held")
	}
}

func TestMaxWaitingAndEmptyPolicies(t *testing.T) {
	h := newHarness(t, `queues:
  - name: small
    max_waiting: 1
    join_empty: false
  - name: leaving
    leave_empty: true
    overflow: {kind: flow, name: after-hours}
`)
	if _, err := h.s.enqueue(Contact{ID: "x", Medium: call.MediumVoice, Queue: "small"}, h.at); !errors.Is(err, ErrQueueEmpty) {
		t.Fatalf("join empty: %v", err)
	}
	h.agent("a1 q=small,leaving")
	h.must(h.s.setNotReady("a1", ReasonLunch, h.at))
	if _, err := h.s.enqueue(Contact{ID: "x", Medium: call.MediumVoice, Queue: "small"}, h.at); !errors.Is(err, ErrQueueEmpty) {
		t.Fatalf("not-ready agents do not count: %v", err)
	}
	h.must(h.s.setAvailable("a1", h.at))
	h.must(h.s.setNotReady("a1", ReasonLunch, h.at)) // present but not... no: make present by busy
	h.must(h.s.setAvailable("a1", h.at))
	h.must(h.s.ownCall("a1", "own-1", true, h.at)) // busy, present
	h.enqueue("c1 small")
	if _, err := h.s.enqueue(Contact{ID: "x", Medium: call.MediumVoice, Queue: "small"}, h.at); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("full: %v", err)
	}
	h.enqueue("c2 leaving")
	h.enqueue("c3 leaving")
	h.must(h.s.logout("a1", h.at))
	x := h.exits()
	if len(x) != 2 || x[0].Contact != id("c2") || x[0].Target.Name != "after-hours" || x[0].Reason != "empty" {
		t.Fatalf("exits %v", x)
	}
	// Joining an empty leave_empty queue overflows at once.
	pos := h.enqueue("c4 leaving")
	if !pos.Overflowed || pos.Target.Name != "after-hours" {
		t.Fatalf("position %+v", pos)
	}
	if len(h.exits()) != 1 {
		t.Error("no exit")
	}
}

func TestVIPAndAging(t *testing.T) {
	h := newHarness(t, queueYAML("priority_aging: {every: 10s, step: 1, max: 50}"))
	h.agent("a1 q=q")
	h.must(h.s.setNotReady("a1", ReasonBreak, h.at))
	h.enqueue("n1 q prio=0")
	h.advance(time.Second)
	h.enqueue("n2 q prio=0")
	h.advance(time.Second)
	pos := h.enqueue("vip q prio=5")
	if pos.Position != 1 {
		t.Fatalf("VIP at %d", pos.Position)
	}
	h.must(h.s.setAvailable("a1", h.at))
	wantOffers(t, h.offers(), "vip>a1")
	h.serve("vip", "a1", time.Second)
	wantOffers(t, h.offers(), "n1>a1")
	h.must(h.s.accepted(id("n1"), "a1", h.at))
	// Aging: n2 has waited 3s; a VIP of priority 5 arrives; after 60s more n2
	// has aged to 6 and goes first although the VIP is 5 + 6 (aged 60s)...
	// both age at the same rate, so the VIP stays ahead; a lower-priority
	// newcomer never overtakes n2.
	h.advance(60 * time.Second)
	h.enqueue("late q prio=6")
	if p, _ := h.s.queues["q"].position(h.s.contacts[id("n2")], h.at); p != 1 {
		t.Errorf("n2 (aged 6 after 63s) at %d, newcomer of priority 6 must be behind", p)
	}
	h.advance(100 * time.Second) // n2 aged to 16, late to 16: FIFO decides
	h.hangup("n1")
	wantOffers(t, h.offers(), "n2>a1")
	// The cap: priority 5 aged 1000s stays at max 50; a 60 stays at 60.
	q := h.s.queues["q"]
	c := &contact{priority: 5, joined: h.at.Add(-1000 * time.Second)}
	if p := q.effPriority(c, h.at); p != 50 {
		t.Errorf("capped priority %d", p)
	}
	c.priority = 60
	if p := q.effPriority(c, h.at); p != 60 {
		t.Errorf("high priority lowered to %d", p)
	}
}

func TestStickyRouting(t *testing.T) {
	h := newHarness(t, queueYAML("sticky_wait: 20s"))
	h.agent("a1 q=q")
	h.advance(time.Second)
	h.agent("a2 q=q")
	h.enqueue("c1 q from=+4411")
	wantOffers(t, h.offers(), "c1>a1")
	h.serve("c1", "a1", time.Second)
	// The caller returns: a1 is longest idle? No: a2 is. Sticky wins.
	h.enqueue("c2 q from=+4411")
	wantOffers(t, h.offers(), "c2>a1")
	ev := h.events(EventQueueOffered)
	if ev[len(ev)-1].Data[DataCriterion] != "sticky: served this caller last" {
		t.Errorf("criterion %q", ev[len(ev)-1].Data[DataCriterion])
	}
	h.serve("c2", "a1", time.Second)
	// a1 busy with someone else: the caller waits for a1 up to 20s.
	h.enqueue("x q")
	wantOffers(t, h.offers(), "x>a2")
	h.answer("x", "a2")
	h.agent("a3 q=q")
	h.must(h.s.ownCall("a1", "own", true, h.at))
	h.enqueue("c3 q from=+4411")
	h.advance(19 * time.Second)
	wantOffers(t, h.offers())
	h.advance(time.Second)
	wantOffers(t, h.offers(), "c3>a3")
	// A sticky agent who logged out is not waited for.
	h.serve("c3", "a3", time.Second)
	h.must(h.s.logout("a3", h.at))
	h.agent("a4 q=q")
	h.enqueue("c4 q from=+4411")
	wantOffers(t, h.offers(), "c4>a4")
}

func TestSupervisorMoveAndPriority(t *testing.T) {
	h := newHarness(t, "queues:\n  - name: a\n  - name: b\n")
	h.agent("x q=a out")
	h.agent("y q=b")
	h.must(h.s.ownCall("y", "own", true, h.at))
	h.enqueue("c1 b")
	h.enqueue("c2 b")
	h.enqueue("c3 b")
	h.must(h.s.setPriority(id("c3"), 10, h.at))
	if p, _ := h.s.queues["b"].position(h.s.contacts[id("c3")], h.at); p != 1 {
		t.Fatalf("c3 at %d after priority 10", p)
	}
	h.must(h.s.ownCall("y", "own", false, h.at))
	wantOffers(t, h.offers(), "c3>y")
	// Move a ringing contact: the offer is withdrawn.
	h.must(h.s.move(id("c3"), "a", h.at))
	withdrawn := false
	for _, e := range h.eff {
		withdrawn = withdrawn || e.kind == effectWithdraw && e.withdraw.Contact == id("c3") && e.withdraw.Reason == "moved"
	}
	if !withdrawn {
		t.Fatal("offer not withdrawn")
	}
	wantOffers(t, h.offers(), "c1>y")
	h.must(h.s.login("x", h.at))
	wantOffers(t, h.offers(), "c3>x")
	if ev := h.events(EventQueueMoved); len(ev) != 1 || ev[0].Data[DataFrom] != "b" || ev[0].Data[DataQueue] != "a" {
		t.Fatalf("moved events %v", ev)
	}
	if err := h.s.move(id("nope"), "a", h.at); !errors.Is(err, ErrNoContact) {
		t.Error(err)
	}
	if err := h.s.move(id("c2"), "zzz", h.at); !errors.Is(err, ErrNoQueue) {
		t.Error(err)
	}
	h.answer("c3", "x")
	if err := h.s.move(id("c3"), "b", h.at); !errors.Is(err, ErrContactState) {
		t.Error(err)
	}
}

func TestReloadAppliesToWaiting(t *testing.T) {
	h := newHarness(t, queueYAML("skills: {spanish: 3}"))
	h.agent("a1 q=q english=5")
	h.enqueue("c1 q")
	h.advance(2 * time.Minute)
	wantOffers(t, h.offers())
	// New rules: relax after 30s (already passed for c1), max wait 3m.
	cfg, ps := Parse("q.yaml", []byte(queueYAML(`
skills: {spanish: 3}
relax: [{after: 30s, any: true}]
max_wait: 3m
overflow: {kind: extension, name: "1000"}`)))
	if HasErrors(ps) {
		t.Fatal(ps)
	}
	h.must(h.s.reload(cfg, h.at))
	wantOffers(t, h.offers(), "c1>a1")
	h.must(h.s.logout("a1", h.at))
	h.advance(time.Minute)
	if x := h.exits(); len(x) != 1 || x[0].Target.Name != "1000" {
		t.Fatalf("exits %v", x)
	}
	// A removed queue keeps its contacts, takes no new ones, then goes.
	h.enqueue("c2 q")
	cfg2, _ := Parse("q.yaml", []byte("queues:\n  - name: other\n"))
	h.must(h.s.reload(cfg2, h.at))
	if _, err := h.s.enqueue(Contact{ID: "x", Medium: call.MediumVoice, Queue: "q"}, h.at); !errors.Is(err, ErrNoQueue) {
		t.Fatalf("retired queue: %v", err)
	}
	h.must(h.s.leave(id("c2"), EventQueueAbandoned, "", h.at))
	if h.s.queues["q"] != nil {
		t.Error("retired queue not deleted")
	}
	if err := h.s.reload(Config{Queues: []QueueConfig{{Name: "bad name"}}}, h.at); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad reload: %v", err)
	}
}

func TestCapacityPerMedium(t *testing.T) {
	h := newHarness(t, queueYAML(""))
	h.agent("a1 q=q chat=3")
	for _, c := range []string{"v1", "v2"} {
		h.enqueue(c + " q")
	}
	for _, c := range []string{"t1", "t2", "t3", "t4"} {
		h.enqueue(c + " q chat")
	}
	wantOffers(t, h.offers(), "v1>a1", "t1>a1", "t2>a1", "t3>a1")
	h.answer("t1", "a1")
	h.hangup("t1")
	wantOffers(t, h.offers(), "t4>a1")
	if st := h.state("a1"); st != AgentReserved {
		t.Errorf("state %s", st)
	}
	// Own calls take a voice slot.
	h.must(h.s.ownCall("a1", "own", true, h.at))
	h.must(h.s.missed(id("v1"), "a1", "rejected", h.at))
	wantOffers(t, h.offers())
	if st := h.state("a1"); st != AgentBusy {
		t.Errorf("state %s", st)
	}
	h.must(h.s.ownCall("a1", "own", false, h.at))
	wantOffers(t, h.offers(), "v1>a1")
}

func TestLogoutWithdrawsOffer(t *testing.T) {
	h := newHarness(t, queueYAML(""))
	h.agent("a1 q=q")
	h.enqueue("c1 q")
	h.offers()
	h.must(h.s.logout("a1", h.at))
	if c := h.s.contacts[id("c1")]; c == nil || len(c.offers) != 0 {
		t.Fatal("contact lost or still offered")
	}
	if h.s.agents["a1"].misses != 0 {
		t.Error("logout counted as a miss")
	}
	for _, err := range []error{h.s.logout("a1", h.at), h.s.setNotReady("a1", ReasonBreak, h.at), h.s.setAvailable("a1", h.at)} {
		if !errors.Is(err, ErrAgentState) {
			t.Errorf("from logged out: %v", err)
		}
	}
	if err := h.s.login("zz", h.at); !errors.Is(err, ErrNoAgent) {
		t.Error(err)
	}
	h.must(h.s.login("a1", h.at))
	if err := h.s.login("a1", h.at); !errors.Is(err, ErrAgentState) {
		t.Error(err)
	}
	if err := h.s.setAvailable("a1", h.at); !errors.Is(err, ErrAgentState) {
		t.Errorf("available while reserved: %v", err)
	}
	if err := h.s.ended(id("c1"), 0, h.at); !errors.Is(err, ErrContactState) {
		t.Errorf("end unanswered: %v", err)
	}
}

func TestAgentStateEvents(t *testing.T) {
	h := newHarness(t, queueYAML("wrap_up: 5s"))
	h.agent("a1 q=q")
	h.enqueue("c1 q")
	h.serve("c1", "a1", time.Second)
	h.advance(5 * time.Second)
	h.must(h.s.setNotReady("a1", ReasonTraining, h.at))
	var got []string
	for _, e := range h.events(EventAgentState) {
		got = append(got, e.Data[DataState])
	}
	want := "available reserved busy wrap_up available not_ready"
	if strings.Join(got, " ") != want {
		t.Errorf("states %v, want %s", got, want)
	}
}

func TestAnnouncements(t *testing.T) {
	h := newHarness(t, queueYAML("announce_interval: 30s\ndefault_handle_time: 2m\nmusic_on_hold: moh/default"))
	h.agent("a1 q=q")
	h.agent("a2 q=q")
	h.enqueue("c0 q")
	h.enqueue("c1 q")
	h.enqueue("c2 q")
	h.enqueue("c3 q")
	h.offers()
	h.answer("c0", "a1")
	h.answer("c1", "a2")
	h.advance(30 * time.Second)
	var anns []Announcement
	for _, e := range h.eff {
		if e.kind == effectAnnounce {
			anns = append(anns, e.announce)
		}
	}
	if len(anns) != 2 {
		t.Fatalf("announcements %v", anns)
	}
	// c3 is second: 2m × 2 / 2 agents = 2m.
	if a := anns[1]; a.Contact != id("c3") || a.Position != 2 || a.EstimatedWait != 2*time.Minute || !a.Known || a.MusicOnHold != "moh/default" {
		t.Errorf("announcement %+v", a)
	}
}

func TestSnapshotRestore(t *testing.T) {
	h := newHarness(t, queueYAML(""))
	h.agent("a1 q=q")
	h.agent("a2 q=q")
	h.agent("a3 q=q out")
	h.must(h.s.setNotReady("a2", ReasonLunch, h.at))
	h.enqueue("c1 q")
	h.enqueue("c2 q")
	snap := h.s.snapshot(h.at)

	r := newHarness(t, queueYAML(""))
	for _, a := range []string{"a1 q=q out", "a2 q=q out", "a3 q=q out"} {
		r.agent(a)
	}
	lost := r.s.restore(snap, r.at)
	r.collect()
	if len(lost) != 2 {
		t.Fatalf("lost %v", lost)
	}
	ev := r.events(EventQueueLost)
	if len(ev) != 2 || ev[0].Cause != call.CauseSwitchRestart {
		t.Fatalf("lost events %v", ev)
	}
	if r.state("a1") != AgentAvailable || r.state("a2") != AgentNotReady || r.s.agents["a2"].reason != ReasonLunch || r.state("a3") != AgentLoggedOut {
		t.Errorf("restored %s %s %s", r.state("a1"), r.state("a2"), r.state("a3"))
	}
}

func TestEnqueueErrors(t *testing.T) {
	h := newHarness(t, queueYAML(""))
	for _, c := range []Contact{
		{ID: "", Medium: call.MediumVoice, Queue: "q"},
		{ID: "x", Queue: "q"},
	} {
		if _, err := h.s.enqueue(c, h.at); !errors.Is(err, ErrInvalidContact) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := h.s.enqueue(Contact{ID: "x", Medium: call.MediumVoice, Queue: "zz"}, h.at); !errors.Is(err, ErrNoQueue) {
		t.Error(err)
	}
	h.enqueue("c1 q")
	if _, err := h.s.enqueue(Contact{ID: id("c1"), Medium: call.MediumVoice, Queue: "q"}, h.at); !errors.Is(err, ErrDuplicateContact) {
		t.Error(err)
	}
	if err := h.s.putAgent(Agent{ID: "b", Skills: map[string]int{"x": 9}}, h.at); !errors.Is(err, ErrInvalidAgent) {
		t.Error(err)
	}
}

func TestSkillsFromNames(t *testing.T) {
	got := SkillsFromNames([]string{"english", "billing:3", "vip:9", "x:", "a:b"})
	want := map[string]int{"english": 1, "billing": 3, "vip": 5, "x:": 1, "a:b": 1}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d want %d", k, got[k], v)
		}
	}
}

// TestTransferredContactKeepsItsPlace: a contact that first joined a
// queue a minute ago (Contact.Since, a transfer) is ahead of one that
// joined here earlier but arrived later: in its position, and in routing
// within one queue and across an agent's queues.
func TestTransferredContactKeepsItsPlace(t *testing.T) {
	h := newHarness(t, "queues:\n  - name: a\n  - name: b\n")
	h.agent("x q=a,b out")
	h.enqueue("c1 b")
	h.enqueue("c3 a")
	h.advance(10 * time.Second)
	_, err := h.s.enqueue(Contact{ID: id("c2"), Medium: call.MediumVoice, Queue: "b", Since: t0.Add(-time.Minute)}, h.at)
	h.must(err)
	b := h.s.queues["b"]
	if p, n := b.position(h.s.contacts[id("c2")], h.at); p != 1 || n != 2 {
		t.Fatalf("transferred c2 at %d of %d, want 1 of 2", p, n)
	}
	if p, _ := b.position(h.s.contacts[id("c1")], h.at); p != 2 {
		t.Fatalf("c1 at %d, want 2 (c2 arrived first)", p)
	}
	h.must(h.s.login("x", h.at))
	wantOffers(t, h.offers(), "c2>x") // before c1 (queue b) and c3 (queue a)
}
