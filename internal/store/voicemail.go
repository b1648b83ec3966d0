package store

import (
	"context"
	"fmt"
	"time"
)

// Voicemail is a message a caller left.
type Voicemail struct {
	ID       int64
	CallID   string // the call's ID: its CDR
	Caller   string
	Box      string // mailbox name or extension number
	Path     string // WAV file
	Duration time.Duration
	At       time.Time
}

// AddVoicemail stores a message.
func (s *Store) AddVoicemail(ctx context.Context, v Voicemail) error {
	at := v.At
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO voicemails(call_id, caller, box, path, duration_ms, created_at) VALUES (?,?,?,?,?,?)`,
		v.CallID, v.Caller, v.Box, v.Path, v.Duration.Milliseconds(), ms(at))
	if err != nil {
		return fmt.Errorf("store: add voicemail: %w", err)
	}
	return nil
}

// Voicemails lists the messages of box ("" = every box), newest first.
func (s *Store) Voicemails(ctx context.Context, box string) ([]Voicemail, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, call_id, caller, box, path, duration_ms, created_at FROM voicemails
		WHERE ? = '' OR box = ? ORDER BY created_at DESC, id DESC`, box, box)
	if err != nil {
		return nil, fmt.Errorf("store: voicemails: %w", err)
	}
	defer rows.Close()
	var out []Voicemail
	for rows.Next() {
		var v Voicemail
		var dur, at int64
		if err := rows.Scan(&v.ID, &v.CallID, &v.Caller, &v.Box, &v.Path, &dur, &at); err != nil {
			return nil, fmt.Errorf("store: voicemails: %w", err)
		}
		v.Duration, v.At = time.Duration(dur)*time.Millisecond, time.UnixMilli(at)
		out = append(out, v)
	}
	return out, rows.Err()
}
