package acd

import (
	"strings"
	"testing"
	"time"
)

func queueYAML(extra string) string {
	return "queues:\n  - name: q\n    offer_timeout: 10s\n" + indent(extra)
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}

// threeAgents logs in a1, a2, a3 one second apart (a1 idle longest).
func threeAgents(h *harness, extra string) {
	for _, a := range []string{"a1", "a2", "a3"} {
		h.agent(a + " q=q " + extra)
		h.advance(time.Second)
	}
	h.offers()
}

func TestStrategyLongestIdle(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: longest-idle"))
	threeAgents(h, "")
	h.enqueue("c1 q")
	wantOffers(t, h.offers(), "c1>a1")
	h.serve("c1", "a1", 10*time.Second) // a1 now idle most recently
	h.enqueue("c2 q")
	wantOffers(t, h.offers(), "c2>a2")
	ev := h.events(EventQueueOffered)
	if r := ev[len(ev)-1].Data[DataReason]; !strings.Contains(r, "3 eligible (a1,a2,a3)") || !strings.Contains(r, "chose a2 by idle 12s") {
		t.Errorf("reason %q", r)
	}
}

func TestStrategyRingAll(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: ring-all"))
	threeAgents(h, "")
	h.enqueue("c1 q")
	wantOffers(t, h.offers(), "c1>a1", "c1>a2", "c1>a3")
	for _, a := range []AgentID{"a1", "a2", "a3"} {
		if h.state(a) != AgentReserved {
			t.Fatalf("%s is %s", a, h.state(a))
		}
	}
	h.answer("c1", "a2")
	var withdrawn []string
	for _, e := range h.eff {
		if e.kind == effectWithdraw {
			withdrawn = append(withdrawn, string(e.withdraw.Agent)+":"+e.withdraw.Reason)
		}
	}
	if strings.Join(withdrawn, " ") != "a1:answered_elsewhere a3:answered_elsewhere" {
		t.Errorf("withdrawn %v", withdrawn)
	}
	if h.state("a1") != AgentAvailable || h.state("a2") != AgentBusy {
		t.Errorf("states a1 %s a2 %s", h.state("a1"), h.state("a2"))
	}
	if err := h.s.accepted(id("c1"), "a1", h.at); err == nil {
		t.Error("a second accept succeeded")
	}
}

func TestStrategyRoundRobin(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: round-robin"))
	threeAgents(h, "")
	var got []string
	for _, c := range []string{"c1", "c2", "c3", "c4"} {
		h.enqueue(c + " q")
		o := h.offers()
		got = append(got, o...)
		h.serve(c, AgentID(strings.Split(o[0], ">")[1]), time.Second)
	}
	wantOffers(t, got, "c1>a1", "c2>a2", "c3>a3", "c4>a1")
}

func TestStrategyFewestContacts(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: fewest-contacts"))
	threeAgents(h, "")
	h.enqueue("c1 q")
	wantOffers(t, h.offers(), "c1>a1") // all 0: longest idle
	h.serve("c1", "a1", time.Second)
	h.enqueue("c2 q")
	wantOffers(t, h.offers(), "c2>a2")
	h.serve("c2", "a2", time.Second)
	h.enqueue("c3 q")
	wantOffers(t, h.offers(), "c3>a3")
	h.serve("c3", "a3", time.Second)
	h.enqueue("c4 q")
	wantOffers(t, h.offers(), "c4>a1") // all 1: a1 idle longest
}

func TestStrategyLeastTalkTime(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: least-talk-time"))
	threeAgents(h, "")
	h.enqueue("c1 q")
	h.enqueue("c2 q")
	h.enqueue("c3 q")
	wantOffers(t, h.offers(), "c1>a1", "c2>a2", "c3>a3")
	h.answer("c1", "a1")
	h.answer("c2", "a2")
	h.answer("c3", "a3")
	h.advance(10 * time.Second)
	h.hangup("c2") // a2: 10s
	h.advance(50 * time.Second)
	h.hangup("c1") // a1: 60s
	h.hangup("c3") // a3: 60s
	h.enqueue("c4 q")
	wantOffers(t, h.offers(), "c4>a2")
}

func TestStrategyLinear(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: linear"))
	h.agent("a3 q=q")
	h.advance(time.Second)
	h.agent("a2 q=q")
	h.agent("a1 q=q")
	for _, c := range []string{"c1", "c2"} {
		h.enqueue(c + " q")
		wantOffers(t, h.offers(), c+">a1")
		h.serve(c, "a1", time.Second)
	}
	h.enqueue("c3 q")
	h.enqueue("c4 q")
	wantOffers(t, h.offers(), "c3>a1", "c4>a2")
}

func TestStrategyRandom(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: random"))
	threeAgents(h, "")
	seen := map[string]int{}
	for i := range 60 {
		c := "c" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		h.enqueue(c + " q")
		o := h.offers()
		if len(o) != 1 {
			t.Fatalf("offers %v", o)
		}
		a := strings.Split(o[0], ">")[1]
		seen[a]++
		h.serve(c, AgentID(a), time.Second)
	}
	if len(seen) != 3 || seen["a1"] < 10 || seen["a2"] < 10 || seen["a3"] < 10 {
		t.Errorf("random choices %v", seen)
	}
}

func TestStrategySkills(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: skills\nskills: {english: 2}"))
	h.agent("a1 q=q english=2 billing=5")
	h.advance(time.Second)
	h.agent("a2 q=q english=5 billing=1")
	h.advance(time.Second)
	h.agent("a3 q=q english=5 billing=1")
	h.agent("a4 q=q english=1 billing=5") // below the minimum
	h.offers()
	h.enqueue("c1 q")
	wantOffers(t, h.offers(), "c1>a2") // 5 beats 2; a2 idle longer than a3
	h.enqueue("c2 q skills=billing:1")
	wantOffers(t, h.offers(), "c2>a1") // a1 7, a3 6
	ev := h.events(EventQueueOffered)
	if c := ev[len(ev)-1].Data[DataCriterion]; c != "proficiency 7" {
		t.Errorf("criterion %q", c)
	}
}

func TestPenaltyTier(t *testing.T) {
	h := newHarness(t, queueYAML("strategy: longest-idle"))
	h.agent("a1 q=q:2")
	h.advance(time.Second)
	h.agent("a2 q=q:0")
	h.enqueue("c1 q")
	h.enqueue("c2 q")
	wantOffers(t, h.offers(), "c1>a2", "c2>a1") // a1 only when a2 is taken
}

func TestRelaxationSteps(t *testing.T) {
	cfg := queueYAML(`
skills: {english: 4}
relax:
  - {after: 30s, min_proficiency: 2}
  - {after: 90s, any: true}`)
	h := newHarness(t, cfg)
	h.agent("low q=q english=2")
	h.agent("none q=q")
	h.enqueue("c1 q")
	wantOffers(t, h.offers())
	h.advance(29 * time.Second)
	wantOffers(t, h.offers())
	h.advance(time.Second)
	wantOffers(t, h.offers(), "c1>low")
	ev := h.events(EventQueueOffered)
	if r := ev[0].Data[DataReason]; !strings.Contains(r, "english≥2 (relaxation step 1)") {
		t.Errorf("reason %q", r)
	}

	// Only an agent without the skill: offered at 90s.
	h = newHarness(t, cfg)
	h.agent("none q=q")
	h.enqueue("c1 q")
	h.advance(89 * time.Second)
	wantOffers(t, h.offers())
	h.advance(time.Second)
	wantOffers(t, h.offers(), "c1>none")

	// A drop step removes one skill of the contact's.
	h = newHarness(t, queueYAML("relax: [{after: 10s, drop: [french]}]"))
	h.agent("en q=q english=3")
	h.enqueue("c1 q skills=english,french")
	h.advance(9 * time.Second)
	wantOffers(t, h.offers())
	h.advance(time.Second)
	wantOffers(t, h.offers(), "c1>en")
}

func TestAgentQueuePriority(t *testing.T) {
	h := newHarness(t, "queues:\n  - name: low\n  - name: high\n")
	h.agent("a1 q=low:0:0,high:0:10")
	h.must(h.s.setNotReady("a1", ReasonBreak, h.at))
	h.enqueue("c1 low")
	h.advance(time.Second)
	h.enqueue("c2 high")
	h.must(h.s.setAvailable("a1", h.at))
	wantOffers(t, h.offers(), "c2>a1") // high first although c1 waited longer
	h.serve("c2", "a1", time.Second)
	wantOffers(t, h.offers(), "c1>a1")
}
