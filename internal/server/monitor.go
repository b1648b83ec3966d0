package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/media/mixer"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/web"
)

// monitors are the supervisors on live calls: a supervisor dials the
// monitor code and an agent's extension (*33 2001) from a phone that is
// one of their devices; keys 1, 2 and 3 switch between listen, whisper
// and barge. Only users with the supervisor (or admin) role may; every
// start, mode change, stop and refusal is in the audit log.
type monitors struct {
	s    *Server
	code string

	mu       sync.Mutex
	sessions map[call.ID]*monitorSession // by monitored call
}

// monitorSession is one supervisor on one call.
type monitorSession struct {
	m             *sip.Monitor
	supervisor    string
	supervisorExt string
	agentExt      string
	started       time.Time

	mu     sync.Mutex
	mode   mixer.Mode
	stopBy string // who stopped it through the API ("" : the call or the supervisor ended it)
}

var _ web.Monitors = (*monitors)(nil)

func newMonitors(s *Server, code string) *monitors {
	return &monitors{s: s, code: code, sessions: map[call.ID]*monitorSession{}}
}

// app returns the application of a dialled monitor code + extension.
func (ms *monitors) app(dialled string) (sip.Application, bool) {
	if ms.code == "" {
		return nil, false
	}
	ext, ok := strings.CutPrefix(dialled, ms.code)
	if !ok || ext == "" {
		return nil, false
	}
	return monitorApp{ms: ms, ext: ext}, true
}

// stopDetail is why the session stopped: the API user who stopped it, else
// otherwise.
func (s *monitorSession) stopDetail(otherwise string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopBy != "" {
		return "api " + s.stopBy
	}
	return otherwise
}

// supervisorOf says which user dials from ext, if they may supervise: the
// agent whose device ext is, with an API user of the same name whose role
// is supervisor or admin.
func (ms *monitors) supervisorOf(ctx context.Context, ext string) (string, error) {
	id, ok := ms.s.acd.agentOf(ext)
	if !ok {
		return "", fmt.Errorf("extension %s is no agent's device", ext)
	}
	users, err := ms.s.store.Tokens(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if u.Name == string(id) && (u.Role == "supervisor" || u.Role == "admin") {
			return u.Name, nil
		}
	}
	return "", fmt.Errorf("agent %s has no supervisor role", id)
}

// EventMonitor is a supervisor's action on a live call, on the bus (Data
// action, mode, supervisor, agent_ext), as in the audit log.
const EventMonitor call.EventType = "monitor"

// audit records a supervisor's action in the audit log and on the bus; a
// failure to record is logged loudly (the action has happened).
func (ms *monitors) audit(a store.MonitorAudit) {
	if a.CallID != "" {
		ms.s.bus.Publish(call.Event{Type: EventMonitor, CallID: call.ID(a.CallID), Medium: call.MediumVoice,
			Data: map[string]string{"action": a.Action, "mode": a.Mode, "supervisor": a.Supervisor, "agent_ext": a.AgentExt}})
	}
	if err := ms.s.store.AddMonitorAudit(context.Background(), a); err != nil {
		ms.s.log.Error("monitor_audit_failed", "error", err, "action", a.Action, "call_id", a.CallID)
	}
}

// monitorApp is a supervisor's call to the monitor code.
type monitorApp struct {
	ms  *monitors
	ext string
}

var _ sip.Application = monitorApp{}

// Name implements sip.Application.
func (a monitorApp) Name() string { return "monitor " + a.ext }

// Run implements sip.Application: listen first; 1 listen, 2 whisper,
// 3 barge; the supervisor hangs up to stop.
func (a monitorApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	ms := a.ms
	supExt := leg.Caller().Number
	log := ms.s.log.With("component", "monitor", "supervisor_ext", supExt, "agent_ext", a.ext)
	who, err := ms.supervisorOf(ctx, supExt)
	if err != nil {
		log.Warn("monitor_refused", "error", err)
		ms.audit(store.MonitorAudit{SupervisorExt: supExt, AgentExt: a.ext, Action: "refused", Detail: err.Error()})
		sayTo(ctx, leg, "You may not monitor calls.")
		return sip.AppResult{Cause: call.CauseForbidden}
	}
	m, err := ms.s.sip.Monitor(ctx, a.ext, leg, mixer.Listen)
	if err != nil {
		log.Info("monitor_unavailable", "error", err)
		ms.audit(store.MonitorAudit{Supervisor: who, SupervisorExt: supExt, AgentExt: a.ext, Action: "refused", Detail: err.Error()})
		text := "That extension is not on a call."
		if errors.Is(err, sip.ErrMonitored) {
			text = "That call already has a supervisor."
		}
		sayTo(ctx, leg, text)
		return sip.AppResult{Cause: call.CauseUnavailable}
	}
	sess := &monitorSession{m: m, supervisor: who, supervisorExt: supExt, agentExt: a.ext, started: ms.s.now(), mode: mixer.Listen}
	ms.mu.Lock()
	ms.sessions[m.CallID] = sess
	ms.mu.Unlock()
	ms.audit(store.MonitorAudit{Supervisor: who, SupervisorExt: supExt, CallID: string(m.CallID), AgentExt: a.ext, Action: "start", Mode: "listen"})
	defer func() {
		ms.mu.Lock()
		delete(ms.sessions, m.CallID)
		ms.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			m.Stop()
			ms.audit(store.MonitorAudit{Supervisor: who, SupervisorExt: supExt, CallID: string(m.CallID), AgentExt: a.ext, Action: "stop", Detail: sess.stopDetail("supervisor hung up")})
			return sip.AppResult{Cause: leg.Cause()}
		case <-m.Done():
			ms.audit(store.MonitorAudit{Supervisor: who, SupervisorExt: supExt, CallID: string(m.CallID), AgentExt: a.ext, Action: "stop", Detail: sess.stopDetail("call ended")})
			return sip.AppResult{Cause: call.CauseNormalClearing}
		case d := <-leg.Digits():
			mode := map[byte]mixer.Mode{'1': mixer.Listen, '2': mixer.Whisper, '3': mixer.Barge}[d.Digit]
			if mode != 0 {
				if err := ms.setMode(sess, mode, "keypad"); err != nil {
					log.Warn("monitor_mode_failed", "error", err)
				}
			}
		}
	}
}

// setMode switches a session's mode and audits it.
func (ms *monitors) setMode(sess *monitorSession, mode mixer.Mode, by string) error {
	if err := sess.m.SetMode(mode); err != nil {
		return err
	}
	sess.mu.Lock()
	sess.mode = mode
	sess.mu.Unlock()
	ms.audit(store.MonitorAudit{Supervisor: sess.supervisor, SupervisorExt: sess.supervisorExt, CallID: string(sess.m.CallID),
		AgentExt: sess.agentExt, Action: "mode", Mode: mode.String(), Detail: by})
	return nil
}

// ListMonitors implements web.Monitors.
func (ms *monitors) ListMonitors(context.Context) ([]web.MonitorSession, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	out := make([]web.MonitorSession, 0, len(ms.sessions))
	for _, s := range ms.sessions {
		s.mu.Lock()
		out = append(out, web.MonitorSession{CallID: string(s.m.CallID), Supervisor: s.supervisor, SupervisorExt: s.supervisorExt,
			AgentExt: s.agentExt, Customer: s.m.Customer.Number, Mode: s.mode.String(), Started: s.started})
		s.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

// session finds the session on a call.
func (ms *monitors) session(callID string) (*monitorSession, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s := ms.sessions[call.ID(callID)]
	if s == nil {
		return nil, fmt.Errorf("%w: no supervisor on call %s", web.ErrNotFound, callID)
	}
	return s, nil
}

// SetMonitorMode implements web.Monitors: a supervisor (by) switches the
// mode of a session from the API.
func (ms *monitors) SetMonitorMode(_ context.Context, callID, mode, by string) error {
	s, err := ms.session(callID)
	if err != nil {
		return err
	}
	var m mixer.Mode
	switch mode {
	case "listen":
		m = mixer.Listen
	case "whisper":
		m = mixer.Whisper
	case "barge":
		m = mixer.Barge
	default:
		return fmt.Errorf("%w: mode %q is not listen, whisper or barge", web.ErrInvalid, mode)
	}
	return ms.setMode(s, m, "api "+by)
}

// StopMonitor implements web.Monitors: the supervisor is taken off the
// call (their phone is hung up).
func (ms *monitors) StopMonitor(_ context.Context, callID, by string) error {
	s, err := ms.session(callID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.stopBy = by
	s.mu.Unlock()
	s.m.Stop() // the session's Run writes the one stop entry of the audit log
	return nil
}

// MonitorAudit implements web.Monitors.
func (ms *monitors) MonitorAudit(ctx context.Context, since time.Time, callID string, limit int) ([]web.MonitorAuditEntry, error) {
	list, err := ms.s.store.MonitorAudits(ctx, since, callID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]web.MonitorAuditEntry, len(list))
	for i, a := range list {
		out[i] = web.MonitorAuditEntry{At: a.At, Supervisor: a.Supervisor, SupervisorExt: a.SupervisorExt, CallID: a.CallID,
			AgentExt: a.AgentExt, Action: a.Action, Mode: a.Mode, Detail: a.Detail}
	}
	return out, nil
}
