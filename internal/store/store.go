// Package store is the only package that speaks SQL. It keeps switchd's
// durable state in SQLite (WAL mode, foreign keys on) with versioned
// migrations embedded in the binary and applied at start-up.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // SQLite driver (cgo)
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Errors returned by the store.
var (
	ErrNotFound    = errors.New("store: not found")
	ErrExists      = errors.New("store: already exists")
	ErrTooNew      = errors.New("store: database was written by a newer switchd")
	ErrNeedMigrate = errors.New("store: database needs migrating")
)

// Store is an open switchd database.
type Store struct {
	path string
	w    *sql.DB // the single writer connection
	r    *sql.DB // readers (WAL lets them run beside the writer)
	log  *slog.Logger
	now  func() time.Time
}

// Options tune Open.
type Options struct {
	ReadOnly bool             // open without writing or migrating (switchd validate)
	Logger   *slog.Logger     // default: discard
	Now      func() time.Time // default: time.Now
}

func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Set("_busy_timeout", "5000")
	v.Set("_foreign_keys", "on")
	v.Set("_txlock", "immediate")
	if readOnly {
		v.Set("mode", "ro")
	} else {
		v.Set("_journal_mode", "WAL")
		v.Set("_synchronous", "NORMAL")
	}
	return "file:" + path + "?" + v.Encode()
}

// Open opens (creating if needed) the database at path and applies
// pending migrations. A database from a newer switchd is refused.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create directory: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{path: path, log: o.Logger, now: o.Now}
	var err error
	if s.w, err = sql.Open("sqlite3", dsn(path, o.ReadOnly)); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	if s.r, err = sql.Open("sqlite3", dsn(path, o.ReadOnly)); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(4)
	if err := s.migrate(ctx, o.ReadOnly); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s is not named NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFS, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int {
	ms, _ := migrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

func (s *Store) migrate(ctx context.Context, readOnly bool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var current int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("store: read schema version of %s: %w", s.path, err)
	}
	latest := SchemaVersion()
	if current > latest {
		return fmt.Errorf("%w: %s has schema version %d, this switchd knows up to %d; upgrade switchd or use another data_dir",
			ErrTooNew, s.path, current, latest)
	}
	if readOnly {
		if current < latest {
			return fmt.Errorf("%w: %s is at schema version %d, switchd serve will migrate it to %d", ErrNeedMigrate, s.path, current, latest)
		}
		return nil
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		s.log.Info("store_migrated", "file", s.path, "version", m.version, "migration", m.name)
	}
	return nil
}

// DataVersionWatcher reports when another connection (another process,
// such as the CLI) has committed to the database (PRAGMA data_version).
type DataVersionWatcher struct {
	conn *sql.Conn
	last int64
}

// WatchDataVersion returns a watcher on its own connection; Close it when done.
func (s *Store) WatchDataVersion(ctx context.Context) (*DataVersionWatcher, error) {
	c, err := s.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: watch: %w", err)
	}
	w := &DataVersionWatcher{conn: c}
	if _, err := w.Changed(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return w, nil
}

// Changed reports whether the database changed since the last call.
func (w *DataVersionWatcher) Changed(ctx context.Context) (bool, error) {
	var v int64
	if err := w.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return false, fmt.Errorf("store: data_version: %w", err)
	}
	changed := v != w.last
	w.last = v
	return changed, nil
}

// Close releases the watcher's connection.
func (w *DataVersionWatcher) Close() error { return w.conn.Close() }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v) }
