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
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenSep = "-----\n"

// TestConfigGolden loads each testdata/config/NAME.txt (YAML, a separator,
// the expected `switchd validate` lines) as NAME.yaml.
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
