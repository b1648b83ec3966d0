package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/web"
)

// ACDConfig is where the queues are, and how agents work them from their
// phones.
type ACDConfig struct {
	// Dir holds the queues: every *.yaml file's `queues:` list (schema in
	// acd/config.go). A missing folder means no queues. Default
	// "configs/queues".
	Dir string `yaml:"dir"`
	// FeatureCodes are what an agent dials on a phone that is one of
	// their devices; "" turns a code off.
	FeatureCodes FeatureCodes `yaml:"feature_codes"`
}

// FeatureCodes are the agents' phone codes (defaults *50, *51, *52, and
// *33 for supervisors).
type FeatureCodes struct {
	Login    string `yaml:"login"`
	Logout   string `yaml:"logout"`
	NotReady string `yaml:"not_ready"` // toggles not ready (reason break) and available
	// Monitor, followed by an agent's extension, puts a supervisor on that
	// extension's call (1 listen, 2 whisper, 3 barge).
	Monitor string `yaml:"monitor"`
}

// DefaultACDConfig is the ACD section's defaults.
func DefaultACDConfig() ACDConfig {
	return ACDConfig{Dir: "configs/queues", FeatureCodes: FeatureCodes{Login: "*50", Logout: "*51", NotReady: "*52", Monitor: "*33"}}
}

// Validate checks the feature codes (the queues are checked by loadQueues).
func (c *ACDConfig) Validate() []config.Problem {
	var ps config.Problems
	seen := map[string]string{}
	for _, fc := range []struct{ key, code string }{
		{"feature_codes.login", c.FeatureCodes.Login},
		{"feature_codes.logout", c.FeatureCodes.Logout},
		{"feature_codes.not_ready", c.FeatureCodes.NotReady},
		{"feature_codes.monitor", c.FeatureCodes.Monitor},
	} {
		if fc.code == "" {
			continue
		}
		if !dialString(fc.code) {
			ps.Add(fc.key, "%q: use digits, * and # only", fc.code)
		}
		if other, dup := seen[fc.code]; dup {
			ps.Add(fc.key, "%q is also %s", fc.code, other)
		}
		seen[fc.code] = fc.key
	}
	return ps.List()
}

func dialString(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return s != ""
}

// acdService is the running ACD: the engine (the single owner of agent
// and queue state), the connector ringing agents over SIP, the callers
// waiting in queues, and the persistence of its events. It implements
// web.ACD.
type acdService struct {
	s      *Server
	log    *slog.Logger
	engine *acd.Engine
	qcfg   acd.Config

	mu      sync.Mutex
	waiters map[call.ID]*waiter
	// queued holds the calls that entered a queue, until they end: when
	// each first entered one, at what priority (a call transferred back
	// into a queue keeps both).
	queued map[call.ID]acd.Contact
	// talking holds the queue calls connected to an agent: closed once the
	// engine has recorded the agent's part ended (a transfer back into a
	// queue enqueues after that).
	talking map[call.ID]chan struct{}
	own     map[call.ID]acd.AgentID // agents' own (non-queue) calls in progress
	byExt   map[string]acd.AgentID  // device → agent, for own calls and feature codes

	sub *call.Subscription // agents' own calls (observe)

	calls sync.WaitGroup // connected queue calls being followed to their end
}

var _ web.ACD = (*acdService)(nil)

// newACD builds the engine with the stored agents; Run starts it.
func newACD(s *Server, qcfg acd.Config) (*acdService, error) {
	a := &acdService{s: s, log: s.log.With("component", "acd"), qcfg: qcfg,
		waiters: map[call.ID]*waiter{}, queued: map[call.ID]acd.Contact{}, talking: map[call.ID]chan struct{}{}, own: map[call.ID]acd.AgentID{}, byExt: map[string]acd.AgentID{}}
	stored, err := s.store.Agents(context.Background())
	if err != nil {
		return nil, fmt.Errorf("acd: agents: %w", err)
	}
	var agents []acd.Agent
	for _, sa := range stored {
		ag, err := agentFromStore(sa)
		if err != nil {
			a.log.Warn("agent_skipped", "agent", sa.ID, "error", err)
			continue
		}
		agents = append(agents, ag)
		a.indexDevices(ag)
	}
	a.engine, err = acd.New(qcfg, connector{a}, acd.WithClock(s.now), acd.WithEvents(s.bus),
		acd.WithLogger(a.log), acd.WithSeed(uint64(s.now().UnixNano())), acd.WithAgents(agents...))
	if err != nil {
		return nil, fmt.Errorf("acd: %w", err)
	}
	return a, nil
}

// agentFromStore converts a stored profile.
func agentFromStore(sa store.Agent) (acd.Agent, error) {
	ag := acd.Agent{ID: acd.AgentID(sa.ID), Name: sa.Name, Devices: sa.Devices, Skills: sa.Skills, WrapUp: sa.WrapUp}
	if len(sa.Capacity) > 0 {
		ag.Capacity = map[call.Medium]int{}
		for name, n := range sa.Capacity {
			var m call.Medium
			if err := m.UnmarshalText([]byte(name)); err != nil {
				return acd.Agent{}, fmt.Errorf("capacity: %w", err)
			}
			ag.Capacity[m] = n
		}
	}
	for _, q := range sa.Queues {
		ag.Queues = append(ag.Queues, acd.Membership{Queue: q.Queue, Penalty: q.Penalty, Priority: q.Priority})
	}
	return ag, nil
}

// indexDevices maps an agent's devices to them (a device has one agent:
// the last profile naming it).
func (a *acdService) indexDevices(ag acd.Agent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for ext, id := range a.byExt {
		if id == ag.ID {
			delete(a.byExt, ext)
		}
	}
	for _, d := range ag.Devices {
		a.byExt[d] = ag.ID
	}
}

// agentOf is the agent whose device ext is.
func (a *acdService) agentOf(ext string) (acd.AgentID, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.byExt[ext]
	return id, ok
}

// start runs the engine until ctx ends, after restoring the agents'
// states of the previous run and recording the contacts that were waiting
// as lost (switch_restart). It returns when the engine has started.
func (a *acdService) start(ctx context.Context, wg *sync.WaitGroup) error {
	snap, err := recoverACD(ctx, a.s.store, a.s.now())
	if err != nil {
		return fmt.Errorf("acd: recover: %w", err)
	}
	if a.sub, err = a.s.bus.Subscribe(a.s.bus.LastSeq(), call.Lossless()); err != nil {
		return fmt.Errorf("acd: subscribe: %w", err)
	}
	wg.Go(func() {
		if err := a.engine.Run(ctx); err != nil {
			a.log.Error("acd_stopped", "error", err)
		}
	})
	wg.Go(func() { a.follow(ctx) })
	lost, err := a.engine.Restore(ctx, snap)
	if err != nil {
		return fmt.Errorf("acd: restore: %w", err)
	}
	if len(lost) > 0 || len(snap.Agents) > 0 {
		a.log.Info("acd_recovered", "agents", len(snap.Agents), "lost_contacts", len(lost))
	}
	return nil
}

// follow watches the bus for agents' own calls.
func (a *acdService) follow(ctx context.Context) {
	defer a.sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-a.sub.Events():
			if !ok {
				return
			}
			a.observe(ctx, e)
		}
	}
}

// observe takes one bus event: calls of agents' devices make them busy
// (their own calls).
func (a *acdService) observe(ctx context.Context, e call.Event) {
	switch e.Type {
	case call.EventCallAnswered, call.EventCallEnded:
		a.ownCall(ctx, e)
	case call.EventCallTransferred:
		a.transferred(ctx, e)
	}
}

// ownCall reports an agent's non-queue call to the engine: busy while a
// call of one of their devices is answered.
func (a *acdService) ownCall(ctx context.Context, e call.Event) {
	a.mu.Lock()
	_, queued := a.queued[e.CallID]
	agent, tracked := a.own[e.CallID]
	if queued && e.Type == call.EventCallEnded {
		delete(a.queued, e.CallID)
	}
	a.mu.Unlock()
	if e.Type == call.EventCallEnded {
		if tracked { // (also a queue contact transferred to an agent's extension)
			a.endOwnCall(ctx, agent, e.CallID)
		}
		return
	}
	if queued {
		return // a queue contact: the engine knows
	}
	if tracked {
		return // answered again (a re-answer after a transfer): still busy
	}
	for _, ext := range []string{e.Caller.Number, e.Callee.Number} {
		if id, ok := a.agentOf(ext); ok && a.startOwnCall(ctx, id, e.CallID) {
			return
		}
	}
}

// startOwnCall tells the engine an agent is busy with a call that is not
// a queue contact for them, and reports whether it took it.
func (a *acdService) startOwnCall(ctx context.Context, agent acd.AgentID, id call.ID) bool {
	if err := a.engine.OwnCallStarted(ctx, agent, id); err != nil {
		a.log.Debug("own_call_ignored", "agent", agent, "error", err)
		return false
	}
	a.mu.Lock()
	a.own[id] = agent
	a.mu.Unlock()
	return true
}

// endOwnCall tells the engine an agent's own call is over for them.
func (a *acdService) endOwnCall(ctx context.Context, agent acd.AgentID, id call.ID) {
	a.mu.Lock()
	delete(a.own, id)
	a.mu.Unlock()
	if err := a.engine.OwnCallEnded(ctx, agent, id); err != nil && !errors.Is(err, acd.ErrStopped) {
		a.log.Debug("own_call_end_ignored", "agent", agent, "error", err)
	}
}

// transferred follows a completed transfer: an agent who transferred a
// call they were busy with is free of it, and an agent whose extension
// the call was transferred to is busy with it (queue contacts included:
// the engine's contact ended with the transferring agent).
func (a *acdService) transferred(ctx context.Context, e call.Event) {
	if e.Data[call.DataTransferResult] != call.TransferCompleted {
		return
	}
	a.mu.Lock()
	agent, tracked := a.own[e.CallID]
	a.mu.Unlock()
	if from, ok := a.agentOf(e.Data[call.DataTransferor]); ok && tracked && from == agent {
		a.endOwnCall(ctx, agent, e.CallID)
		tracked = false
	}
	if to, ok := a.agentOf(e.Data[call.DataTransferTarget]); ok && !tracked {
		a.startOwnCall(ctx, to, e.CallID)
	}
}

// reload applies changed queue files to the running engine.
func (a *acdService) reload(ctx context.Context, qcfg acd.Config) error {
	if err := a.engine.Reload(ctx, qcfg); err != nil {
		return fmt.Errorf("acd: %w", err)
	}
	a.mu.Lock()
	a.qcfg = qcfg
	a.mu.Unlock()
	return nil
}

// queueConfig returns a queue's current configuration.
func (a *acdService) queueConfig(name string) (acd.QueueConfig, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, q := range a.qcfg.Queues {
		if q.Name == name {
			return q, true
		}
	}
	return acd.QueueConfig{}, false
}

// queueByNumber returns the queue whose internal number is n.
func (a *acdService) queueByNumber(n string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, q := range a.qcfg.Queues {
		if q.Number != "" && q.Number == n {
			return q.Name, true
		}
	}
	return "", false
}

// Status implements web.ACD.
func (a *acdService) Status(ctx context.Context) (acd.Status, error) {
	st, err := a.engine.Status(ctx)
	return st, apiErr(err)
}

// Stats implements web.ACD: computed from the stored events since the
// given time (the persister commits them within 200 ms).
func (a *acdService) Stats(ctx context.Context, since time.Time) ([]acd.QueueStats, error) {
	a.mu.Lock()
	qcfg := a.qcfg
	a.mu.Unlock()
	st, err := loadQueueStats(ctx, a.s.store, qcfg, since)
	if err != nil {
		return nil, err
	}
	return st.Queues(a.s.now()), nil
}

// SetAgentState implements web.ACD.
func (a *acdService) SetAgentState(ctx context.Context, agent string, state web.AgentStateChange, reason string) error {
	id := acd.AgentID(agent)
	var err error
	switch state {
	case web.AgentAvailable:
		err = a.makeAvailable(ctx, id)
	case web.AgentNotReady:
		err = a.engine.SetNotReady(ctx, id, acd.Reason(reason))
	case web.AgentLoggedOut:
		err = a.engine.Logout(ctx, id)
	default:
		return fmt.Errorf("%w: state %q is not available, not_ready or logged_out", web.ErrInvalid, state)
	}
	return apiErr(err)
}

// makeAvailable logs an agent in, or ends their pause or wrap-up.
func (a *acdService) makeAvailable(ctx context.Context, id acd.AgentID) error {
	st, err := a.agentStatus(ctx, id)
	if err != nil {
		return err
	}
	switch st.State {
	case acd.AgentLoggedOut:
		return a.engine.Login(ctx, id)
	case acd.AgentWrapUp:
		return a.engine.EndWrapUp(ctx, id)
	case acd.AgentAvailable:
		return nil
	default:
		return a.engine.SetAvailable(ctx, id)
	}
}

// agentStatus is one agent's live state.
func (a *acdService) agentStatus(ctx context.Context, id acd.AgentID) (acd.AgentStatus, error) {
	st, err := a.engine.Status(ctx)
	if err != nil {
		return acd.AgentStatus{}, err
	}
	for _, as := range st.Agents {
		if as.ID == id {
			return as, nil
		}
	}
	return acd.AgentStatus{}, fmt.Errorf("%w: %s", acd.ErrNoAgent, id)
}

// MoveContact implements web.ACD.
func (a *acdService) MoveContact(ctx context.Context, id call.ID, queue string) error {
	return apiErr(a.engine.Move(ctx, id, queue))
}

// SetContactPriority implements web.ACD.
func (a *acdService) SetContactPriority(ctx context.Context, id call.ID, priority int) error {
	return apiErr(a.engine.SetPriority(ctx, id, priority))
}

// SyncAgent implements web.ACD: the store's profile replaces the engine's
// (a removed agent is logged out and forgotten).
func (a *acdService) SyncAgent(ctx context.Context, agent string) error {
	sa, err := a.s.store.Agent(ctx, agent)
	if errors.Is(err, store.ErrNotFound) {
		id := acd.AgentID(agent)
		if err := a.engine.Logout(ctx, id); err != nil && !errors.Is(err, acd.ErrAgentState) {
			return apiErr(err)
		}
		a.indexDevices(acd.Agent{ID: id})
		return apiErr(a.engine.RemoveAgent(ctx, id))
	}
	if err != nil {
		return err
	}
	ag, err := agentFromStore(sa)
	if err != nil {
		return fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if err := a.engine.PutAgent(ctx, ag); err != nil {
		return apiErr(err)
	}
	a.indexDevices(ag)
	return nil
}

// Events implements web.ACD.
func (a *acdService) Events(ctx context.Context, q web.QueueEventQuery) ([]call.Event, error) {
	return a.s.store.QueueEvents(ctx, store.QueueEventFilter{CallID: q.CallID, Queue: q.Queue, Agent: q.Agent,
		Since: q.Since, Until: q.Until, Limit: q.Limit})
}

// apiErr maps the engine's errors onto the API's kinds.
func apiErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, acd.ErrNoAgent), errors.Is(err, acd.ErrNoContact), errors.Is(err, acd.ErrNoQueue):
		return fmt.Errorf("%w: %v", web.ErrNotFound, err)
	case errors.Is(err, acd.ErrAgentState), errors.Is(err, acd.ErrContactState):
		return fmt.Errorf("%w: %v", web.ErrConflict, err)
	case errors.Is(err, acd.ErrInvalidAgent), errors.Is(err, acd.ErrInvalidValue):
		return fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	return err
}
