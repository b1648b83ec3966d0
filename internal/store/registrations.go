package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Registration is a persisted registrar binding.
type Registration struct {
	AOR, Key, Contact, Instance, Q string
	RegID                          int
	CallID                         string
	CSeq                           uint32
	Expires                        time.Time
	Source, Transport, Local       string
	UserAgent                      string
	Updated                        time.Time
}

// Registrations loads every stored binding.
func (s *Store) Registrations(ctx context.Context) ([]Registration, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT aor, binding_key, contact, instance, reg_id, q, call_id, cseq,
		expires_at, source, transport, local_addr, user_agent, updated_at FROM registrations ORDER BY aor, contact`)
	if err != nil {
		return nil, fmt.Errorf("store: load registrations: %w", err)
	}
	defer rows.Close()
	var out []Registration
	for rows.Next() {
		var r Registration
		var exp, upd int64
		if err := rows.Scan(&r.AOR, &r.Key, &r.Contact, &r.Instance, &r.RegID, &r.Q, &r.CallID, &r.CSeq,
			&exp, &r.Source, &r.Transport, &r.Local, &r.UserAgent, &upd); err != nil {
			return nil, fmt.Errorf("store: load registrations: %w", err)
		}
		r.Expires, r.Updated = fromMS(exp), fromMS(upd)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RegistrationOp is one queued change to the registrations table.
type RegistrationOp struct {
	Delete bool
	Reg    Registration // for a delete only AOR and Key matter
}

// RegistrationWriter batches binding changes into few transactions on its
// own goroutine, so the request path never waits for a disk commit. Changes
// are applied in the order they were queued. Close flushes everything queued.
type RegistrationWriter struct {
	s       *Store
	ch      chan RegistrationOp
	done    chan struct{}
	once    sync.Once
	maxWait time.Duration
}

const writerBatch = 512

// NewRegistrationWriter starts a writer; maxWait bounds how long a change
// may sit in memory before it is committed.
func (s *Store) NewRegistrationWriter(maxWait time.Duration) *RegistrationWriter {
	w := &RegistrationWriter{s: s, ch: make(chan RegistrationOp, 1<<16), done: make(chan struct{}), maxWait: maxWait}
	go w.run()
	return w
}

// Queue adds a change. It blocks only when 65,536 changes are already waiting.
func (w *RegistrationWriter) Queue(op RegistrationOp) { w.ch <- op }

// Close commits what is queued and stops the writer. It is idempotent; no
// Queue may follow it.
func (w *RegistrationWriter) Close() {
	w.once.Do(func() { close(w.ch) })
	<-w.done
}

func (w *RegistrationWriter) run() {
	defer close(w.done)
	batch := make([]RegistrationOp, 0, writerBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := w.s.applyRegistrations(context.Background(), batch); err != nil {
			w.s.log.Error("registration_write_failed", "changes", len(batch), "error", err)
		}
		batch = batch[:0]
	}
	for {
		op, ok := <-w.ch
		if !ok {
			flush()
			return
		}
		batch = append(batch, op)
		timer.Reset(w.maxWait)
	fill:
		for len(batch) < writerBatch {
			select {
			case op, ok := <-w.ch:
				if !ok {
					flush()
					return
				}
				batch = append(batch, op)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		flush()
	}
}

func (s *Store) applyRegistrations(ctx context.Context, ops []RegistrationOp) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	put, err := tx.PrepareContext(ctx, `INSERT INTO registrations(aor, binding_key, contact, instance, reg_id, q, call_id,
		cseq, expires_at, source, transport, local_addr, user_agent, updated_at)
		SELECT ?,?,?,?,?,?,?,?,?,?,?,?,?,? WHERE EXISTS (SELECT 1 FROM extensions WHERE number=?)
		ON CONFLICT(aor, binding_key) DO UPDATE SET contact=excluded.contact, instance=excluded.instance,
		reg_id=excluded.reg_id, q=excluded.q, call_id=excluded.call_id, cseq=excluded.cseq,
		expires_at=excluded.expires_at, source=excluded.source, transport=excluded.transport,
		local_addr=excluded.local_addr, user_agent=excluded.user_agent, updated_at=excluded.updated_at`)
	if err != nil {
		return fmt.Errorf("store: prepare: %w", err)
	}
	defer put.Close()
	del, err := tx.PrepareContext(ctx, `DELETE FROM registrations WHERE aor=? AND binding_key=?`)
	if err != nil {
		return fmt.Errorf("store: prepare: %w", err)
	}
	defer del.Close()
	for _, op := range ops {
		r := op.Reg
		if op.Delete {
			_, err = del.ExecContext(ctx, r.AOR, r.Key)
		} else {
			_, err = put.ExecContext(ctx, r.AOR, r.Key, r.Contact, r.Instance, r.RegID, r.Q, r.CallID, r.CSeq,
				ms(r.Expires), r.Source, r.Transport, r.Local, r.UserAgent, ms(r.Updated), r.AOR)
		}
		if err != nil {
			return fmt.Errorf("store: write registration %s %s: %w", r.AOR, r.Contact, err)
		}
	}
	return tx.Commit()
}
