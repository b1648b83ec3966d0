package server_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/internal/store"
)

// quAgentScen is the agents' phone: answers, echoes, hangs up after -d.
var quAgentScen = filepath.Join("testdata", "queue", "agent_answer_bye.xml")

// TestQueueLongestIdleOrder: carriers' callers reach the queue through a
// DID and the entry flow; three agents (sipp phones echoing RTP) logged in
// in the order a3, a1, a2 take the calls in longest-idle order — a3, a1,
// a2, then a3 again, idle longest once its first call ended — and each
// caller's audio comes back through the agent's phone. Each decision's
// trace names the criterion.
func TestQueueLongestIdleOrder(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{
		quAgent("a1", "2001", store.AgentQueue{Queue: "sales"}),
		quAgent("a2", "2002", store.AgentQueue{Queue: "sales"}),
		quAgent("a3", "2003", store.AgentQueue{Queue: "sales"}),
	}
	ts, _, _ := quServer(t, quQueues(`
  - name: sales
    strategy: longest-idle
    offer_timeout: 10s
`), agents)
	phones := map[string]int{"2001": 1, "2002": 1, "2003": 2}
	for ext, calls := range phones {
		ts.quStartPhone(t, quAgentScen, ext, calls, 1200*time.Millisecond)
	}
	for _, id := range []string{"a3", "a1", "a2"} {
		ts.quSetState(t, id, "available", "")
		time.Sleep(150 * time.Millisecond) // distinct idle times
	}
	for i := range 4 {
		c := ts.quCall(t, "0139000000"+string(rune('1'+i))+"0", didQueue)
		c.waitEchoes(t, 20, 15*time.Second)
		requireSuccess(t, c.proc.Wait(), 1)
		ts.quWaitEvents(t, "queue=sales", "queue_completed", i+1, 10*time.Second)
	}
	var order []string
	offers := 0
	for _, e := range ts.quEvents(t, "queue=sales") {
		switch e.Type {
		case "queue_answered":
			order = append(order, e.Data["agent"])
		case "queue_offered":
			offers++
			if !strings.HasPrefix(e.Data["criterion"], "idle ") {
				t.Errorf("offer to %s: the trace does not give the idle time as the criterion: %v", e.Data["agent"], e.Data)
			}
		}
	}
	if offers != 4 {
		t.Errorf("%d queue_offered events, want 4 (one per call, each answered)", offers)
	}
	if want := []string{"a3", "a1", "a2", "a3"}; !slices.Equal(order, want) {
		t.Fatalf("answered by %v, want longest-idle order %v", order, want)
	}
}

// TestQueueRONAThenOverflow: the longest-idle agent's phone rings without
// answering; after the offer timeout the phone gets CANCEL, the agent goes
// not ready (missed_offer, RONA 1) and the caller — who kept its place —
// is answered by the next agent, audio crossing. A second caller, with no
// agent left to answer, overflows to voicemail after max_wait.
func TestQueueRONAThenOverflow(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{
		quAgent("a1", "2001", store.AgentQueue{Queue: "sales"}),
		quAgent("a2", "2002", store.AgentQueue{Queue: "sales"}),
	}
	ts, _, _ := quServer(t, quQueues(`
  - name: sales
    strategy: longest-idle
    offer_timeout: 2s
    rona: 1
    max_wait: 6s
    overflow: {kind: voicemail, name: sales}
`), agents)
	ring := ts.quStartPhone(t, scFile("uas_ring.xml"), "2001", 1, time.Second)
	ts.quStartPhone(t, quAgentScen, "2002", 1, 1500*time.Millisecond)
	ts.quSetState(t, "a1", "available", "")
	time.Sleep(150 * time.Millisecond)
	ts.quSetState(t, "a2", "available", "")

	c := ts.quCall(t, "013900000001", didQueue)
	c.waitEchoes(t, 20, 15*time.Second)
	requireSuccess(t, ring.Wait(), 1) // rang, then CANCEL (487)
	requireSuccess(t, c.proc.Wait(), 1)
	if st := ts.quAgentState(t, "a1"); st.State != "not_ready" || st.Reason != "missed_offer" {
		t.Fatalf("a1 after the missed offer: %+v, want not_ready (missed_offer)", st)
	}
	missed := ts.quWaitEvents(t, "agent=a1", "queue_offer_missed", 1, 5*time.Second)
	if missed[0].Data["miss"] != "timeout" {
		t.Fatalf("a1's miss: %v, want timeout", missed[0].Data)
	}
	ans := ts.quWaitEvents(t, "queue=sales", "queue_answered", 1, 5*time.Second)
	if ans[0].Data["agent"] != "a2" {
		t.Fatalf("answered by %v, want a2", ans[0].Data)
	}
	ts.quSetState(t, "a2", "logged_out", "")

	start := time.Now()
	c2 := ts.quCall(t, "013900000002", didQueue)
	over := ts.quWaitEvents(t, "queue=sales", "queue_overflowed", 1, 15*time.Second)
	if waited := time.Since(start); waited < 5*time.Second {
		t.Fatalf("overflowed after %s, want after max_wait 6s", waited)
	}
	if over[0].Data["target_kind"] != "voicemail" || !strings.Contains(over[0].Data["reason"], "max_wait") {
		t.Fatalf("overflow %v: want to voicemail for max_wait", over[0].Data)
	}
	requireSuccess(t, c2.proc.Wait(), 1) // switchd hangs up after the message
	var vm struct {
		Voicemails []struct {
			Box    string `json:"box"`
			CallID string `json:"call_id"`
		} `json:"voicemails"`
	}
	ts.api("GET", "/api/v1/voicemails?box=sales", nil, &vm)
	if len(vm.Voicemails) != 1 || vm.Voicemails[0].CallID != over[0].CallID {
		t.Fatalf("voicemails of box sales: %+v, want the overflowed call %s", vm.Voicemails, over[0].CallID)
	}
}

// TestQueueVIPFirstAndAnnouncements: two callers wait, then a VIP (the
// entry flow gives its number priority 50). While they wait they hear the
// queue's music and their position announced (speech, between the music).
// The agent logs in by dialling *50 from their phone and takes the VIP
// first, then the others in arrival order.
func TestQueueVIPFirstAndAnnouncements(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{quAgent("a1", "2001", store.AgentQueue{Queue: "sales"})}
	ts, _, _ := quServer(t, quQueues(`
  - name: sales
    strategy: longest-idle
    offer_timeout: 10s
    announce_interval: 10s
`), agents)
	n1 := ts.quCall(t, "013900000001", didQueue)
	ts.quWaiting(t, "sales", 1, 5*time.Second)
	joined := time.Now()
	n2 := ts.quCall(t, "013900000002", didQueue)
	ts.quWaiting(t, "sales", 2, 5*time.Second)
	vip := ts.quCall(t, quVIP, didQueue)
	ts.quWaiting(t, "sales", 3, 5*time.Second)
	// Music only until the first announcement, 10 s after joining.
	time.Sleep(time.Until(joined.Add(7 * time.Second)))
	if speech, music := quSpeech(n1.heardAudio()); speech > 2 || music < 30 {
		t.Fatalf("first caller heard %d windows of music and %d of speech in its first 7 s; want music only", music, speech)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		speech, music := quSpeech(n1.heardAudio())
		if music >= 10 && speech >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first caller heard %d windows of music and %d of speech while waiting; want the music and an announcement", music, speech)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ts.quStartPhone(t, quAgentScen, "2001", 3, 800*time.Millisecond)
	r := sippRunCaller(t, ts, "2001", "*50")
	requireSuccess(t, r, 1)
	for _, c := range []*quCaller{vip, n1, n2} {
		c.waitEchoes(t, 10, 20*time.Second)
		requireSuccess(t, c.proc.Wait(), 1)
	}
	var callers []string
	for _, e := range ts.quEvents(t, "queue=sales") {
		if e.Type == "queue_answered" {
			callers = append(callers, e.Caller.Number)
		}
	}
	want := []string{"+8613900000009", "+8613900000001", "+8613900000002"}
	if !slices.Equal(callers, want) {
		t.Fatalf("answered in the order %v, want the VIP first: %v", callers, want)
	}
}

// TestQueueAgentInTwoQueues: an agent sits in silver and gold, gold with
// the higher priority. A caller waits in silver, then one in gold (DIDs
// routed straight to the queues); when the agent becomes available, the
// gold caller is served first although it came later.
func TestQueueAgentInTwoQueues(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{quAgent("a1", "2001",
		store.AgentQueue{Queue: "silver", Priority: 0}, store.AgentQueue{Queue: "gold", Priority: 10})}
	ts, _, _ := quServer(t, quQueues(`
  - name: sales
  - name: gold
    offer_timeout: 10s
  - name: silver
    offer_timeout: 10s
`), agents)
	ts.quStartPhone(t, quAgentScen, "2001", 2, 800*time.Millisecond)
	ts.quSetState(t, "a1", "available", "")
	ts.quSetState(t, "a1", "not_ready", "break")
	silver := ts.quCall(t, "013900000001", didSilver)
	ts.quWaiting(t, "silver", 1, 5*time.Second)
	gold := ts.quCall(t, "013900000002", didGold)
	ts.quWaiting(t, "gold", 1, 5*time.Second)
	ts.quSetState(t, "a1", "available", "")
	for _, c := range []*quCaller{gold, silver} {
		c.waitEchoes(t, 10, 20*time.Second)
		requireSuccess(t, c.proc.Wait(), 1)
	}
	var queues []string
	for _, e := range ts.quEvents(t, "agent=a1") {
		if e.Type == "queue_answered" {
			queues = append(queues, e.Data["queue"])
		}
	}
	if want := []string{"gold", "silver"}; !slices.Equal(queues, want) {
		t.Fatalf("a1 answered %v, want gold (its priority queue) first: %v", queues, want)
	}
}

// TestQueueRestartRecovery: an agent is not ready (lunch) and a caller is
// waiting when switchd stops. After the restart the agent is still not
// ready for lunch, and the caller is recorded lost with cause
// switch_restart — not dropped from the statistics.
func TestQueueRestartRecovery(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{quAgent("a1", "2001", store.AgentQueue{Queue: "sales"})}
	ts, _, cfg := quServer(t, quQueues(`
  - name: sales
`), agents)
	ts.quSetState(t, "a1", "available", "")
	ts.quSetState(t, "a1", "not_ready", "lunch")
	c := ts.quCall(t, "013900000001", didQueue)
	ts.quWaiting(t, "sales", 1, 5*time.Second)
	joined := ts.quWaitEvents(t, "queue=sales", "queue_joined", 1, 5*time.Second)
	ts.stop()
	c.proc.Wait() // cut off by the shutdown

	ts2 := startServer(t, cfg)
	if st := ts2.quAgentState(t, "a1"); st.State != "not_ready" || st.Reason != "lunch" {
		t.Fatalf("a1 after the restart: %+v, want not_ready (lunch)", st)
	}
	lost := ts2.quWaitEvents(t, "queue=sales", "queue_lost", 1, 5*time.Second)
	if lost[0].CallID != joined[0].CallID || lost[0].Cause != "switch_restart" {
		t.Fatalf("lost %+v, want call %s with cause switch_restart", lost[0], joined[0].CallID)
	}
	var stats struct {
		Queues []struct {
			Queue string `json:"queue"`
			Lost  int    `json:"lost"`
		} `json:"queues"`
	}
	ts2.api("GET", "/api/v1/queues/stats", nil, &stats)
	for _, q := range stats.Queues {
		if q.Queue == "sales" && q.Lost == 1 {
			return
		}
	}
	t.Fatalf("queue stats after the restart: %+v, want sales with 1 lost", stats.Queues)
}

// sippRunCaller has extension ext (quAgentPW) call number and waits for
// switchd to hang up (a feature code says the state and ends the call).
func sippRunCaller(t *testing.T, ts *testServer, ext, number string) *sipptest.Result {
	t.Helper()
	opts := ts.scCallerOpts(scFile("uac_await_bye.xml"), quAgentPW, number,
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(sipptest.FreeMediaPort(t, "127.0.0.1")))
	opts.Users[0].Name = ext
	return sipptest.Run(t, opts)
}

// TestQueueSupervisorAndReload: the operations on a running switch. A
// caller waits in sales, where no agent is; a supervisor raises its
// priority and moves it to support through the API, where agent a1 takes
// it. A second caller waits in sales; the queue file is edited (sales now
// overflows to support after 2 s) and reloaded while it waits: the new
// rule applies to it. Meanwhile a1's own call to another extension makes
// it busy for the queues until that call ends.
func TestQueueSupervisorAndReload(t *testing.T) {
	t.Parallel()
	agents := []store.Agent{quAgent("a1", "2001", store.AgentQueue{Queue: "support"})}
	ts, _, cfg := quServer(t, quQueues(`
  - name: sales
  - name: support
    offer_timeout: 10s
`), agents)
	ts.addExtension("2009", quAgentPW)
	ts.quStartPhone(t, quAgentScen, "2001", 2, 800*time.Millisecond)
	other := ts.quStartPhone(t, quAgentScen, "2009", 1, 6*time.Second)
	ts.quSetState(t, "a1", "available", "")

	c1 := ts.quCall(t, "013900000001", didQueue)
	ts.quWaiting(t, "sales", 1, 5*time.Second)
	id := ts.quWaitEvents(t, "queue=sales", "queue_joined", 1, 5*time.Second)[0].CallID
	if code := ts.api("POST", "/api/v1/queues/contacts/"+id+"/priority", map[string]int{"priority": 70}, nil); code/100 != 2 {
		t.Fatalf("priority: %d", code)
	}
	if code := ts.api("POST", "/api/v1/queues/contacts/"+id+"/move", map[string]string{"queue": "support"}, nil); code/100 != 2 {
		t.Fatalf("move: %d", code)
	}
	c1.waitEchoes(t, 10, 15*time.Second)
	requireSuccess(t, c1.proc.Wait(), 1)
	trace := ts.quEvents(t, "call_id="+id)
	var kinds []string
	for _, e := range trace {
		kinds = append(kinds, e.Type)
	}
	for _, want := range []string{"queue_joined", "queue_priority", "queue_moved", "queue_offered", "queue_answered", "queue_completed"} {
		if !slices.Contains(kinds, want) {
			t.Fatalf("trace of the moved call %v lacks %s", kinds, want)
		}
	}

	// a1 calls 2009 itself: busy for the queues while it talks.
	ts.quWaitEvents(t, "agent=a1", "queue_completed", 1, 5*time.Second)
	own := make(chan *sipptest.Result, 1)
	go func() { own <- sippRunCaller(t, ts, "2001", "2009") }()
	deadline := time.Now().Add(5 * time.Second)
	for ts.quAgentState(t, "a1").State != "busy" {
		if time.Now().After(deadline) {
			t.Fatalf("a1 on its own call: state %+v, want busy", ts.quAgentState(t, "a1"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	c2 := ts.quCall(t, "013900000002", didQueue)
	ts.quWaiting(t, "sales", 1, 5*time.Second)
	queuesFile := filepath.Join(cfg.ACD.Dir, "queues.yaml")
	if err := os.WriteFile(queuesFile, []byte(quQueues(`
  - name: sales
    max_wait: 2s
    overflow: {kind: queue, name: support}
  - name: support
    offer_timeout: 10s
`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	over := ts.quWaitEvents(t, "queue=sales", "queue_overflowed", 1, 10*time.Second)
	if !strings.Contains(over[0].Data["reason"], "max_wait") || over[0].Data["target"] != "support" {
		t.Fatalf("after the reload: %v, want max_wait overflow to support", over[0].Data)
	}
	// Still on its own call: a1 is busy and was not offered the caller.
	if st := ts.quAgentState(t, "a1"); st.State != "busy" {
		t.Fatalf("a1 during its own call: %+v, want busy", st)
	}
	for _, e := range ts.quEvents(t, "agent=a1") {
		if e.Type == "queue_offered" && e.CallID != id {
			t.Fatalf("a1 was offered the second caller during its own call: %+v", e)
		}
	}
	requireSuccess(t, <-own, 1)
	requireSuccess(t, other.Wait(), 1)
	// Once the own call ended, a1 takes the overflowed caller.
	c2.waitEchoes(t, 10, 15*time.Second)
	requireSuccess(t, c2.proc.Wait(), 1)
}
