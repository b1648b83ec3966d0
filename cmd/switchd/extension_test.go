package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/store"
)

// extFixture writes a config whose data_dir will hold the database; it
// returns the config and the database path.
func extFixture(t *testing.T) (cfg, db string) {
	t.Helper()
	dir := t.TempDir()
	cfg = filepath.Join(dir, "switchd.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "switchd.db")
}

func storedExtension(t *testing.T, db, number string) store.Extension {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := st.Extension(t.Context(), number)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExtensionAddWithRouting(t *testing.T) {
	cfg, db := extFixture(t)
	if _, err := run(t, "-c", cfg, "extension", "add", "1001", "--password", "s3cret1", "--name", "Front desk"); err != nil {
		t.Fatal(err)
	}
	e := storedExtension(t, db, "1001")
	if e.Name != "Front desk" || e.Class != store.ClassNational || e.CallerID != "" || e.Privacy || e.HA1MD5 == "" {
		t.Fatalf("defaults: %+v", e)
	}
	out, err := run(t, "-c", cfg, "extension", "add", "1002", "--password", "s3cret2",
		"--class", "international", "--caller-id", "+862155550102", "--privacy")
	if err != nil || !strings.Contains(out, "extension 1002 added") {
		t.Fatalf("%q %v", out, err)
	}
	e = storedExtension(t, db, "1002")
	if e.Class != store.ClassInternational || e.CallerID != "+862155550102" || !e.Privacy {
		t.Fatalf("with routing: %+v", e)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--class", "premium"}, `--class: invalid extension class: "premium" must be one of internal, national, international`},
		{[]string{"--caller-id", "0215555"}, `--caller-id: invalid caller ID: "0215555" must be empty or E.164`},
		{[]string{"--password", "1003"}, "password too weak"},
		{[]string{"--password", "s3cret1"}, "already exists"},
	} {
		number := "1003"
		if c.want == "already exists" {
			number = "1001"
		}
		args := append([]string{"-c", cfg, "extension", "add", number}, c.args...)
		if !strings.Contains(strings.Join(c.args, " "), "--password") {
			args = append(args, "--password", "s3cret3")
		}
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("add %v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
	if out, err = run(t, "-c", cfg, "extension", "list"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "1003") {
		t.Fatalf("a refused extension was stored:\n%s", out)
	}
}

func TestExtensionSetAndList(t *testing.T) {
	cfg, db := extFixture(t)
	if _, err := run(t, "-c", cfg, "extension", "add", "1001", "--password", "s3cret1", "--caller-id", "+862155550101"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		want store.Extension
	}{
		{[]string{"--class", "internal"}, store.Extension{Class: "internal", CallerID: "+862155550101"}},
		{[]string{"--privacy"}, store.Extension{Class: "internal", CallerID: "+862155550101", Privacy: true}},
		{[]string{"--caller-id", ""}, store.Extension{Class: "internal", Privacy: true}},
		{[]string{"--privacy=false", "--class", "international", "--caller-id", "+15550100"},
			store.Extension{Class: "international", CallerID: "+15550100"}},
	}
	for _, s := range steps {
		out, err := run(t, append([]string{"-c", cfg, "extension", "set", "1001"}, s.args...)...)
		if err != nil || !strings.Contains(out, "extension 1001 changed") {
			t.Fatalf("set %v: %q %v", s.args, out, err)
		}
		e := storedExtension(t, db, "1001")
		if e.Class != s.want.Class || e.CallerID != s.want.CallerID || e.Privacy != s.want.Privacy {
			t.Fatalf("after set %v: %+v, want %+v", s.args, e, s.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"1001"}, "nothing to change"},
		{[]string{"1001", "--class", "local"}, "--class: invalid extension class"},
		{[]string{"1001", "--caller-id", "+86 21 5555"}, "--caller-id: invalid caller ID"},
		{[]string{"1001", "--privacy=maybe"}, "invalid argument"},
		{[]string{"9999", "--class", "internal"}, "extension 9999: store: not found"},
		{[]string{}, "accepts 1 arg"},
	} {
		if _, err := run(t, append([]string{"-c", cfg, "extension", "set"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("set %v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
	if e := storedExtension(t, db, "1001"); e.Class != "international" || e.CallerID != "+15550100" || e.Privacy {
		t.Fatalf("a refused set changed the extension: %+v", e)
	}

	if _, err := run(t, "-c", cfg, "extension", "add", "1002", "--password", "s3cret2", "--name", "Sales desk", "--class", "internal", "--privacy"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "-c", cfg, "extension", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("list:\n%s", out)
	}
	col := func(line, heading string) string {
		return strings.Fields(line[strings.Index(lines[0], heading):])[0]
	}
	for _, h := range []string{"NUMBER", "NAME", "CLASS", "CALLER ID", "PRIVACY", "REALM", "CREATED"} {
		if !strings.Contains(lines[0], h) {
			t.Fatalf("heading %s missing:\n%s", h, out)
		}
	}
	want := [][3]string{{"international", "+15550100", "no"}, {"internal", "-", "yes"}}
	for i, w := range want {
		got := [3]string{col(lines[i+1], "CLASS"), col(lines[i+1], "CALLER ID"), col(lines[i+1], "PRIVACY")}
		if got != w {
			t.Errorf("row %d: class, caller ID, privacy = %q, want %q\n%s", i+1, got, w, out)
		}
	}
	if !strings.Contains(lines[2], "Sales desk") {
		t.Fatalf("name missing:\n%s", out)
	}
}

// TestAgentCommands: agent add (every flag), skills, list, remove; bad
// flags are refused with a message naming them.
func TestAgentCommands(t *testing.T) {
	cfg := cdrFixture(t)
	if _, err := run(t, "agent", "add", "alice", "-c", cfg, "--name", "Alice", "--device", "1001", "--skill", "english=5",
		"--skill", "billing=3", "--capacity", "voice=1,chat=3", "--queue", "support:0:10", "--queue", "sales", "--wrap-up", "20s"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "agent", "skills", "alice", "spanish=2", "english=4", "-c", cfg); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "agent", "list", "-c", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alice", "Alice", "1001", "english=4,spanish=2", "chat=3,voice=1", "sales:0:0,support:0:10", "20s"} {
		if !strings.Contains(out, want) {
			t.Fatalf("agent list lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range [][]string{
		{"agent", "add", "bob", "--skill", "english=9"},
		{"agent", "add", "bob", "--skill", "english"},
		{"agent", "add", "bob", "--queue", "sales:x"},
		{"agent", "add", "Bob"},
	} {
		if _, err := run(t, append(bad, "-c", cfg)...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := run(t, "agent", "remove", "alice", "-c", cfg); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "agent", "list", "-c", cfg); err != nil || strings.Contains(out, "alice") {
		t.Fatalf("removed agent listed:\n%s", out)
	}
}
