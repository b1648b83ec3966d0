package server

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/routing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenSep = "-----\n"

// TestConfigGolden loads each testdata/config/NAME.txt (YAML, a separator,
// the expected `switchd validate` lines) as NAME.yaml, next to copies of
// testdata/config/*.yaml (routing files the cases name).
func TestConfigGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/*.txt")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, golden := range files {
		name := strings.TrimSuffix(filepath.Base(golden), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(raw), goldenSep)
			if !ok {
				t.Fatalf("%s has no %q separator", golden, goldenSep)
			}
			dir := t.TempDir()
			// Files a case refers to (routing_file) are testdata/config/*.yaml.
			extra, _ := filepath.Glob("testdata/config/*.yaml")
			for _, f := range extra {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, name+".yaml")
			if err := os.WriteFile(path, []byte(input), 0o600); err != nil {
				t.Fatal(err)
			}
			_, problems, err := Check(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, p := range problems {
				b.WriteString(strings.TrimPrefix(p.Error(), dir+string(filepath.Separator)))
				b.WriteString("\n")
			}
			if *update {
				os.WriteFile(golden, []byte(input+goldenSep+b.String()), 0o644)
				return
			}
			if b.String() != want {
				t.Errorf("problems of %s:\n%s\nwant:\n%s", name, b.String(), want)
			}
		})
	}
}

// TestShippedConfigIsDefault keeps configs/switchd.yaml — the documented
// reference — equal to the built-in defaults.
func TestShippedConfigIsDefault(t *testing.T) {
	cfg, err := LoadConfig("../../configs/switchd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(*cfg, want) {
		t.Fatalf("configs/switchd.yaml differs from DefaultConfig():\n got %+v\nwant %+v", *cfg, want)
	}
	if problems := cfg.Validate(); len(problems) != 0 {
		t.Fatalf("default config has problems: %v", problems)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

// TestValidateWarnsRealmMismatch: digests stored for another realm are reported.
func TestValidateWarnsRealmMismatch(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.DataDir = dir
	st := openTestStore(t, cfg.DBPath())
	addExtension(t, st, "switchd", "1001", "secret1")
	st.Close()
	path := filepath.Join(dir, "sw.yaml")
	os.WriteFile(path, []byte("data_dir: "+dir+"\nsip:\n  realm: newrealm\n"), 0o600)
	_, problems, err := Check(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !problems[0].Warning || problems[0].Line != 3 ||
		!strings.Contains(problems[0].Msg, `realm "switchd", not "newrealm"`) {
		t.Fatalf("problems = %v", problems)
	}
}

func FuzzLoadConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.txt")
	for _, g := range files {
		raw, _ := os.ReadFile(g)
		in, _, _ := strings.Cut(string(raw), goldenSep)
		f.Add([]byte(in))
	}
	shipped, _ := os.ReadFile("../../configs/switchd.yaml")
	f.Add(shipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		err := config.Decode("fuzz.yaml", data, &cfg)
		var cerr *config.Error
		if err != nil && !errors.As(err, &cerr) {
			t.Fatalf("Decode returned %T, want *config.Error", err)
		}
		if cerr != nil {
			for _, p := range cerr.Problems {
				if p.File != "fuzz.yaml" || p.Msg == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
			}
		}
	})
}

// TestConfigRoutingFile: a valid routing_file is read relative to the main file
// and becomes the effective routing configuration.
func TestConfigRoutingFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "etc")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	routingYAML := "trunks:\n  - name: carrier-a\n    host: 192.0.2.1\n    inbound:\n      addresses: [192.0.2.1]\n" +
		"dids:\n  - number: \"+441632960000\"\n    extension: \"1001\"\n"
	if err := os.WriteFile(filepath.Join(sub, "routing.yaml"), []byte(routingYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sub, "switchd.yaml")
	if err := os.WriteFile(path, []byte("routing_file: routing.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	rc := cfg.Routing()
	if len(rc.Trunks) != 1 || rc.Trunks[0].Name != "carrier-a" || len(rc.DIDs) != 1 || len(cfg.Trunks) != 0 {
		t.Fatalf("Routing() = %+v", rc)
	}
	if got := cfg.RoutingPath(path); got != filepath.Join(sub, "routing.yaml") {
		t.Errorf("RoutingPath = %q", got)
	}
	tbl, err := routing.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	if in, err := tbl.Inbound(tbl.Trunk("carrier-a"), "+441632960000"); err != nil || in.Dest.Target != "1001" {
		t.Fatalf("Inbound = %+v, %v", in, err)
	}
	// Inline keys are the effective configuration without routing_file.
	inline := DefaultConfig()
	inline.Trunks = rc.Trunks
	if got := inline.Routing(); len(got.Trunks) != 1 {
		t.Fatalf("inline Routing() = %+v", got)
	}
}

// TestCheckQueuesAndReferences: `switchd validate` reports a bad queue
// file, a DID naming a queue that does not exist, and an IVR flow
// enqueueing to one, each at its file and line — and a DID naming a flow
// that exists is fine even while that flow has an error of its own.
func TestCheckQueuesAndReferences(t *testing.T) {
	dir := t.TempDir()
	qdir, fdir := filepath.Join(dir, "queues"), filepath.Join(dir, "flows")
	os.Mkdir(qdir, 0o755)
	os.Mkdir(fdir, 0o755)
	os.WriteFile(filepath.Join(qdir, "q.yaml"), []byte("queues:\n  - name: sales\n    strategy: longest-idle\n  - name: support\n    strategy: fastest\n"), 0o644)
	os.WriteFile(filepath.Join(fdir, "main.yaml"), []byte("start: q\nnodes:\n  q:\n    type: enqueue\n    queue: billing\n"), 0o644)
	cfgPath := filepath.Join(dir, "switchd.yaml")
	os.WriteFile(cfgPath, []byte("data_dir: "+dir+"\nacd:\n  dir: "+qdir+"\nivr:\n  dir: "+fdir+`
trunks:
  - name: c
    host: 192.0.2.1
    inbound: {addresses: [192.0.2.1]}
dids:
  - number: "+441632960001"
    queue: sales
  - number: "+441632960002"
    queue: nope
  - number: "+441632960003"
    ivr: main
`), 0o644)
	_, problems, err := Check(t.Context(), cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, strings.TrimPrefix(p.Error(), dir+string(filepath.Separator)))
	}
	want := []string{
		`flows/main.yaml:5: nodes.q.queue: no queue named "billing"`,
		`switchd.yaml:14: dids[1].queue: no queue "nope" in ` + qdir,
		`queues/q.yaml:5: "fastest" is not a strategy (one of ring-all, longest-idle, round-robin, fewest-contacts, least-talk-time, linear, random, skills)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
