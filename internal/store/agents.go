package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Agent is an ACD agent's profile as stored.
type Agent struct {
	ID       string
	Name     string
	Devices  []string       // extension numbers
	Skills   map[string]int // skill → proficiency 1–5
	Capacity map[string]int // medium (voice, chat) → contacts at once; empty: one voice contact
	Queues   []AgentQueue   // memberships
	WrapUp   *time.Duration // nil: the queue's
	Created  time.Time
	Updated  time.Time
}

// AgentQueue is one queue membership.
type AgentQueue struct {
	Queue    string
	Penalty  int
	Priority int
}

// ErrInvalidAgent is returned for a profile the store refuses.
var ErrInvalidAgent = errors.New("store: invalid agent")

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	skillRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

// ValidName checks the name of an agent or API user: a-z, 0-9, '.', '_',
// '-', starting with a letter or digit, at most 64.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%q: use a-z, 0-9, '.', '_', '-' (at most 64, starting with a letter or digit)", name)
	}
	return nil
}

// ValidateAgent checks a profile before it is stored.
func ValidateAgent(a Agent) error {
	if err := ValidName(a.ID); err != nil {
		return fmt.Errorf("%w: id %w", ErrInvalidAgent, err)
	}
	for _, d := range a.Devices {
		if err := ValidNumber(d); err != nil {
			return fmt.Errorf("%w: device %q: %v", ErrInvalidAgent, d, err)
		}
	}
	for s, p := range a.Skills {
		if !skillRE.MatchString(s) || p < 1 || p > 5 {
			return fmt.Errorf("%w: skill %s=%d: names lowercase, proficiency 1 to 5", ErrInvalidAgent, s, p)
		}
	}
	for m, n := range a.Capacity {
		if (m != "voice" && m != "chat") || n < 0 || n > 50 {
			return fmt.Errorf("%w: capacity %s=%d: media voice or chat, 0 to 50", ErrInvalidAgent, m, n)
		}
	}
	for _, q := range a.Queues {
		if !skillRE.MatchString(q.Queue) {
			return fmt.Errorf("%w: queue %q", ErrInvalidAgent, q.Queue)
		}
	}
	if a.WrapUp != nil && (*a.WrapUp < 0 || *a.WrapUp > time.Hour) {
		return fmt.Errorf("%w: wrap-up %v: 0 to 1h", ErrInvalidAgent, *a.WrapUp)
	}
	return nil
}

// PutAgent creates or replaces an agent's profile, all of it at once.
func (s *Store) PutAgent(ctx context.Context, a Agent) error {
	if err := ValidateAgent(a); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: put agent: %w", err)
	}
	defer tx.Rollback()
	now := ms(s.now())
	var wrap any
	if a.WrapUp != nil {
		wrap = a.WrapUp.Milliseconds()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO agents(id, name, devices, wrap_up_ms, created_at, updated_at) VALUES (?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, devices=excluded.devices, wrap_up_ms=excluded.wrap_up_ms, updated_at=excluded.updated_at`,
		a.ID, a.Name, strings.Join(a.Devices, ","), wrap, now, now); err != nil {
		return fmt.Errorf("store: put agent %s: %w", a.ID, err)
	}
	for _, table := range []string{"agent_skills", "agent_capacity", "agent_queues"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE agent=?`, a.ID); err != nil {
			return fmt.Errorf("store: put agent %s: %w", a.ID, err)
		}
	}
	for sk, p := range a.Skills {
		if _, err := tx.ExecContext(ctx, `INSERT INTO agent_skills(agent, skill, proficiency) VALUES (?,?,?)`, a.ID, sk, p); err != nil {
			return fmt.Errorf("store: put agent %s: %w", a.ID, err)
		}
	}
	for m, n := range a.Capacity {
		if _, err := tx.ExecContext(ctx, `INSERT INTO agent_capacity(agent, medium, contacts) VALUES (?,?,?)`, a.ID, m, n); err != nil {
			return fmt.Errorf("store: put agent %s: %w", a.ID, err)
		}
	}
	for _, q := range a.Queues {
		if _, err := tx.ExecContext(ctx, `INSERT INTO agent_queues(agent, queue, penalty, priority) VALUES (?,?,?,?)`, a.ID, q.Queue, q.Penalty, q.Priority); err != nil {
			return fmt.Errorf("store: put agent %s queue %s: %w", a.ID, q.Queue, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: put agent %s: %w", a.ID, err)
	}
	return nil
}

// RemoveAgent deletes an agent; ErrNotFound if there is none.
func (s *Store) RemoveAgent(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM agents WHERE id=?`, id)
	return affectedOne(res, err, "agent "+id)
}

// Agent returns one agent; ErrNotFound if there is none.
func (s *Store) Agent(ctx context.Context, id string) (Agent, error) {
	list, err := s.agents(ctx, id)
	if err != nil {
		return Agent{}, err
	}
	if len(list) == 0 {
		return Agent{}, fmt.Errorf("%w: agent %s", ErrNotFound, id)
	}
	return list[0], nil
}

// Agents lists every agent by ID.
func (s *Store) Agents(ctx context.Context) ([]Agent, error) { return s.agents(ctx, "") }

func (s *Store) agents(ctx context.Context, only string) ([]Agent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, devices, wrap_up_ms, created_at, updated_at FROM agents
		WHERE ? = '' OR id = ? ORDER BY id`, only, only)
	if err != nil {
		return nil, fmt.Errorf("store: agents: %w", err)
	}
	var list []Agent
	byID := map[string]*Agent{}
	for rows.Next() {
		var a Agent
		var devices string
		var wrap sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&a.ID, &a.Name, &devices, &wrap, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: agents: %w", err)
		}
		if devices != "" {
			a.Devices = strings.Split(devices, ",")
		}
		if wrap.Valid {
			d := time.Duration(wrap.Int64) * time.Millisecond
			a.WrapUp = &d
		}
		a.Created, a.Updated = time.UnixMilli(created), time.UnixMilli(updated)
		a.Skills, a.Capacity = map[string]int{}, map[string]int{}
		list = append(list, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: agents: %w", err)
	}
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	if err := s.agentRows(ctx, only, `SELECT agent, skill, proficiency, 0 FROM agent_skills WHERE ? = '' OR agent = ?`, func(a *Agent, k string, n, _ int) {
		a.Skills[k] = n
	}, byID); err != nil {
		return nil, err
	}
	if err := s.agentRows(ctx, only, `SELECT agent, medium, contacts, 0 FROM agent_capacity WHERE ? = '' OR agent = ?`, func(a *Agent, k string, n, _ int) {
		a.Capacity[k] = n
	}, byID); err != nil {
		return nil, err
	}
	if err := s.agentRows(ctx, only, `SELECT agent, queue, penalty, priority FROM agent_queues WHERE ? = '' OR agent = ?`, func(a *Agent, k string, n, m int) {
		a.Queues = append(a.Queues, AgentQueue{Queue: k, Penalty: n, Priority: m})
	}, byID); err != nil {
		return nil, err
	}
	for i := range list {
		sort.Slice(list[i].Queues, func(x, y int) bool { return list[i].Queues[x].Queue < list[i].Queues[y].Queue })
	}
	return list, nil
}

// agentRows reads (agent, key, n[, m]) rows into the agents by ID.
func (s *Store) agentRows(ctx context.Context, only, q string, set func(a *Agent, k string, n, m int), byID map[string]*Agent) error {
	rows, err := s.r.QueryContext(ctx, q, only, only)
	if err != nil {
		return fmt.Errorf("store: agents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, k string
		var n, m int
		if err := rows.Scan(&id, &k, &n, &m); err != nil {
			return fmt.Errorf("store: agents: %w", err)
		}
		if a := byID[id]; a != nil {
			set(a, k, n, m)
		}
	}
	return rows.Err()
}
