package web

import (
	"context"
	"time"
)

// Monitors are the supervisors on live calls (listen, whisper, barge) as
// the API drives them. A supervisor starts a session from their phone
// (the monitor code and an agent's extension); the API lists sessions,
// switches their mode, stops them, and reads the audit log.
// Implementations wrap ErrNotFound (no session on that call) and
// ErrInvalid (an unknown mode).
type Monitors interface {
	ListMonitors(ctx context.Context) ([]MonitorSession, error)
	// SetMonitorMode switches the session on a call to listen, whisper or
	// barge; by is the API user doing it (audited).
	SetMonitorMode(ctx context.Context, callID, mode, by string) error
	// StopMonitor takes the supervisor off the call (audited with by).
	StopMonitor(ctx context.Context, callID, by string) error
	// MonitorAudit is the audit log since a time, oldest first.
	MonitorAudit(ctx context.Context, since time.Time, callID string, limit int) ([]MonitorAuditEntry, error)
}

// MonitorSession is a supervisor on a live call.
type MonitorSession struct {
	CallID        string    `json:"call_id"`
	Supervisor    string    `json:"supervisor"`
	SupervisorExt string    `json:"supervisor_ext"`
	AgentExt      string    `json:"agent_ext"`
	Customer      string    `json:"customer"`
	Mode          string    `json:"mode"`
	Started       time.Time `json:"started"`
}

// MonitorAuditEntry is one line of the supervisors' audit log.
type MonitorAuditEntry struct {
	At            time.Time `json:"at"`
	Supervisor    string    `json:"supervisor"`
	SupervisorExt string    `json:"supervisor_ext"`
	CallID        string    `json:"call_id"`
	AgentExt      string    `json:"agent_ext"`
	Action        string    `json:"action"`
	Mode          string    `json:"mode,omitempty"`
	Detail        string    `json:"detail,omitempty"`
}
