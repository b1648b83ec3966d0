package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Extension is a phone account. Its digests are HA1 values for Realm.
type Extension struct {
	Number    string    `json:"number"`
	Name      string    `json:"name"`
	Realm     string    `json:"realm"`
	HA1MD5    string    `json:"-"`
	HA1SHA256 string    `json:"-"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

var numberRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,31}$`)

// ErrInvalidNumber is returned for an extension number that is not a usable SIP user part.
var ErrInvalidNumber = errors.New("invalid extension number")

// ValidNumber checks that an extension number is usable as a SIP user part.
func ValidNumber(n string) error {
	if !numberRE.MatchString(n) {
		return fmt.Errorf("%w: %q must be 1–32 letters, digits or . _ + - (starting with a letter or digit)", ErrInvalidNumber, n)
	}
	return nil
}

// AddExtension inserts e; ErrExists if the number is taken.
func (s *Store) AddExtension(ctx context.Context, e Extension) error {
	if err := ValidNumber(e.Number); err != nil {
		return err
	}
	now := ms(s.now())
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO extensions(number, name, realm, ha1_md5, ha1_sha256, created_at, updated_at) VALUES (?,?,?,?,?,?,?)`,
		e.Number, e.Name, e.Realm, e.HA1MD5, e.HA1SHA256, now, now)
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint {
		return fmt.Errorf("extension %s: %w", e.Number, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: add extension %s: %w", e.Number, err)
	}
	return nil
}

// SetDigests replaces an extension's realm and digests (a password change).
func (s *Store) SetDigests(ctx context.Context, number, realm, ha1md5, ha1sha256 string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE extensions SET realm=?, ha1_md5=?, ha1_sha256=?, updated_at=? WHERE number=?`,
		realm, ha1md5, ha1sha256, ms(s.now()), number)
	return affectedOne(res, err, "extension "+number)
}

// SetExtensionName renames an extension.
func (s *Store) SetExtensionName(ctx context.Context, number, name string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE extensions SET name=?, updated_at=? WHERE number=?`, name, ms(s.now()), number)
	return affectedOne(res, err, "extension "+number)
}

// RemoveExtension deletes an extension and its bindings.
func (s *Store) RemoveExtension(ctx context.Context, number string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM extensions WHERE number=?`, number)
	return affectedOne(res, err, "extension "+number)
}

func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

const extensionCols = `number, name, realm, ha1_md5, ha1_sha256, created_at, updated_at`

func scanExtension(sc interface{ Scan(...any) error }) (Extension, error) {
	var e Extension
	var c, u int64
	err := sc.Scan(&e.Number, &e.Name, &e.Realm, &e.HA1MD5, &e.HA1SHA256, &c, &u)
	e.Created, e.Updated = fromMS(c), fromMS(u)
	return e, err
}

// Extension returns one extension; ErrNotFound if there is none.
func (s *Store) Extension(ctx context.Context, number string) (Extension, error) {
	e, err := scanExtension(s.r.QueryRowContext(ctx, `SELECT `+extensionCols+` FROM extensions WHERE number=?`, number))
	if errors.Is(err, sql.ErrNoRows) {
		return Extension{}, fmt.Errorf("extension %s: %w", number, ErrNotFound)
	}
	if err != nil {
		return Extension{}, fmt.Errorf("store: extension %s: %w", number, err)
	}
	return e, nil
}

// Extensions lists every extension ordered by number.
func (s *Store) Extensions(ctx context.Context) ([]Extension, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+extensionCols+` FROM extensions ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("store: list extensions: %w", err)
	}
	defer rows.Close()
	var out []Extension
	for rows.Next() {
		e, err := scanExtension(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list extensions: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ExtensionRealms counts extensions per realm their digests were computed for.
func (s *Store) ExtensionRealms(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT realm, count(*) FROM extensions GROUP BY realm`)
	if err != nil {
		return nil, fmt.Errorf("store: realms: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return nil, err
		}
		out[r] = n
	}
	return out, rows.Err()
}

// ExtensionsFingerprint changes whenever an extension is added, removed or
// changed; it is cheap enough to poll.
func (s *Store) ExtensionsFingerprint(ctx context.Context) (string, error) {
	var n, maxU, sumU int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(max(updated_at),0), coalesce(sum(updated_at % 1000003),0) FROM extensions`).Scan(&n, &maxU, &sumU)
	if err != nil {
		return "", fmt.Errorf("store: extensions fingerprint: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d", n, maxU, sumU), nil
}
