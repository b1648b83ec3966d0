package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/switchd/switchd/recordings"
)

// The index of call recordings (table recordings). Rows use package
// recordings' types; *Store implements recordings.Index and
// recordings.RecoverIndex.

// The interfaces package recordings declares for its sweeper and start-up
// recovery.
var (
	_ recordings.Index        = (*Store)(nil)
	_ recordings.RecoverIndex = (*Store)(nil)
)

const recordingCols = `id, call_id, queue, caller, callee, agent, path, format, state, started_at, ended_at,
	duration_ms, bytes, paused, dropped_frames, lost_frames, deleted_at`

// AddRecording inserts the row of a recording that has just started
// (state recording) and returns its ID. r.Path must be unique; r.Format
// stereo or mono.
func (s *Store) AddRecording(ctx context.Context, r recordings.Record) (int64, error) {
	if r.CallID == "" || r.Path == "" || r.Start.IsZero() {
		return 0, fmt.Errorf("store: add recording: call ID, path and start are required")
	}
	if r.Format.Channels() == 0 {
		return 0, fmt.Errorf("store: add recording %s: format %s", r.Path, r.Format)
	}
	now := ms(s.now())
	res, err := s.w.ExecContext(ctx, `INSERT INTO recordings(call_id, queue, caller, callee, agent, path, format,
		started_at, state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,'recording',?,?)`,
		r.CallID, r.Queue, r.Caller, r.Callee, r.Agent, r.Path, r.Format.String(), ms(r.Start), now, now)
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		return 0, fmt.Errorf("recording %s: %w", r.Path, ErrExists)
	}
	if err != nil {
		return 0, fmt.Errorf("store: add recording %s: %w", r.Path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: add recording %s: %w", r.Path, err)
	}
	return id, nil
}

// FinishRecording records the end of recording r.ID (see
// recordings.Record.Finish): End, Duration, Bytes, Paused, Dropped and
// Lost, and Agent and Queue where they are not empty (an agent is often
// known only after recording started). The row becomes complete.
// ErrNotFound unless the row exists and is still recording.
func (s *Store) FinishRecording(ctx context.Context, r recordings.Record) error {
	paused, err := pausedJSON(r.Paused)
	if err != nil {
		return fmt.Errorf("store: finish recording %d: %w", r.ID, err)
	}
	end := r.End
	if end.IsZero() {
		end = s.now()
	}
	res, err := s.w.ExecContext(ctx, `UPDATE recordings SET ended_at=?1, duration_ms=?2, bytes=?3, paused=?4,
		dropped_frames=?5, lost_frames=?6,
		agent = CASE WHEN ?7 = '' THEN agent ELSE ?7 END, queue = CASE WHEN ?8 = '' THEN queue ELSE ?8 END,
		state='complete', updated_at=?9 WHERE id=?10 AND state='recording'`,
		ms(end), r.Duration.Milliseconds(), r.Bytes, paused, r.Dropped, r.Lost, r.Agent, r.Queue, ms(s.now()), r.ID)
	return affectedOne(res, err, fmt.Sprintf("finish recording %d", r.ID))
}

// MarkRecordingRepaired closes a recording a crash cut off: state
// repaired, with the duration and size its repaired file has, ending at
// its start plus that duration. ErrNotFound unless the row exists and is
// still recording.
func (s *Store) MarkRecordingRepaired(ctx context.Context, id int64, duration time.Duration, bytes int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE recordings SET state='repaired', duration_ms=?1,
		ended_at = started_at + ?1, bytes=?2, updated_at=?3 WHERE id=?4 AND state='recording'`,
		duration.Milliseconds(), bytes, ms(s.now()), id)
	return affectedOne(res, err, fmt.Sprintf("mark recording %d repaired", id))
}

// MarkRecordingDeleted records that a recording's file was deleted at at.
// Marking a deleted recording again changes nothing; ErrNotFound if there
// is no such row.
func (s *Store) MarkRecordingDeleted(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE recordings SET state='deleted', deleted_at=?, updated_at=?
		WHERE id=? AND state <> 'deleted'`, ms(at), ms(s.now()), id)
	if err != nil {
		return fmt.Errorf("store: mark recording %d deleted: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	if _, err := s.Recording(ctx, id); err != nil {
		return err
	}
	return nil
}

// Recording returns one recording; ErrNotFound if there is none.
func (s *Store) Recording(ctx context.Context, id int64) (recordings.Record, error) {
	r, err := scanRecording(s.r.QueryRowContext(ctx, `SELECT `+recordingCols+` FROM recordings WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("recording %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: recording %d: %w", id, err)
	}
	return r, nil
}

// RecordingFilter selects recordings by start time, party, call and
// state. Zero fields do not filter; Limit 0 means no limit.
type RecordingFilter struct {
	Since  time.Time // started at or after
	Until  time.Time // started before
	Caller string    // exact caller number
	Agent  string    // exact agent
	CallID string    // the contact
	State  recordings.State
	Limit  int
}

// ListRecordings returns the recordings f selects, newest first.
func (s *Store) ListRecordings(ctx context.Context, f RecordingFilter) ([]recordings.Record, error) {
	var conds []string
	var args []any
	add := func(cond string, arg any) { conds, args = append(conds, cond), append(args, arg) }
	if !f.Since.IsZero() {
		add("started_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("started_at < ?", ms(f.Until))
	}
	if f.Caller != "" {
		add("caller = ?", f.Caller)
	}
	if f.Agent != "" {
		add("agent = ?", f.Agent)
	}
	if f.CallID != "" {
		add("call_id = ?", f.CallID)
	}
	if f.State != 0 {
		add("state = ?", f.State.String())
	}
	q := `SELECT ` + recordingCols + ` FROM recordings`
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, " AND ")
	}
	q += ` ORDER BY started_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return s.queryRecordings(ctx, "list recordings", q, args...)
}

// OpenRecordings returns the recordings still in state recording, oldest
// first: at start-up, those a crash cut off.
func (s *Store) OpenRecordings(ctx context.Context) ([]recordings.Record, error) {
	return s.queryRecordings(ctx, "open recordings",
		`SELECT `+recordingCols+` FROM recordings WHERE state='recording' ORDER BY started_at, id`)
}

// ExpiredRecordings returns up to limit recordings not yet deleted that
// ended (or, if they never did, started) before before, oldest first:
// what the retention sweeper deletes. limit ≤ 0 means no limit.
func (s *Store) ExpiredRecordings(ctx context.Context, before time.Time, limit int) ([]recordings.Record, error) {
	q := `SELECT ` + recordingCols + ` FROM recordings
		WHERE state <> 'deleted' AND coalesce(ended_at, started_at) < ?
		ORDER BY coalesce(ended_at, started_at), id`
	args := []any{ms(before)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return s.queryRecordings(ctx, "expired recordings", q, args...)
}

func (s *Store) queryRecordings(ctx context.Context, what, q string, args ...any) ([]recordings.Record, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []recordings.Record
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

func scanRecording(sc interface{ Scan(...any) error }) (recordings.Record, error) {
	var r recordings.Record
	var format, state, paused string
	var start, dur int64
	var end, deleted sql.NullInt64
	err := sc.Scan(&r.ID, &r.CallID, &r.Queue, &r.Caller, &r.Callee, &r.Agent, &r.Path, &format, &state,
		&start, &end, &dur, &r.Bytes, &paused, &r.Dropped, &r.Lost, &deleted)
	if err != nil {
		return r, err
	}
	if r.Format, err = recordings.ParseFormat(format); err != nil {
		return r, err
	}
	if r.State, err = recordings.ParseState(state); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(paused), &r.Paused); err != nil {
		return r, fmt.Errorf("recording %d: paused %q: %w", r.ID, paused, err)
	}
	r.Start, r.Duration = fromMS(start), time.Duration(dur)*time.Millisecond
	if end.Valid {
		r.End = fromMS(end.Int64)
	}
	if deleted.Valid {
		r.Deleted = fromMS(deleted.Int64)
	}
	return r, nil
}

// pausedJSON is the paused column: a JSON list, [] when empty.
func pausedJSON(p []recordings.Interval) (string, error) {
	if len(p) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}
