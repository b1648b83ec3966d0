package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Extension is a phone account. Its digests are HA1 values for Realm.
// Class, CallerID and Privacy steer its calls to outside numbers.
type Extension struct {
	Number    string    `json:"number"`
	Name      string    `json:"name"`
	Realm     string    `json:"realm"`
	HA1MD5    string    `json:"-"`
	HA1SHA256 string    `json:"-"`
	Class     string    `json:"class"`     // outbound permission class (ClassNational when added empty)
	CallerID  string    `json:"caller_id"` // own outside number, E.164; "" for none
	Privacy   bool      `json:"privacy"`   // withhold caller ID on outside calls (RFC 3325 Privacy: id)
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Outbound permission classes of an extension: which outside numbers the
// dial rules let it call.
const (
	ClassInternal      = "internal"      // extensions only
	ClassNational      = "national"      // extensions and national numbers (the default)
	ClassInternational = "international" // anything the trunks reach
)

// Classes lists the permission classes, narrowest first.
func Classes() []string { return []string{ClassInternal, ClassNational, ClassInternational} }

// Errors of the routing attributes.
var (
	ErrInvalidClass    = errors.New("invalid extension class")
	ErrInvalidCallerID = errors.New("invalid caller ID")
)

// ValidClass checks an outbound permission class.
func ValidClass(class string) error {
	if !slices.Contains(Classes(), class) {
		return fmt.Errorf("%w: %q must be one of %s", ErrInvalidClass, class, strings.Join(Classes(), ", "))
	}
	return nil
}

var callerIDRE = regexp.MustCompile(`^\+[0-9]{6,15}$`)

// ValidCallerID checks an extension's outside number: empty (none), or
// E.164 written as '+' and 6–15 digits without spaces.
func ValidCallerID(id string) error {
	if id != "" && !callerIDRE.MatchString(id) {
		return fmt.Errorf("%w: %q must be empty or E.164: '+' followed by 6 to 15 digits, no spaces (e.g. +862155550100)", ErrInvalidCallerID, id)
	}
	return nil
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

// AddExtension inserts e; ErrExists if the number is taken. An empty
// Class is stored as ClassNational.
func (s *Store) AddExtension(ctx context.Context, e Extension) error {
	if err := ValidNumber(e.Number); err != nil {
		return err
	}
	if e.Class == "" {
		e.Class = ClassNational
	}
	if err := errors.Join(ValidClass(e.Class), ValidCallerID(e.CallerID)); err != nil {
		return err
	}
	now := ms(s.now())
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO extensions(number, name, realm, ha1_md5, ha1_sha256, class, caller_id, privacy, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?)`,
		e.Number, e.Name, e.Realm, e.HA1MD5, e.HA1SHA256, e.Class, e.CallerID, e.Privacy, now, now)
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
		return fmt.Errorf("extension %s: %w", e.Number, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: add extension %s: %w", e.Number, err)
	}
	return nil
}

// touched is the SET clause that moves updated_at forward on every change,
// even two within one millisecond, so ExtensionsFingerprint always sees it.
const touched = `updated_at = max(?, updated_at + 1)`

// SetDigests replaces an extension's realm and digests (a password change).
func (s *Store) SetDigests(ctx context.Context, number, realm, ha1md5, ha1sha256 string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE extensions SET realm=?, ha1_md5=?, ha1_sha256=?, `+touched+` WHERE number=?`,
		realm, ha1md5, ha1sha256, ms(s.now()), number)
	return affectedOne(res, err, "extension "+number)
}

// SetExtensionName renames an extension.
func (s *Store) SetExtensionName(ctx context.Context, number, name string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE extensions SET name=?, `+touched+` WHERE number=?`, name, ms(s.now()), number)
	return affectedOne(res, err, "extension "+number)
}

// SetExtensionRouting changes an extension's outbound routing attributes:
// only those given (non-nil) change; an empty caller ID clears it. Values
// are checked with ValidClass and ValidCallerID; ErrNotFound if there is
// no such extension (also when nothing is given).
func (s *Store) SetExtensionRouting(ctx context.Context, number string, class, callerID *string, privacy *bool) error {
	var sets []string
	var args []any
	var errs []error
	if class != nil {
		errs = append(errs, ValidClass(*class))
		sets, args = append(sets, "class=?"), append(args, *class)
	}
	if callerID != nil {
		errs = append(errs, ValidCallerID(*callerID))
		sets, args = append(sets, "caller_id=?"), append(args, *callerID)
	}
	if privacy != nil {
		sets, args = append(sets, "privacy=?"), append(args, *privacy)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(sets) == 0 {
		_, err := s.Extension(ctx, number)
		return err
	}
	args = append(args, ms(s.now()), number)
	res, err := s.w.ExecContext(ctx, `UPDATE extensions SET `+strings.Join(sets, ", ")+`, `+touched+` WHERE number=?`, args...)
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

const extensionCols = `number, name, realm, ha1_md5, ha1_sha256, class, caller_id, privacy, created_at, updated_at`

func scanExtension(sc interface{ Scan(...any) error }) (Extension, error) {
	var e Extension
	var c, u int64
	err := sc.Scan(&e.Number, &e.Name, &e.Realm, &e.HA1MD5, &e.HA1SHA256, &e.Class, &e.CallerID, &e.Privacy, &c, &u)
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
