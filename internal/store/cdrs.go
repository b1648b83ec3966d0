package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// CDR is a call detail record: one contact from start to end. Enumerations
// (Medium, Direction, Cause, HangupSide) hold the snake_case names of
// package call; the store does not interpret them.
type CDR struct {
	ID         string // the call's ID (UUIDv7)
	Medium     string
	Direction  string
	Caller     string
	CallerName string
	Callee     string
	CalleeName string
	Start      time.Time
	Answer     time.Time // zero: never answered
	End        time.Time // zero: still in progress (or lost in a crash, until recovery)
	Duration   time.Duration
	Billable   time.Duration // answered time
	Cause      string
	HangupSide string
	CodecA     string        // the caller's leg
	CodecB     string        // the callee's leg
	QualityA   *MediaQuality // received from the caller's leg; nil: not measured
	QualityB   *MediaQuality
	Trunk      string // carrier trunk the call came in on or finally went out through; "" between extensions
	DID        string // the number dialled as matched (E.164 where normalisable)
	Route      string // how the call was routed, for people: "did +862155550100 -> extension 1001"
	Created    time.Time
	Updated    time.Time
}

// Open reports whether the record has no end yet.
func (c CDR) Open() bool { return c.End.IsZero() }

// MediaQuality is what the switch measured receiving one leg's RTP
// (RFC 3550 §6.4.1).
type MediaQuality struct {
	PacketsLost int64   // cumulative number of packets lost
	JitterMS    float64 // interarrival jitter, milliseconds
}

// CDRChangeKind says which part of a call's life a CDRChange records.
type CDRChangeKind uint8

// Kinds of CDR changes.
const (
	// CDRCreate inserts the row at call start (ID, Medium, Direction,
	// parties, Start, Trunk, DID, Route). A second create of the same ID
	// changes nothing.
	CDRCreate CDRChangeKind = iota + 1
	// CDRAnswer records Answer, once, on a row that has not ended, with
	// Trunk, DID and Route where they are not empty.
	CDRAnswer
	// CDRComplete records End, Cause, HangupSide, codecs and quality, once,
	// and computes Duration and Billable from the stored start and answer
	// times. Codecs, quality, Trunk, DID and Route left empty keep what the
	// row has (the trunk that finally carried an outbound call is known
	// only late).
	CDRComplete
)

// CDRChange is one write the CDR recorder queues. Answer and Complete on a
// row that does not exist (a recorder started mid-call) insert it, taking
// the start from CDR.Start or else the event's own time, so no call is
// lost. Every change is idempotent: replaying one changes nothing.
type CDRChange struct {
	Kind CDRChangeKind
	CDR  CDR
}

// The routing columns an answer or completion overwrites only with a value.
const cdrRoutingUpdate = `
			trunk = CASE WHEN excluded.trunk = '' THEN cdrs.trunk ELSE excluded.trunk END,
			did = CASE WHEN excluded.did = '' THEN cdrs.did ELSE excluded.did END,
			route = CASE WHEN excluded.route = '' THEN cdrs.route ELSE excluded.route END,`

const (
	cdrCreateSQL = `INSERT INTO cdrs(id, medium, direction, caller, caller_name, callee, callee_name, trunk, did, route,
		start_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`
	cdrAnswerSQL = `INSERT INTO cdrs(id, medium, direction, caller, caller_name, callee, callee_name, trunk, did, route,
		start_at, answer_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET answer_at=excluded.answer_at,` + cdrRoutingUpdate + `
			updated_at=excluded.updated_at
		WHERE cdrs.answer_at IS NULL AND cdrs.end_at IS NULL`
	cdrCompleteSQL = `INSERT INTO cdrs(id, medium, direction, caller, caller_name, callee, callee_name, trunk, did, route,
		start_at, answer_at, end_at, duration_ms, billable_ms, cause, hangup_side, codec_a, codec_b,
		a_packets_lost, a_jitter_ms, b_packets_lost, b_jitter_ms, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET` + cdrRoutingUpdate + `
			answer_at = coalesce(cdrs.answer_at, excluded.answer_at),
			end_at = excluded.end_at,
			duration_ms = max(0, excluded.end_at - cdrs.start_at),
			billable_ms = CASE WHEN coalesce(cdrs.answer_at, excluded.answer_at) IS NULL THEN 0
				ELSE max(0, excluded.end_at - coalesce(cdrs.answer_at, excluded.answer_at)) END,
			cause = excluded.cause, hangup_side = excluded.hangup_side,
			codec_a = CASE WHEN excluded.codec_a = '' THEN cdrs.codec_a ELSE excluded.codec_a END,
			codec_b = CASE WHEN excluded.codec_b = '' THEN cdrs.codec_b ELSE excluded.codec_b END,
			a_packets_lost = coalesce(excluded.a_packets_lost, cdrs.a_packets_lost),
			a_jitter_ms = coalesce(excluded.a_jitter_ms, cdrs.a_jitter_ms),
			b_packets_lost = coalesce(excluded.b_packets_lost, cdrs.b_packets_lost),
			b_jitter_ms = coalesce(excluded.b_jitter_ms, cdrs.b_jitter_ms),
			updated_at = excluded.updated_at
		WHERE cdrs.end_at IS NULL`
)

// WriteCDRs applies changes in order in one transaction: the CDR
// recorder's batched write.
func (s *Store) WriteCDRs(ctx context.Context, changes []CDRChange) error {
	if len(changes) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: write cdrs: %w", err)
	}
	defer tx.Rollback()
	var stmts [CDRComplete + 1]*sql.Stmt
	for kind, q := range map[CDRChangeKind]string{CDRCreate: cdrCreateSQL, CDRAnswer: cdrAnswerSQL, CDRComplete: cdrCompleteSQL} {
		if stmts[kind], err = tx.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("store: write cdrs: prepare: %w", err)
		}
		defer stmts[kind].Close()
	}
	now := ms(s.now())
	for _, ch := range changes {
		c := ch.CDR
		if c.ID == "" {
			return fmt.Errorf("store: write cdr: empty id")
		}
		id := []any{c.ID, c.Medium, c.Direction, c.Caller, c.CallerName, c.Callee, c.CalleeName, c.Trunk, c.DID, c.Route}
		var args []any
		switch ch.Kind {
		case CDRCreate:
			args = append(id, ms(c.Start), now, now)
		case CDRAnswer:
			start := firstSet(c.Start, c.Answer)
			args = append(id, ms(start), ms(c.Answer), now, now)
		case CDRComplete:
			start := firstSet(c.Start, c.Answer, c.End)
			var billable int64
			if !c.Answer.IsZero() {
				billable = max(0, ms(c.End)-ms(c.Answer))
			}
			args = append(id, ms(start), nullMS(c.Answer), ms(c.End), max(0, ms(c.End)-ms(start)), billable,
				c.Cause, c.HangupSide, c.CodecA, c.CodecB)
			args = append(args, qualityArgs(c.QualityA)...)
			args = append(args, qualityArgs(c.QualityB)...)
			args = append(args, now, now)
		default:
			return fmt.Errorf("store: write cdr %s: unknown change kind %d", c.ID, ch.Kind)
		}
		if _, err := stmts[ch.Kind].ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store: write cdr %s: %w", c.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: write cdrs: commit: %w", err)
	}
	return nil
}

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func qualityArgs(q *MediaQuality) []any {
	if q == nil {
		return []any{nil, nil}
	}
	return []any{q.PacketsLost, q.JitterMS}
}

// CreateCDR inserts the record of a call that has just started.
func (s *Store) CreateCDR(ctx context.Context, c CDR) error {
	return s.WriteCDRs(ctx, []CDRChange{{Kind: CDRCreate, CDR: c}})
}

// AnswerCDR records that call c.ID was answered at c.Answer.
func (s *Store) AnswerCDR(ctx context.Context, c CDR) error {
	return s.WriteCDRs(ctx, []CDRChange{{Kind: CDRAnswer, CDR: c}})
}

// CompleteCDR records the end of call c.ID (End, Cause, HangupSide, codecs,
// quality) and computes its durations.
func (s *Store) CompleteCDR(ctx context.Context, c CDR) error {
	return s.WriteCDRs(ctx, []CDRChange{{Kind: CDRComplete, CDR: c}})
}

// CloseOpenCDRs ends every record still open, as the switch does at
// start-up for calls a crash cut off: end at, the given cause (the call
// package's "switch_restart"), hangup side "switch", durations computed to
// at. It returns how many records it closed.
func (s *Store) CloseOpenCDRs(ctx context.Context, cause string, at time.Time) (int, error) {
	end := ms(at)
	res, err := s.w.ExecContext(ctx, `UPDATE cdrs SET end_at=?1, duration_ms=max(0, ?1 - start_at),
		billable_ms = CASE WHEN answer_at IS NULL THEN 0 ELSE max(0, ?1 - answer_at) END,
		cause=?2, hangup_side='switch', updated_at=?3 WHERE end_at IS NULL`, end, cause, ms(s.now()))
	if err != nil {
		return 0, fmt.Errorf("store: close open cdrs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: close open cdrs: %w", err)
	}
	return int(n), nil
}

// CDRFilter selects records by start time and party. Zero fields do not
// filter; Limit 0 means no limit.
type CDRFilter struct {
	Since  time.Time // start at or after
	Until  time.Time // start before
	Caller string    // exact caller number
	Callee string    // exact callee number
	Limit  int
}

func (f CDRFilter) where() (string, []any) {
	var conds []string
	var args []any
	if !f.Since.IsZero() {
		conds, args = append(conds, "start_at >= ?"), append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, "start_at < ?"), append(args, ms(f.Until))
	}
	if f.Caller != "" {
		conds, args = append(conds, "caller = ?"), append(args, f.Caller)
	}
	if f.Callee != "" {
		conds, args = append(conds, "callee = ?"), append(args, f.Callee)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func (f CDRFilter) query(order string) (string, []any) {
	where, args := f.where()
	q := `SELECT ` + cdrCols + ` FROM cdrs` + where + ` ORDER BY start_at ` + order + `, id ` + order
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return q, args
}

const cdrCols = `id, medium, direction, caller, caller_name, callee, callee_name, start_at, answer_at, end_at,
	duration_ms, billable_ms, cause, hangup_side, codec_a, codec_b,
	a_packets_lost, a_jitter_ms, b_packets_lost, b_jitter_ms, trunk, did, route, created_at, updated_at`

func scanCDR(sc interface{ Scan(...any) error }) (CDR, error) {
	var c CDR
	var start, dur, bill, created, updated int64
	var answer, end, aLost, bLost sql.NullInt64
	var aJit, bJit sql.NullFloat64
	err := sc.Scan(&c.ID, &c.Medium, &c.Direction, &c.Caller, &c.CallerName, &c.Callee, &c.CalleeName,
		&start, &answer, &end, &dur, &bill, &c.Cause, &c.HangupSide, &c.CodecA, &c.CodecB,
		&aLost, &aJit, &bLost, &bJit, &c.Trunk, &c.DID, &c.Route, &created, &updated)
	if err != nil {
		return CDR{}, err
	}
	c.Start, c.Created, c.Updated = fromMS(start), fromMS(created), fromMS(updated)
	if answer.Valid {
		c.Answer = fromMS(answer.Int64)
	}
	if end.Valid {
		c.End = fromMS(end.Int64)
	}
	c.Duration, c.Billable = time.Duration(dur)*time.Millisecond, time.Duration(bill)*time.Millisecond
	c.QualityA, c.QualityB = quality(aLost, aJit), quality(bLost, bJit)
	return c, nil
}

func quality(lost sql.NullInt64, jitter sql.NullFloat64) *MediaQuality {
	if !lost.Valid && !jitter.Valid {
		return nil
	}
	return &MediaQuality{PacketsLost: lost.Int64, JitterMS: jitter.Float64}
}

// CDR returns one record; ErrNotFound if there is none.
func (s *Store) CDR(ctx context.Context, id string) (CDR, error) {
	c, err := scanCDR(s.r.QueryRowContext(ctx, `SELECT `+cdrCols+` FROM cdrs WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return CDR{}, fmt.Errorf("cdr %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return CDR{}, fmt.Errorf("store: cdr %s: %w", id, err)
	}
	return c, nil
}

// ListCDRs returns the records f selects, newest first.
func (s *Store) ListCDRs(ctx context.Context, f CDRFilter) ([]CDR, error) {
	var out []CDR
	for c, err := range s.cdrs(ctx, f, "DESC") {
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ExportCDRs streams the records f selects, oldest first, without holding
// them all in memory (for CSV export). Stopping the loop early releases the
// query.
func (s *Store) ExportCDRs(ctx context.Context, f CDRFilter) iter.Seq2[CDR, error] {
	return s.cdrs(ctx, f, "ASC")
}

func (s *Store) cdrs(ctx context.Context, f CDRFilter, order string) iter.Seq2[CDR, error] {
	return func(yield func(CDR, error) bool) {
		q, args := f.query(order)
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			yield(CDR{}, fmt.Errorf("store: list cdrs: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCDR(rows)
			if err != nil {
				yield(CDR{}, fmt.Errorf("store: list cdrs: %w", err))
				return
			}
			if !yield(c, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(CDR{}, fmt.Errorf("store: list cdrs: %w", err))
		}
	}
}
