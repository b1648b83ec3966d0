package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
)

// persistQueues is the queue configuration of these tests.
const persistQueues = `queues:
  - name: sales
    offer_timeout: 30s
    wrap_up: 5s
    service_level: 10s
  - name: support
    offer_timeout: 30s
  - name: billing
`

// persistAgents are the agents of the crash test: alice and bob in sales,
// carol takes support's chats, dave logs out, erin serves billing.
var persistAgents = []acd.Agent{
	{ID: "alice", Queues: []acd.Membership{{Queue: "sales"}}},
	{ID: "bob", Queues: []acd.Membership{{Queue: "sales"}}},
	{ID: "carol", Queues: []acd.Membership{{Queue: "support"}}, Capacity: map[call.Medium]int{call.MediumChat: 1}},
	{ID: "dave", Queues: []acd.Membership{{Queue: "sales"}}},
	{ID: "erin", Queues: []acd.Membership{{Queue: "billing"}}},
}

// persistConnector rings nobody: the tests answer offers themselves.
type persistConnector struct{}

func (persistConnector) Offer(context.Context, acd.Offer)           {}
func (persistConnector) Withdraw(context.Context, acd.Withdrawal)   {}
func (persistConnector) Overflow(context.Context, acd.Exit)         {}
func (persistConnector) Announce(context.Context, acd.Announcement) {}

var _ acd.Connector = persistConnector{}

// persistClock is the engine's settable clock.
type persistClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *persistClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *persistClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func persistLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func persistConfig(t testing.TB) acd.Config {
	t.Helper()
	cfg, problems := acd.Parse("queues.yaml", []byte(persistQueues))
	if acd.HasErrors(problems) {
		t.Fatal(problems)
	}
	return cfg
}

// persistProfiles stores the agents' profiles (agent_states refers to them).
func persistProfiles(t testing.TB, st *store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := st.PutAgent(context.Background(), store.Agent{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
}

// persistRun starts p; the returned stop ends it gracefully and returns
// Run's error.
func persistRun(t testing.TB, p *acdPersister) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(20 * time.Second):
				err = errors.New("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// persistStamp publishes the engine's events on a bus whose clock is the
// engine's: an event is stamped with the time the engine made it, not the
// time its outbox got round to publishing it (when the test's clock may
// have moved on).
type persistStamp struct {
	mu  sync.Mutex
	bus *call.Bus
	at  time.Time // the event being published; read by the bus under mu
}

func (p *persistStamp) Publish(e call.Event) call.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at = e.Time
	return p.bus.Publish(e)
}

// persistBus returns a bus and the publisher for an engine on it.
func persistBus() (*call.Bus, *persistStamp) {
	p := &persistStamp{}
	p.bus = call.NewBus(call.WithClock(func() time.Time { return p.at }))
	return p.bus, p
}

// persistEngine starts an engine with the agents, publishing to pub.
func persistEngine(t testing.TB, pub acd.Publisher, clock *persistClock, agents ...acd.Agent) *acd.Engine {
	t.Helper()
	e, err := acd.New(persistConfig(t), persistConnector{}, acd.WithEvents(pub), acd.WithClock(clock.now),
		acd.WithAgents(agents...), acd.WithLogger(persistLog()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return e
}

// persistNext reads sub until an event of type typ for which match (if
// not nil) holds arrives.
func persistNext(t testing.TB, sub *call.Subscription, typ call.EventType, match func(call.Event) bool) call.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended waiting for %s: %v", typ, sub.Err())
			}
			if e.Type == typ && (match == nil || match(e)) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

// about matches the events of contact id.
func about(id call.ID) func(call.Event) bool {
	return func(e call.Event) bool { return e.CallID == id }
}

func persistMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func persistStored(t testing.TB, st *store.Store) []call.Event {
	t.Helper()
	list, err := st.QueueEvents(context.Background(), store.QueueEventFilter{Limit: store.MaxQueueEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func persistJoined(i int) call.Event {
	return call.Event{Type: acd.EventQueueJoined, CallID: call.ID("c" + strconv.Itoa(i)), Medium: call.MediumVoice,
		Caller: call.Party{Number: "+4420" + strconv.Itoa(i)}, Data: map[string]string{acd.DataQueue: "sales", acd.DataReason: "joined"}}
}

// TestACDPersistBatches: a full batch is committed at once, without
// waiting for the timer; other bus events are not recorded; Flush
// commits the rest.
func TestACDPersistBatches(t *testing.T) {
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	bus := call.NewBus()
	p, err := newACDPersister(st, bus, persistLog())
	if err != nil {
		t.Fatal(err)
	}
	p.maxDelay = time.Hour // only full batches, Flush and stop commit
	persistRun(t, p)
	for i := range 250 {
		bus.Publish(call.Event{Type: call.EventCallCreated, CallID: call.ID("c" + strconv.Itoa(i))})
		bus.Publish(persistJoined(i))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(persistStored(t, st)) < 2*acdStoreMaxBatch && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(persistStored(t, st)); n != 2*acdStoreMaxBatch {
		t.Fatalf("%d events stored before Flush, want two full batches (%d)", n, 2*acdStoreMaxBatch)
	}
	persistMust(t, p.Flush(t.Context()))
	got := persistStored(t, st)
	if len(got) != 250 {
		t.Fatalf("%d events stored after Flush, want 250", len(got))
	}
	for i, e := range got {
		if e.Type != acd.EventQueueJoined || e.CallID != call.ID("c"+strconv.Itoa(i)) || e.Data[acd.DataQueue] != "sales" || e.Caller.Number != "+4420"+strconv.Itoa(i) {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	persistMust(t, p.Flush(t.Context())) // nothing new: a no-op
}

// TestACDPersistFlushesAfterMaxDelay: a lone event is committed by the
// timer, acdStoreMaxDelay after it arrived.
func TestACDPersistFlushesAfterMaxDelay(t *testing.T) {
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	bus := call.NewBus()
	p, err := newACDPersister(st, bus, persistLog())
	if err != nil {
		t.Fatal(err)
	}
	persistRun(t, p)
	published := time.Now()
	bus.Publish(persistJoined(1))
	for len(persistStored(t, st)) == 0 {
		if time.Since(published) > 10*time.Second {
			t.Fatal("event not committed by the timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(published); d < acdStoreMaxDelay {
		t.Fatalf("committed after %v, before the %v delay", d, acdStoreMaxDelay)
	}
}

// TestACDPersistStopLosesNothing: a graceful stop commits every event
// published before it, and the agents' last states; an agent without a
// profile gets no state row but its events are kept.
func TestACDPersistStopLosesNothing(t *testing.T) {
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	persistProfiles(t, st, "a0", "a1", "a2")
	bus := call.NewBus()
	p, err := newACDPersister(st, bus, persistLog())
	if err != nil {
		t.Fatal(err)
	}
	stop := persistRun(t, p)
	states := []string{"available", "reserved", "busy", "wrap_up", "not_ready"}
	last := map[string]store.AgentState{}
	for i := range 1000 {
		if i%4 != 0 {
			bus.Publish(persistJoined(i))
			continue
		}
		agent := []string{"a0", "a1", "a2", "ghost"}[i%16/4]
		data := map[string]string{acd.DataAgent: agent, acd.DataState: states[i%5], acd.DataReason: "test"}
		if states[i%5] == "not_ready" {
			data[acd.DataNotReady] = "lunch"
		}
		e := bus.Publish(call.Event{Type: acd.EventAgentState, Data: data})
		last[agent] = store.AgentState{Agent: agent, State: data[acd.DataState], Reason: data[acd.DataNotReady], Since: e.Time}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := len(persistStored(t, st)); n != 1000 {
		t.Fatalf("%d events stored, want 1000", n)
	}
	got, err := st.AgentStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("agent states %+v, want a0, a1, a2", got)
	}
	for _, g := range got {
		w := last[g.Agent]
		if g.State != w.State || g.Reason != w.Reason || !g.Since.Equal(w.Since.Truncate(time.Millisecond)) {
			t.Fatalf("agent state %+v, want %+v", g, w)
		}
	}
	if err := p.Flush(t.Context()); !errors.Is(err, errACDStoreStopped) {
		t.Fatalf("Flush after Run = %v, want errACDStoreStopped", err)
	}
	if err := p.Run(t.Context()); !errors.Is(err, errACDStoreRunning) {
		t.Fatalf("second Run = %v, want errACDStoreRunning", err)
	}
}

// TestACDPersistBusClose: Run commits what was published and returns
// when the bus closes.
func TestACDPersistBusClose(t *testing.T) {
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	bus := call.NewBus()
	p, err := newACDPersister(st, bus, persistLog())
	if err != nil {
		t.Fatal(err)
	}
	p.maxDelay = time.Hour
	errc := make(chan error, 1)
	go func() { errc <- p.Run(context.Background()) }()
	for i := range 10 {
		bus.Publish(persistJoined(i))
	}
	bus.Close()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the bus closed")
	}
	if n := len(persistStored(t, st)); n != 10 {
		t.Fatalf("%d events stored, want 10", n)
	}
}

// TestACDPersistReportsFailures: when the database fails, Flush returns
// the error, and a stop that cannot commit drops the batch after its
// attempts and says so.
func TestACDPersistReportsFailures(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "switchd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus := call.NewBus()
	p, err := newACDPersister(st, bus, persistLog())
	if err != nil {
		t.Fatal(err)
	}
	stop := persistRun(t, p)
	bus.Publish(persistJoined(1))
	persistMust(t, p.Flush(t.Context()))
	st.Close()
	bus.Publish(persistJoined(2))
	if err := p.Flush(t.Context()); err == nil {
		t.Fatal("Flush on a closed database: no error")
	}
	if err := stop(); err == nil || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("Run = %v, want the batch reported dropped", err)
	}
}

// TestRecoverACDStates maps stored agent states to the snapshot Restore
// takes.
func TestRecoverACDStates(t *testing.T) {
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	ctx := t.Context()
	since := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	rows := []struct{ agent, state, reason string }{
		{"a-avail", "available", ""},
		{"a-busy", "busy", ""},
		{"a-paused", "not_ready", "lunch"},
		{"a-pending", "wrap_up", "break"}, // a pause pending after wrap-up
		{"a-noreason", "not_ready", ""},
		{"a-out", "logged_out", ""},
		{"a-future", "sleeping", ""}, // a state this switchd does not know
	}
	for _, r := range rows {
		persistProfiles(t, st, r.agent)
		persistMust(t, st.PutAgentState(ctx, r.agent, r.state, r.reason, since))
	}
	now := time.Now()
	snap, err := recoverACD(ctx, st, now)
	if err != nil {
		t.Fatal(err)
	}
	want := acd.Snapshot{Taken: now, Agents: []acd.AgentSnapshot{
		{ID: "a-avail", State: acd.AgentAvailable, IdleSince: since},
		{ID: "a-busy", State: acd.AgentBusy},
		{ID: "a-noreason", State: acd.AgentNotReady, NotReady: true, Reason: acd.ReasonUnspecified},
		{ID: "a-out", State: acd.AgentLoggedOut},
		{ID: "a-paused", State: acd.AgentNotReady, NotReady: true, Reason: "lunch"},
		{ID: "a-pending", State: acd.AgentWrapUp, NotReady: true, Reason: acd.ReasonBreak},
	}}
	if !reflect.DeepEqual(snap, want) {
		t.Fatalf("snapshot\n got %+v\nwant %+v", snap, want)
	}
}

const persistCrashEnv = "SWITCHD_TEST_ACD_CRASH" // db path and base time (unix ms) of the crash test's child

// persistCrashLife is the first life of TestRecoverACDAfterKill, run in a
// child process that the test kills: agents log in and take, miss and wait
// for contacts; once the persister has committed, it says "ready" and
// waits for SIGKILL (or for its stdin to close, should the test die first).
func persistCrashLife(t *testing.T, dbPath string, base time.Time) {
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, store.Options{})
	persistMust(t, err)
	for _, a := range persistAgents {
		persistProfiles(t, st, string(a.ID))
	}
	clock := &persistClock{t: base}
	bus, pub := persistBus()
	p, err := newACDPersister(st, bus, persistLog())
	persistMust(t, err)
	go p.Run(ctx)
	sub, err := bus.Subscribe(0, call.Lossless())
	persistMust(t, err)
	e := persistEngine(t, pub, clock, persistAgents...)
	step := 0
	at := func() {
		step++
		clock.set(base.Add(time.Duration(step) * time.Second))
	}
	contact := func(id, queue string, m call.Medium) acd.Contact {
		return acd.Contact{ID: call.ID(id), Medium: m, Caller: call.Party{Number: "+44" + id[2:], Name: id}, Queue: queue}
	}
	enqueue := func(c acd.Contact) {
		_, err := e.Enqueue(ctx, c)
		persistMust(t, err)
	}
	at() // 1s
	persistMust(t, e.Login(ctx, "alice"))
	at() // 2s
	persistMust(t, e.Login(ctx, "bob"))
	at() // 3s
	persistMust(t, e.SetNotReady(ctx, "bob", acd.ReasonLunch))
	at() // 4s
	persistMust(t, e.Login(ctx, "carol"))
	at() // 5s
	persistMust(t, e.Login(ctx, "dave"))
	at() // 6s
	persistMust(t, e.Logout(ctx, "dave"))
	at() // 7s
	persistMust(t, e.Login(ctx, "erin"))
	at() // 8s: offered to alice, the only one ready
	enqueue(contact("c-1", "sales", call.MediumVoice))
	at() // 9s
	persistMust(t, e.OfferAccepted(ctx, "c-1", "alice"))
	at() // 10s: a pause pending until her call ends
	persistMust(t, e.SetNotReady(ctx, "alice", acd.ReasonBreak))
	at() // 11s: nobody ready in sales
	enqueue(contact("c-2", "sales", call.MediumVoice))
	at() // 12s: offered to carol, ringing
	enqueue(contact("c-3", "support", call.MediumChat))
	at() // 13s: carol takes no voice
	enqueue(contact("c-4", "support", call.MediumVoice))
	at() // 14s
	persistMust(t, e.Move(ctx, "c-4", "sales"))
	at() // 15s
	enqueue(contact("c-5", "sales", call.MediumVoice))
	at() // 16s
	persistMust(t, e.Abandon(ctx, "c-5"))
	persistNext(t, sub, acd.EventQueueAbandoned, about("c-5")) // the engine has published everything
	persistMust(t, p.Flush(ctx))
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(2)
}

// TestRecoverACDAfterKill runs a switch's ACD and persister in a child
// process, kills it with SIGKILL, recovers the snapshot from the database
// it left, and restores it into a new engine: the agents come back, and
// the contacts that were waiting are published as queue_lost with cause
// switch_restart (and stored, so a second restart finds none).
func TestRecoverACDAfterKill(t *testing.T) {
	if v := os.Getenv(persistCrashEnv); v != "" {
		path, ms, _ := strings.Cut(v, ",")
		n, _ := strconv.ParseInt(ms, 10, 64)
		persistCrashLife(t, path, time.UnixMilli(n))
		return
	}
	dbPath := filepath.Join(t.TempDir(), "switchd.db")
	base := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

	cmd := exec.Command(os.Args[0], "-test.run=^TestRecoverACDAfterKill$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d", persistCrashEnv, dbPath, base.UnixMilli()))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe() // held open until the kill
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				return
			}
			t.Logf("child: %s", sc.Text())
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("child exited before it was ready")
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child not ready")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no graceful anything
		t.Fatal(err)
	}
	cmd.Wait()

	// Second life.
	ctx := t.Context()
	st := openTestStore(t, dbPath)
	now := sec(120)
	snap, err := recoverACD(ctx, st, now)
	if err != nil {
		t.Fatal(err)
	}
	wantAgents := []acd.AgentSnapshot{
		{ID: "alice", State: acd.AgentBusy, NotReady: true, Reason: acd.ReasonBreak},
		{ID: "bob", State: acd.AgentNotReady, NotReady: true, Reason: acd.ReasonLunch},
		{ID: "carol", State: acd.AgentReserved},
		{ID: "dave", State: acd.AgentLoggedOut},
		{ID: "erin", State: acd.AgentAvailable, IdleSince: sec(7)},
	}
	wantWaiting := []acd.WaitingSnapshot{
		{ID: "c-2", Medium: call.MediumVoice, Caller: call.Party{Number: "+442"}, Queue: "sales", Joined: sec(11)},
		{ID: "c-3", Medium: call.MediumChat, Caller: call.Party{Number: "+443"}, Queue: "support", Joined: sec(12)},
		{ID: "c-4", Medium: call.MediumVoice, Caller: call.Party{Number: "+444"}, Queue: "sales", Joined: sec(14)},
	}
	if !snap.Taken.Equal(now) || !reflect.DeepEqual(snap.Agents, wantAgents) || !reflect.DeepEqual(snap.Waiting, wantWaiting) {
		t.Fatalf("recovered\n got %+v\nwant agents %+v\n waiting %+v", snap, wantAgents, wantWaiting)
	}

	clock := &persistClock{t: now}
	bus, pub := persistBus()
	p, err := newACDPersister(st, bus, persistLog())
	if err != nil {
		t.Fatal(err)
	}
	persistRun(t, p)
	sub, err := bus.Subscribe(0, call.Lossless())
	if err != nil {
		t.Fatal(err)
	}
	e := persistEngine(t, pub, clock, persistAgents...)
	lost, err := e.Restore(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lost, wantWaiting) {
		t.Fatalf("Restore lost %+v, want %+v", lost, wantWaiting)
	}
	for _, w := range wantWaiting {
		ev := persistNext(t, sub, acd.EventQueueLost, about(w.ID))
		wantWait := strconv.FormatInt(now.Sub(w.Joined).Milliseconds(), 10)
		if ev.Cause != call.CauseSwitchRestart || ev.Medium != w.Medium || ev.Caller != w.Caller ||
			ev.Data[acd.DataQueue] != w.Queue || ev.Data[acd.DataWaitMS] != wantWait {
			t.Fatalf("queue_lost %+v, want cause switch_restart, %+v, wait %s ms", ev, w, wantWait)
		}
	}
	status, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gotStates := map[acd.AgentID]string{}
	for _, a := range status.Agents {
		gotStates[a.ID] = a.State.String() + "/" + string(a.Reason)
	}
	wantStates := map[acd.AgentID]string{
		"alice": "not_ready/break", "bob": "not_ready/lunch", "carol": "available/", "dave": "logged_out/", "erin": "available/",
	}
	if !reflect.DeepEqual(gotStates, wantStates) {
		t.Fatalf("restored agents %v, want %v", gotStates, wantStates)
	}

	// The losses and the restored states are stored: a second restart
	// finds nobody waiting, and the agents as restored.
	persistNext(t, sub, acd.EventAgentState, func(e call.Event) bool { return e.Data[acd.DataAgent] == "erin" }) // the restore's last
	persistMust(t, p.Flush(ctx))
	if w, err := st.WaitingContacts(ctx); err != nil || len(w) != 0 {
		t.Fatalf("waiting after restore: %+v, %v", w, err)
	}
	again, err := recoverACD(ctx, st, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	restored := map[acd.AgentID]string{}
	for _, a := range again.Agents {
		restored[a.ID] = a.State.String() + "/" + string(a.Reason)
	}
	// dave's row is still that of the first life; the others were restored.
	wantStored := map[acd.AgentID]string{
		"alice": "not_ready/break", "bob": "not_ready/lunch", "carol": "available/", "dave": "logged_out/", "erin": "available/",
	}
	if !reflect.DeepEqual(restored, wantStored) {
		t.Fatalf("stored agent states after the restore %v, want %v", restored, wantStored)
	}
	lostRows, err := st.QueueEvents(ctx, store.QueueEventFilter{Since: now})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range lostRows {
		if ev.Type == acd.EventQueueLost && ev.Cause == call.CauseSwitchRestart {
			n++
		}
	}
	if n != len(wantWaiting) {
		t.Fatalf("%d queue_lost events stored, want %d", n, len(wantWaiting))
	}
}

// TestQueueStatsFromStore: the metrics replayed from the stored events
// equal those computed live from the bus, and a later since counts only
// what happened after it.
func TestQueueStatsFromStore(t *testing.T) {
	ctx := t.Context()
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	persistProfiles(t, st, "alice", "bob")
	base := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	clock := &persistClock{t: base}
	bus, pub := persistBus()
	p, err := newACDPersister(st, bus, persistLog())
	if err != nil {
		t.Fatal(err)
	}
	persistRun(t, p)
	cfg := persistConfig(t)
	live := acd.NewStats(cfg)
	sub, err := bus.Subscribe(0, call.Lossless())
	if err != nil {
		t.Fatal(err)
	}
	e := persistEngine(t, pub, clock, persistAgents[0], persistAgents[1])
	at := func(s int) { clock.set(base.Add(time.Duration(s) * time.Second)) }
	enqueue := func(id, queue string) {
		t.Helper()
		if _, err := e.Enqueue(ctx, acd.Contact{ID: call.ID(id), Medium: call.MediumVoice, Queue: queue}); err != nil {
			t.Fatal(err)
		}
	}
	at(1)
	persistMust(t, e.Login(ctx, "alice"))
	at(2)
	enqueue("c-1", "sales") // offered to alice
	at(6)
	persistMust(t, e.OfferAccepted(ctx, "c-1", "alice")) // answered in 4s
	at(7)
	enqueue("c-2", "sales")
	at(9)
	persistMust(t, e.Abandon(ctx, "c-2")) // a short abandon
	at(10)
	enqueue("c-3", "sales")
	at(40)
	persistMust(t, e.Abandon(ctx, "c-3")) // abandoned after 30s
	at(61)
	persistMust(t, e.ContactEnded(ctx, "c-1", 5*time.Second))
	at(63)
	persistMust(t, e.EndWrapUp(ctx, "alice"))
	at(70)
	enqueue("c-4", "support")
	at(75)
	persistMust(t, e.Move(ctx, "c-4", "sales")) // offered to alice
	at(95)
	persistMust(t, e.OfferAccepted(ctx, "c-4", "alice")) // answered after 25s in all, 20s in sales
	at(100)
	persistMust(t, e.Login(ctx, "bob"))
	at(101)
	enqueue("c-5", "sales") // offered to bob, still waiting
	// The live aggregate: every event up to c-5's offer, from the bus.
	for e := range sub.Events() {
		live.Add(e)
		if e.Type == acd.EventQueueOffered && e.CallID == "c-5" {
			break
		}
	}
	sub.Close()
	persistMust(t, p.Flush(ctx))

	now := base.Add(2 * time.Minute)
	replayed, err := loadQueueStats(ctx, st, cfg, base)
	if err != nil {
		t.Fatal(err)
	}
	want := live.Queues(now)
	if got := replayed.Queues(now); !reflect.DeepEqual(got, want) {
		t.Fatalf("replayed stats\n got %+v\nwant %+v", got, want)
	}
	sales := persistQueue(t, want, "sales")
	if sales.Answered != 2 || sales.Abandoned != 2 || sales.ShortAbandoned != 1 || sales.Completed != 1 || sales.Waiting != 1 ||
		sales.AnsweredInSL != 1 || sales.ASA != 12*time.Second || sales.AvgWrap != 2*time.Second {
		t.Fatalf("sales stats %+v", sales)
	}
	if support := persistQueue(t, want, "support"); support.MovedOut != 1 || support.Joined != 1 {
		t.Fatalf("support stats %+v", support)
	}

	later, err := loadQueueStats(ctx, st, cfg, base.Add(50*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	s := later.Queue("sales", now)
	if s.Joined != 2 || s.Answered != 1 || s.Abandoned != 0 || s.Completed != 1 {
		t.Fatalf("sales since 50s: %+v", s)
	}
}

// persistQueue is the stats of queue name in list.
func persistQueue(t *testing.T, list []acd.QueueStats, name string) acd.QueueStats {
	t.Helper()
	for _, q := range list {
		if q.Queue == name {
			return q
		}
	}
	t.Fatalf("no queue %s in %+v", name, list)
	return acd.QueueStats{}
}
