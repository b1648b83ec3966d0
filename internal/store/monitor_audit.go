package store

import (
	"context"
	"fmt"
	"time"
)

// MonitorAudit is one use of a supervisor mode on a live call.
type MonitorAudit struct {
	ID            int64
	At            time.Time
	Supervisor    string // API user
	SupervisorExt string // the phone used
	CallID        string
	AgentExt      string
	Action        string // start, mode, stop, refused
	Mode          string // listen, whisper, barge
	Detail        string
}

// AddMonitorAudit records a supervisor's action (At defaults to now).
func (s *Store) AddMonitorAudit(ctx context.Context, a MonitorAudit) error {
	at := a.At
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO monitor_audit(at, supervisor, supervisor_ext, call_id, agent_ext, action, mode, detail)
		VALUES (?,?,?,?,?,?,?,?)`, ms(at), a.Supervisor, a.SupervisorExt, a.CallID, a.AgentExt, a.Action, a.Mode, a.Detail)
	if err != nil {
		return fmt.Errorf("store: add monitor audit: %w", err)
	}
	return nil
}

// MonitorAudits lists the audit log since a time, oldest first (at most
// limit rows, the most recent ones; 0 means 1000). callID filters when
// not empty.
func (s *Store) MonitorAudits(ctx context.Context, since time.Time, callID string, limit int) ([]MonitorAudit, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	// Two statements rather than (? = '' OR call_id = ?), which keeps
	// SQLite from using the call_id index.
	where, args := "at >= ?", []any{ms(since)}
	if callID != "" {
		where, args = "call_id = ? AND at >= ?", []any{callID, ms(since)}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, supervisor, supervisor_ext, call_id, agent_ext, action, mode, detail FROM (
		SELECT * FROM monitor_audit WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ?
	) ORDER BY at, id`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: monitor audit: %w", err)
	}
	defer rows.Close()
	var out []MonitorAudit
	for rows.Next() {
		var a MonitorAudit
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Supervisor, &a.SupervisorExt, &a.CallID, &a.AgentExt, &a.Action, &a.Mode, &a.Detail); err != nil {
			return nil, fmt.Errorf("store: monitor audit: %w", err)
		}
		a.At = fromMS(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: monitor audit: %w", err)
	}
	return out, nil
}
