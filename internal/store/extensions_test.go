package store

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestValidClassAndCallerID(t *testing.T) {
	for _, c := range Classes() {
		if err := ValidClass(c); err != nil {
			t.Errorf("ValidClass(%q) = %v", c, err)
		}
	}
	for _, c := range []string{"", "National", "premium", " national"} {
		err := ValidClass(c)
		if !errors.Is(err, ErrInvalidClass) || !strings.Contains(err.Error(), "internal, national, international") {
			t.Errorf("ValidClass(%q) = %v, want ErrInvalidClass listing the classes", c, err)
		}
	}
	for _, id := range []string{"", "+862155550100", "+123456", "+123456789012345"} {
		if err := ValidCallerID(id); err != nil {
			t.Errorf("ValidCallerID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"862155550100", "+12345", "+1234567890123456", "+86 21 5555 0100", "+86-21", "+", "++123456", "+12345a7"} {
		err := ValidCallerID(id)
		if !errors.Is(err, ErrInvalidCallerID) || !strings.Contains(err.Error(), "E.164") {
			t.Errorf("ValidCallerID(%q) = %v, want ErrInvalidCallerID explaining E.164", id, err)
		}
	}
}

func TestExtensionRouting(t *testing.T) {
	// A clock that stands still: every change must still show in the
	// fingerprint, however fast changes follow each other.
	st, err := Open(t.Context(), filepath.Join(t.TempDir(), "switchd.db"), Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	if err := st.AddExtension(ctx, Extension{Number: "1001", Realm: "r"}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Extension(ctx, "1001")
	if got.Class != ClassNational || got.CallerID != "" || got.Privacy {
		t.Fatalf("defaults: %+v", got)
	}
	err = st.AddExtension(ctx, Extension{Number: "1002", Realm: "r", Class: ClassInternational, CallerID: "+862155550102", Privacy: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = st.Extension(ctx, "1002")
	if got.Class != ClassInternational || got.CallerID != "+862155550102" || !got.Privacy {
		t.Fatalf("added with routing: %+v", got)
	}
	err = st.AddExtension(ctx, Extension{Number: "1003", Realm: "r", Class: "premium", CallerID: "0215555"})
	if !errors.Is(err, ErrInvalidClass) || !errors.Is(err, ErrInvalidCallerID) {
		t.Fatalf("bad class and caller ID on add: %v (want both reported)", err)
	}
	if _, err := st.Extension(ctx, "1003"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("invalid extension stored: %v", err)
	}

	fp := func() string {
		t.Helper()
		s, err := st.ExtensionsFingerprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	steps := []struct {
		class, callerID *string
		privacy         *bool
		want            Extension
	}{
		{class: ptr(ClassInternal), want: Extension{Class: ClassInternal}},
		{callerID: ptr("+862155550101"), want: Extension{Class: ClassInternal, CallerID: "+862155550101"}},
		{privacy: ptr(true), want: Extension{Class: ClassInternal, CallerID: "+862155550101", Privacy: true}},
		{class: ptr(ClassInternational), callerID: ptr(""), privacy: ptr(false), want: Extension{Class: ClassInternational}},
	}
	seen := map[string]bool{fp(): true}
	for i, s := range steps {
		if err := st.SetExtensionRouting(ctx, "1001", s.class, s.callerID, s.privacy); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got, _ := st.Extension(ctx, "1001")
		if got.Class != s.want.Class || got.CallerID != s.want.CallerID || got.Privacy != s.want.Privacy {
			t.Fatalf("step %d: %+v, want %+v", i, got, s.want)
		}
		if f := fp(); seen[f] {
			t.Fatalf("step %d: fingerprint %s did not change", i, f)
		} else {
			seen[f] = true
		}
	}
	other, _ := st.Extension(ctx, "1002")
	if other.Class != ClassInternational || other.CallerID != "+862155550102" || !other.Privacy {
		t.Fatalf("another extension changed: %+v", other)
	}

	before := fp()
	if err := st.SetExtensionRouting(ctx, "1001", ptr("premium"), ptr("+1"), nil); !errors.Is(err, ErrInvalidClass) || !errors.Is(err, ErrInvalidCallerID) {
		t.Fatalf("invalid values: %v", err)
	}
	if err := st.SetExtensionRouting(ctx, "1001", nil, nil, nil); err != nil {
		t.Fatalf("nothing to change on an existing extension: %v", err)
	}
	if fp() != before {
		t.Fatal("a refused or empty change altered the fingerprint")
	}
	if err := st.SetExtensionRouting(ctx, "9999", ptr(ClassInternal), nil, nil); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("unknown extension: %v", err)
	}
	if err := st.SetExtensionRouting(ctx, "9999", nil, nil, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown extension, nothing to change: %v", err)
	}
	// The other changes move the fingerprint under the same still clock.
	if err := st.SetExtensionName(ctx, "1001", "Desk"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDigests(ctx, "1001", "r", "m", "s"); err != nil {
		t.Fatal(err)
	}
	if f := fp(); seen[f] {
		t.Fatal("rename and password change did not change the fingerprint")
	}
	list, _ := st.Extensions(ctx)
	if len(list) != 2 || list[0].Class != ClassInternational || list[1].CallerID != "+862155550102" {
		t.Fatalf("list %+v", list)
	}
	// The schema refuses what the store would never write.
	if _, err := st.w.Exec(`UPDATE extensions SET class='premium' WHERE number='1001'`); err == nil {
		t.Fatal("schema accepted an unknown class")
	}
	if _, err := st.w.Exec(`UPDATE extensions SET privacy=2 WHERE number='1001'`); err == nil {
		t.Fatal("schema accepted privacy 2")
	}
}

// TestMigrateV2DatabaseAddsRouting upgrades a database of a switchd that
// knew migrations up to 0002: rows survive with the new columns' defaults;
// a read-only open before that refuses with ErrNeedMigrate.
func TestMigrateV2DatabaseAddsRouting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchd.db")
	ms, err := migrations()
	if err != nil || len(ms) < 3 || ms[2].version != 3 {
		t.Fatalf("migrations %v %v", ms, err)
	}
	db, _ := sql.Open("sqlite3", "file:"+path)
	if _, err := db.Exec(ms[0].sql + ";" + ms[1].sql + "; PRAGMA user_version = 2;" +
		`INSERT INTO extensions(number, name, realm, ha1_md5, ha1_sha256, created_at, updated_at) VALUES ('1001','Desk','r','m','s',0,0);
		INSERT INTO cdrs(id, direction, caller, callee, start_at, end_at, cause, created_at, updated_at)
			VALUES ('c1','internal','1001','1002',1000,5000,'normal_clearing',0,0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = Open(t.Context(), path, Options{ReadOnly: true})
	if !errors.Is(err, ErrNeedMigrate) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("read-only open of v2: %v, want ErrNeedMigrate naming version 2", err)
	}
	st, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var v int
	st.w.QueryRow("PRAGMA user_version").Scan(&v)
	e, err := st.Extension(t.Context(), "1001")
	if err != nil || e.Name != "Desk" || e.HA1MD5 != "m" || e.Class != ClassNational || e.CallerID != "" || e.Privacy {
		t.Fatalf("extension after migration: %+v %v", e, err)
	}
	c, err := st.CDR(t.Context(), "c1")
	if err != nil || c.Caller != "1001" || c.Cause != "normal_clearing" || c.Trunk != "" || c.DID != "" || c.Route != "" {
		t.Fatalf("cdr after migration: %+v %v", c, err)
	}
	st.Close()
	if v < 3 || v != SchemaVersion() {
		t.Fatalf("user_version %d, SchemaVersion %d; want the latest (≥ 3)", v, SchemaVersion())
	}
	// Now current: a read-only open works.
	ro, err := Open(t.Context(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open after migration: %v", err)
	}
	ro.Close()
}
