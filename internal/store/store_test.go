package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.Context(), filepath.Join(t.TempDir(), "sub", "switchd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestOpenMigratesAndSetsPragmas(t *testing.T) {
	st := openTest(t)
	var v int
	var mode string
	var fk int
	st.w.QueryRow("PRAGMA user_version").Scan(&v)
	st.w.QueryRow("PRAGMA journal_mode").Scan(&mode)
	st.w.QueryRow("PRAGMA foreign_keys").Scan(&fk)
	if v != SchemaVersion() || v < 1 || mode != "wal" || fk != 1 {
		t.Fatalf("user_version %d (want %d), journal_mode %s, foreign_keys %d", v, SchemaVersion(), mode, fk)
	}
}

func TestOpenRefusesNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchd.db")
	db, _ := sql.Open("sqlite3", "file:"+path)
	if _, err := db.Exec("PRAGMA user_version = 9999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), path, Options{})
	if !errors.Is(err, ErrTooNew) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("err = %v, want ErrTooNew naming the version", err)
	}
}

func TestReadOnlyReportsPendingMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchd.db")
	db, _ := sql.Open("sqlite3", "file:"+path)
	db.Exec("CREATE TABLE x(a)")
	db.Close()
	if _, err := Open(context.Background(), path, Options{ReadOnly: true}); !errors.Is(err, ErrNeedMigrate) {
		t.Fatalf("err = %v, want ErrNeedMigrate", err)
	}
}

func TestExtensionsCRUD(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	e := Extension{Number: "1001", Name: "Front desk", Realm: "r", HA1MD5: "m", HA1SHA256: "s"}
	if err := st.AddExtension(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := st.AddExtension(ctx, e); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := st.AddExtension(ctx, Extension{Number: "10 01"}); !errors.Is(err, ErrInvalidNumber) {
		t.Fatalf("bad number: %v", err)
	}
	fp1, _ := st.ExtensionsFingerprint(ctx)
	if err := st.SetDigests(ctx, "1001", "r2", "m2", "s2"); err != nil {
		t.Fatal(err)
	}
	got, err := st.Extension(ctx, "1001")
	if err != nil || got.Realm != "r2" || got.HA1MD5 != "m2" || got.Name != "Front desk" {
		t.Fatalf("got %+v %v", got, err)
	}
	if err := st.SetDigests(ctx, "9999", "r", "m", "s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	realms, _ := st.ExtensionRealms(ctx)
	if realms["r2"] != 1 {
		t.Fatalf("realms %v", realms)
	}
	if err := st.RemoveExtension(ctx, "1001"); err != nil {
		t.Fatal(err)
	}
	fp2, _ := st.ExtensionsFingerprint(ctx)
	if fp1 == fp2 {
		t.Fatal("fingerprint did not change")
	}
	if _, err := st.Extension(ctx, "1001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after remove: %v", err)
	}
}

func TestRegistrationWriterOrderAndCascade(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	st.AddExtension(ctx, Extension{Number: "1001", Realm: "r"})
	w := st.NewRegistrationWriter(5 * time.Millisecond)
	exp := time.UnixMilli(time.Now().Add(time.Hour).UnixMilli())
	r := Registration{AOR: "1001", Key: "k", Contact: "sip:1001@a", CallID: "c", CSeq: 1, Expires: exp, Source: "192.0.2.1:5060", Transport: "udp"}
	for i := range 1000 {
		r.CSeq = uint32(i)
		w.Queue(RegistrationOp{Reg: r})
	}
	w.Queue(RegistrationOp{Reg: Registration{AOR: "1001", Key: "k2", Contact: "sip:1001@b", CallID: "c", Expires: exp, Source: "192.0.2.1:5060", Transport: "udp"}})
	w.Queue(RegistrationOp{Delete: true, Reg: Registration{AOR: "1001", Key: "k2"}})
	// A binding for an extension that does not exist (removed meanwhile) is not written.
	w.Queue(RegistrationOp{Reg: Registration{AOR: "ghost", Key: "k", Contact: "sip:g", CallID: "c", Expires: exp, Source: "192.0.2.1:5060", Transport: "udp"}})
	w.Close()
	w.Close() // idempotent
	regs, err := st.Registrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 1 || regs[0].CSeq != 999 || !regs[0].Expires.Equal(exp) || regs[0].Source != "192.0.2.1:5060" {
		t.Fatalf("regs = %+v", regs)
	}
	st.RemoveExtension(ctx, "1001")
	if regs, _ := st.Registrations(ctx); len(regs) != 0 {
		t.Fatalf("bindings survived their extension: %+v", regs)
	}
}

func TestTokens(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	secret, _ := NewTokenSecret()
	if err := st.CreateToken(ctx, "admin", "admin", secret); err != nil {
		t.Fatal(err)
	}
	tok, err := st.TokenBySecret(ctx, secret)
	if err != nil || tok.Name != "admin" {
		t.Fatalf("%+v %v", tok, err)
	}
	if _, err := st.TokenBySecret(ctx, secret+"x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("wrong secret: %v", err)
	}
	var stored string
	st.r.QueryRow("SELECT token_hash FROM api_tokens").Scan(&stored)
	if strings.Contains(stored, secret) || len(stored) != 64 {
		t.Fatal("token stored in clear")
	}
}

func TestWatchDataVersionSeesOtherConnections(t *testing.T) {
	st := openTest(t)
	ctx := t.Context()
	w, err := st.WatchDataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if ch, _ := w.Changed(ctx); ch {
		t.Fatal("changed before any write")
	}
	other, err := Open(ctx, st.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	other.AddExtension(ctx, Extension{Number: "2000", Realm: "r"})
	other.Close()
	if ch, _ := w.Changed(ctx); !ch {
		t.Fatal("write by another process not seen")
	}
}

// TestVoicemails: messages are stored with their call and caller and
// listed per box, newest first.
func TestVoicemails(t *testing.T) {
	st := openTest(t)
	ctx := context.Background()
	t0 := time.UnixMilli(1_700_000_000_000)
	for i, v := range []Voicemail{
		{CallID: "c1", Caller: "+8613800000001", Box: "1001", Path: "/v/1.wav", Duration: 3 * time.Second, At: t0},
		{CallID: "c2", Caller: "+8613800000002", Box: "sales", Path: "/v/2.wav", Duration: 5 * time.Second, At: t0.Add(time.Minute)},
		{CallID: "c3", Caller: "+8613800000003", Box: "1001", Path: "/v/3.wav", Duration: 7 * time.Second, At: t0.Add(2 * time.Minute)},
	} {
		if err := st.AddVoicemail(ctx, v); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	got, err := st.Voicemails(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].CallID != "c3" || got[1].CallID != "c1" || got[0].Duration != 7*time.Second || !got[1].At.Equal(t0) || got[0].Caller != "+8613800000003" {
		t.Fatalf("box 1001: %+v", got)
	}
	all, err := st.Voicemails(ctx, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("all boxes: %d, %v", len(all), err)
	}
}

// TestAgents: a profile is stored whole (devices, skills, capacity,
// queues, wrap-up), replaced whole, refused when invalid, removed.
func TestAgents(t *testing.T) {
	st := openTest(t)
	ctx := context.Background()
	wrap := 20 * time.Second
	a := Agent{ID: "alice", Name: "Alice", Devices: []string{"1001", "1011"},
		Skills: map[string]int{"english": 5, "billing": 3}, Capacity: map[string]int{"voice": 1, "chat": 3},
		Queues: []AgentQueue{{Queue: "support", Penalty: 1, Priority: 5}, {Queue: "sales"}}, WrapUp: &wrap}
	if err := st.PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := st.Agent(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Alice" || len(got.Devices) != 2 || got.Skills["english"] != 5 || got.Skills["billing"] != 3 ||
		got.Capacity["chat"] != 3 || len(got.Queues) != 2 || got.Queues[0].Queue != "sales" || got.Queues[1].Penalty != 1 ||
		got.Queues[1].Priority != 5 || got.WrapUp == nil || *got.WrapUp != wrap {
		t.Fatalf("stored agent: %+v", got)
	}
	a.Skills = map[string]int{"spanish": 2}
	a.Queues, a.WrapUp = nil, nil
	if err := st.PutAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, _ = st.Agent(ctx, "alice")
	if len(got.Skills) != 1 || got.Skills["spanish"] != 2 || len(got.Queues) != 0 || got.WrapUp != nil {
		t.Fatalf("replaced agent: %+v", got)
	}
	for _, bad := range []Agent{
		{ID: "Bob"}, {ID: "bob", Skills: map[string]int{"english": 6}}, {ID: "bob", Capacity: map[string]int{"fax": 1}},
		{ID: "bob", Devices: []string{"bad device"}},
	} {
		if err := st.PutAgent(ctx, bad); !errors.Is(err, ErrInvalidAgent) {
			t.Errorf("PutAgent(%+v): %v, want ErrInvalidAgent", bad, err)
		}
	}
	if err := st.PutAgent(ctx, Agent{ID: "bob"}); err != nil {
		t.Fatal(err)
	}
	list, err := st.Agents(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "alice" || list[1].ID != "bob" {
		t.Fatalf("agents: %+v %v", list, err)
	}
	if err := st.RemoveAgent(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Agent(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed agent: %v", err)
	}
	if err := st.RemoveAgent(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}
