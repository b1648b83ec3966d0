package server_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/routing"
)

// The transfer tests: a carrier's caller (quCall: its own RTP, echoes
// counted) reaches agent a1 (extension 2001) through queue gold; a1's
// phone (sipp) transfers it with REFER. Every phone echoes the caller's
// packets (-rtp_echo), so echoes arriving after the transferor's phone
// has left the call crossed the target's phone.

const xfQueues = `
  - name: sales
  - name: gold
    offer_timeout: 10s
  - name: silver
    number: "4002"
    offer_timeout: 10s
`

// didGoldVIP reaches queue gold through flow goldvip, with priority 40.
const didGoldVIP = "+862155550153"

const xfGoldVIPFlow = `
start: vip
nodes:
  vip:
    type: enqueue
    queue: gold
    priority: 40
`

// xfServer starts switchd with a1 in gold, a2 (2002) in silver and plain
// extensions 3001 and 3002.
func xfServer(t *testing.T) *testServer {
	t.Helper()
	ts, _ := xfServerCarrier(t)
	return ts
}

// xfServerCarrier is xfServer that also returns carrier A (whose trunk
// national numbers leave by).
func xfServerCarrier(t *testing.T) (*testServer, trCarrier) {
	t.Helper()
	ts, a, _ := xfServerCarriers(t)
	return ts, a
}

// xfServerCarriers is xfServer with both carriers: national numbers try
// A, then B.
func xfServerCarriers(t *testing.T) (*testServer, trCarrier, trCarrier) {
	t.Helper()
	agents := []store.Agent{
		quAgent("a1", "2001", store.AgentQueue{Queue: "gold"}),
		quAgent("a2", "2002", store.AgentQueue{Queue: "silver"}),
	}
	var b trCarrier
	flows := map[string]string{"goldvip": xfGoldVIPFlow}
	ts, a, _ := quServerFlows(t, flows, quQueues(xfQueues), agents, func(c *server.Config) {
		c.DIDs = append(c.DIDs, routing.DIDConfig{Number: didGoldVIP, IVR: "goldvip"})
		for _, tr := range c.Trunks {
			if tr.Name == "carrier-b" {
				b = trCarrier{ip: tr.Host, port: tr.Port}
			}
		}
	})
	ts.addExtension("3001", quAgentPW)
	ts.addExtension("3002", quAgentPW)
	return ts, a, b
}

// xfPhone registers ext and runs scenario scen (testdata path) as its
// phone for one call with keys, media echoed, -d talk.
func (ts *testServer) xfPhone(t *testing.T, scen, ext string, talk time.Duration, keys map[string]string) *sipptest.Process {
	t.Helper()
	return ts.quStartPhoneKeys(t, filepath.Join("testdata", scen), ext, 1, talk, keys)
}

// waitFor polls cond every 20 ms and fails the test if it is still false
// after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echoesNow is how many of the caller's packets came back so far.
func (c *quCaller) echoesNow() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.echoes
}

// xfToldStatus is the status line of the last NOTIFY (sipfrag) a1's phone
// received: what switchd told the transferor about the transfer.
func xfToldStatus(t *testing.T, agent *sipptest.Result) string {
	t.Helper()
	notifies := scUnique(scRequests(agent.Received(), "NOTIFY"))
	if len(notifies) == 0 {
		t.Fatalf("a1's phone got no NOTIFY:\n%s", agent.Summary())
	}
	_, body, _ := strings.Cut(notifies[len(notifies)-1].Text, "\n\n")
	line, _, _ := strings.Cut(body, "\n")
	return strings.TrimSpace(line)
}

// xfTransfers waits (events are stored in batches) until the call has a
// stored call_transferred event, and returns them all.
func (ts *testServer) xfTransfers(t *testing.T, callID string) []quEvent {
	t.Helper()
	return ts.quWaitEvents(t, "call_id="+callID, "call_transferred", 1, 10*time.Second)
}

// xfReferCall gives agent a1 (2001) a phone running the REFER scenario
// scen towards target, makes a1 available and sends a carrier's call to
// did (a queue of a1's); it returns once the caller's audio crosses a1's
// phone, with the caller, its call ID and a1's phone.
func (ts *testServer) xfReferCall(t *testing.T, scen, target, did string) (*quCaller, string, *sipptest.Process) {
	t.Helper()
	agent := ts.xfPhone(t, scen, "2001", 1500*time.Millisecond, map[string]string{"target": target})
	ts.quSetState(t, "a1", "available", "")
	c := ts.quCall(t, "013900000001", did)
	id := ts.xfCallID(t)
	c.waitEchoes(t, 10, 20*time.Second) // through a1's phone
	return c, id, agent
}

// xfCallID is the call ID the queue gave the caller's call.
func (ts *testServer) xfCallID(t *testing.T) string {
	t.Helper()
	joined := ts.quWaitEvents(t, "queue=gold", "queue_joined", 1, 10*time.Second)
	return joined[0].CallID
}

// TestTransferBlindToExtension: agent a1 answers a queue call and
// transfers the caller blind (REFER) to extension 3001. a1's phone gets
// NOTIFY 100 … 200 (message/sipfrag) and then switchd's BYE; the caller's
// audio then crosses 3001's phone; the transfer is in the call's trace.
func TestTransferBlindToExtension(t *testing.T) {
	t.Parallel()
	ts := xfServer(t)
	target := ts.xfPhone(t, "queue/agent_answer_bye.xml", "3001", 4*time.Second, nil)
	c, id, agent := ts.xfReferCall(t, "transfer/agent_refer_ok.xml", "3001", didGold)
	requireSuccess(t, agent.Wait(), 1) // REFER, NOTIFYs, switchd's BYE
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 10*time.Second) // a1 has left: through 3001's phone
	requireSuccess(t, target.Wait(), 1)        // 3001 hangs up after its talk time
	requireSuccess(t, c.proc.Wait(), 1)        // and the caller gets BYE

	xs := ts.xfTransfers(t, id)
	if len(xs) != 1 || xs[0].Data["transfer_kind"] != "blind" || xs[0].Data["transferor"] != "2001" ||
		xs[0].Data["transfer_target"] != "3001" || xs[0].Data["transfer_result"] != "completed" ||
		xs[0].Data["transferee"] != "+8613900000001" {
		t.Fatalf("transfers of %s: %+v, want one blind 2001 → 3001 completed for +8613900000001", id, xs)
	}
}

// TestTransferBlindBusyReturnsToTransferor: the target (3002) is busy
// (486). a1's phone gets the failure in the final NOTIFY and the caller is
// back with a1: its audio crosses a1's phone again until a1 hangs up.
func TestTransferBlindBusyReturnsToTransferor(t *testing.T) {
	t.Parallel()
	ts := xfServer(t)
	busy := ts.xfPhone(t, "sippcall/uas_busy.xml", "3002", 0, nil)
	c, id, agent := ts.xfReferCall(t, "transfer/agent_refer_fail.xml", "3002", didGold)
	requireSuccess(t, busy.Wait(), 1)
	ts.xfTransfers(t, id) // the failed transfer is in the trace
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 5*time.Second) // back through a1's phone (the only one left)
	ar := agent.Wait()
	requireSuccess(t, ar, 1) // a1 hangs up 4 s after the failure
	requireSuccess(t, c.proc.Wait(), 1)
	if got := xfToldStatus(t, ar); !strings.HasPrefix(got, "SIP/2.0 486 ") {
		t.Fatalf("a1 was told %q, want SIP/2.0 486", got)
	}

	xs := ts.xfTransfers(t, id)
	if len(xs) != 1 || xs[0].Data["transfer_result"] != "failed" || xs[0].Data["transfer_status"] != "486" ||
		xs[0].Data["transfer_target"] != "3002" {
		t.Fatalf("transfers of %s: %+v, want one failed with 486 to 3002", id, xs)
	}
}

// TestTransferBlindToQueue: a1 transfers the caller, who entered gold
// with priority 40, to queue silver by its number (4002). The caller
// enters silver keeping its wait so far and its priority, a2 answers, and
// the caller's audio crosses a2's phone.
func TestTransferBlindToQueue(t *testing.T) {
	t.Parallel()
	ts := xfServer(t)
	a2 := ts.xfPhone(t, "queue/agent_answer_bye.xml", "2002", 3*time.Second, nil)
	ts.quSetState(t, "a2", "available", "")
	c, id, agent := ts.xfReferCall(t, "transfer/agent_refer_ok.xml", "4002", didGoldVIP)
	requireSuccess(t, agent.Wait(), 1)
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 15*time.Second) // through a2's phone
	requireSuccess(t, a2.Wait(), 1)
	requireSuccess(t, c.proc.Wait(), 1)

	var goldWait, silverWait, silverTotal int
	joined := map[string]string{} // queue → priority on joining
	for _, e := range ts.quEvents(t, "call_id="+id) {
		switch {
		case e.Type == "queue_joined":
			joined[e.Data["queue"]] = e.Data["priority"]
		case e.Type == "queue_answered" && e.Data["queue"] == "gold":
			goldWait, _ = strconv.Atoi(e.Data["wait_ms"])
		case e.Type == "queue_answered" && e.Data["queue"] == "silver":
			silverWait, _ = strconv.Atoi(e.Data["wait_ms"])
			silverTotal, _ = strconv.Atoi(e.Data["total_wait_ms"])
		}
	}
	// The total wait in silver counts from the caller's first queue: it
	// covers gold's wait and a1's talk (1.5 s), not just silver's wait.
	if silverTotal < goldWait+silverWait+1500 {
		t.Fatalf("silver total wait %d ms, want ≥ gold wait %d + a1's talk 1500 + silver wait %d", silverTotal, goldWait, silverWait)
	}
	if joined["gold"] != "40" || joined["silver"] != "40" {
		t.Fatalf("priority on joining gold and silver: %v, want 40 in both (kept through the transfer)", joined)
	}
	xs := ts.xfTransfers(t, id)
	if len(xs) != 1 || xs[0].Data["transfer_target"] != "4002" || xs[0].Data["transfer_result"] != "completed" {
		t.Fatalf("transfers of %s: %+v, want one to 4002 completed", id, xs)
	}
}

// TestTransferBlindToOutsideNumber: a1's extension may dial national
// numbers; it transfers the caller to 02155551234, which leaves by
// carrier A (digest challenge answered, the number in E.164). The
// caller's audio then crosses the carrier (it echoes).
func TestTransferBlindToOutsideNumber(t *testing.T) {
	t.Parallel()
	ts, a := xfServerCarrier(t)
	if code := ts.api("PATCH", "/api/v1/extensions/2001", map[string]string{"class": "national"}, nil); code/100 != 2 {
		t.Fatalf("PATCH 2001 class national: %d", code)
	}
	carrier := trStartCarrierUAS(t, a, trFile("carrier_uas.xml"), 1, nil, ts.udpAddr)
	c, id, agent := ts.xfReferCall(t, "transfer/agent_refer_ok.xml", "02155551234", didGold)
	requireSuccess(t, agent.Wait(), 1)
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 10*time.Second) // through the carrier
	xs := ts.xfTransfers(t, id)
	if len(xs) != 1 || xs[0].Data["transfer_result"] != "completed" || xs[0].Data["transfer_target"] != "+862155551234" {
		t.Fatalf("transfers %+v, want one completed to +862155551234", xs)
	}
	ts.stop() // the drain hangs up both
	cr := carrier.Wait()
	requireSuccess(t, cr, 1)
	invites := scUnique(scRequests(cr.Received(), "INVITE"))
	if len(invites) != 2 || !strings.HasPrefix(invites[1].StartLine(), "INVITE sip:+862155551234@") {
		t.Fatalf("carrier got %d INVITEs (want 2: challenged, then with credentials to +862155551234):\n%s", len(invites), cr.Summary())
	}
	trRequireDigest(t, invites[1], "INVITE")
}

// TestTransferOutsideFailover: carrier A never answers the transfer's
// INVITE; after its invite_timeout (2 s) the transfer leaves by carrier B,
// whose echo the caller then hears.
func TestTransferOutsideFailover(t *testing.T) {
	t.Parallel()
	ts, _, b := xfServerCarriers(t)
	carrier := trStartCarrierUAS(t, b, trFile("carrier_uas.xml"), 1, nil, ts.udpAddr)
	c, id, agent := ts.xfReferCall(t, "transfer/agent_refer_ok.xml", "02155551234", didGold)
	requireSuccess(t, agent.Wait(), 1)
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 10*time.Second) // through carrier B
	ts.xfTransfers(t, id)
	// Carrier A was tried first: the transfer completed no sooner than a1's
	// talk (1.5 s, then the REFER) plus A's invite_timeout (2 s).
	var answered, done time.Time
	for _, e := range ts.quEvents(t, "call_id="+id) {
		switch {
		case e.Type == "queue_answered":
			answered = e.Time
		case e.Type == "call_transferred" && e.Data["transfer_result"] == "completed" && e.Data["transfer_target"] == "+862155551234":
			done = e.Time
		}
	}
	if answered.IsZero() || done.IsZero() || done.Sub(answered) < 3500*time.Millisecond {
		t.Fatalf("answered %v, transfer completed %v: want a completed transfer ≥ 3.5 s after the answer (A's timeout first)", answered, done)
	}
	ts.stop()
	requireSuccess(t, carrier.Wait(), 1)
}

// TestTransferOutsideNumberRefused: a1's extension is internal only; its
// transfer to a national number fails with 403 in the final NOTIFY and
// the caller stays with a1 (no toll fraud by transfer).
func TestTransferOutsideNumberRefused(t *testing.T) {
	t.Parallel()
	ts := xfServer(t)
	if code := ts.api("PATCH", "/api/v1/extensions/2001", map[string]string{"class": "internal"}, nil); code/100 != 2 {
		t.Fatalf("PATCH 2001 class internal: %d", code)
	}
	c, id, agent := ts.xfReferCall(t, "transfer/agent_refer_fail.xml", "02155551234", didGold)
	ts.xfTransfers(t, id) // the failed transfer is in the trace
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 5*time.Second) // still through a1's phone
	ar := agent.Wait()
	requireSuccess(t, ar, 1)
	requireSuccess(t, c.proc.Wait(), 1)
	if got := xfToldStatus(t, ar); !strings.HasPrefix(got, "SIP/2.0 403 ") {
		t.Fatalf("a1 was told %q, want SIP/2.0 403", got)
	}
	xs := ts.xfTransfers(t, id)
	if len(xs) != 1 || xs[0].Data["transfer_result"] != "failed" || xs[0].Data["transfer_status"] != "403" {
		t.Fatalf("transfers %+v, want one failed with 403", xs)
	}
}

// TestTransferReferFromCarrierRefused: the carrier's caller sends REFER
// to move the call to 3001 (toll fraud by transfer): switchd answers 403
// and the call goes on with a1 until a1 hangs up.
func TestTransferReferFromCarrierRefused(t *testing.T) {
	t.Parallel()
	ts := xfServer(t)
	agent := ts.xfPhone(t, "queue/agent_answer_bye.xml", "2001", 4*time.Second, nil)
	ts.quSetState(t, "a1", "available", "")
	refused := filepath.Join(t.TempDir(), "refused")
	c := ts.quCallWith(t, "transfer/carrier_refer.xml", "013900000001", didGold, map[string]string{"target": "3001", "refused_file": refused})
	c.waitEchoes(t, 10, 20*time.Second)
	waitFor(t, 10*time.Second, "the carrier's REFER answered 403", func() bool { _, err := os.Stat(refused); return err == nil })
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 5*time.Second) // the call goes on with a1
	requireSuccess(t, agent.Wait(), 1)
	requireSuccess(t, c.proc.Wait(), 1) // the REFER got 403, then a1's BYE
	id := ts.xfCallID(t)
	ts.quWaitEvents(t, "call_id="+id, "queue_completed", 1, 10*time.Second) // stored after any transfer would be
	for _, e := range ts.quEvents(t, "call_id="+id) {
		if e.Type == "call_transferred" {
			t.Fatalf("transfer %+v, want none", e)
		}
	}
}

// TestTransferToAgentExtension: a1 transfers its queue caller straight to
// a2's extension (2002). While they talk a2 is busy and a1 is free of
// the call (wrap-up or available); a2 is available again after it ends.
func TestTransferToAgentExtension(t *testing.T) {
	t.Parallel()
	ts := xfServer(t)
	a2 := ts.xfPhone(t, "queue/agent_answer_bye.xml", "2002", 3*time.Second, nil)
	ts.quSetState(t, "a2", "available", "")
	c, _, agent := ts.xfReferCall(t, "transfer/agent_refer_ok.xml", "2002", didGold)
	requireSuccess(t, agent.Wait(), 1)
	before := c.echoesNow()
	c.waitEchoes(t, before+25, 10*time.Second) // through a2's phone
	if st := ts.quAgentState(t, "a2"); st.State != "busy" {
		t.Fatalf("a2 while talking with the transferred caller: %+v, want busy", st)
	}
	if st := ts.quAgentState(t, "a1"); st.State != "wrap_up" && st.State != "available" {
		t.Fatalf("a1 after transferring: %+v, want wrap_up or available", st)
	}
	requireSuccess(t, a2.Wait(), 1)
	requireSuccess(t, c.proc.Wait(), 1)
	waitFor(t, 5*time.Second, "a2 available after the call", func() bool { return ts.quAgentState(t, "a2").State == "available" })
}
