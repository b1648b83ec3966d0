package acd

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

const wantSep = "-- want --\n"

// fileSepRE starts another file of a golden test: "-- other.yaml --".
var fileSepRE = regexp.MustCompile(`(?m)^-- ([A-Za-z0-9_.-]+) --\n`)

// problemsText formats problems one per line as `switchd validate` prints
// them, with file names relative to dir.
func problemsText(dir string, problems []config.Problem) string {
	var b strings.Builder
	for _, p := range problems {
		p.File = strings.TrimPrefix(strings.TrimPrefix(p.File, dir), string(filepath.Separator))
		b.WriteString(p.Error())
		b.WriteString("\n")
	}
	return b.String()
}

// TestValidateGolden loads each testdata/validate/NAME.txt: a queue file
// (written as queues.yaml), optionally more files each after a
// "-- name.yaml --" line, then "-- want --" and the problems expected.
// Run with -update to rewrite the expectations.
func TestValidateGolden(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/validate/*.txt")
	if len(goldens) == 0 {
		t.Fatal("no golden files")
	}
	for _, golden := range goldens {
		name := strings.TrimSuffix(filepath.Base(golden), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(raw), wantSep)
			if !ok {
				t.Fatalf("%s has no %q line", golden, wantSep)
			}
			files := map[string]string{}
			seps := fileSepRE.FindAllStringSubmatchIndex(input, -1)
			end := len(input)
			if len(seps) > 0 {
				end = seps[0][0]
			}
			files["queues.yaml"] = input[:end]
			for i, s := range seps {
				stop := len(input)
				if i+1 < len(seps) {
					stop = seps[i+1][0]
				}
				files[input[s[2]:s[3]]] = input[s[1]:stop]
			}
			dir := t.TempDir()
			for n, data := range files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg, problems := LoadDir(dir)
			got := problemsText(dir, problems)
			if !HasErrors(problems) {
				if _, err := New(cfg, nil); err != nil {
					t.Errorf("a configuration without errors is refused: %v", err)
				}
			}
			if *update {
				if err := os.WriteFile(golden, []byte(input+wantSep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("problems of %s:\n%s\nwant:\n%s", name, got, want)
			}
		})
	}
}

// FuzzParse checks that reading any queue file never panics, that every
// problem has a message, file and line, and that a file without errors
// makes an engine.
func FuzzParse(f *testing.F) {
	goldens, _ := filepath.Glob("testdata/validate/*.txt")
	for _, name := range goldens {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		in, _, _ := strings.Cut(string(data), wantSep)
		f.Add([]byte(in))
	}
	f.Add([]byte("queues:\n  - &q {name: a, overflow: {kind: queue, name: b}}\n  - {name: b, relax: [{after: 1s, any: true}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, problems := Parse("queues.yaml", data)
		for _, p := range problems {
			if p.Msg == "" || p.File != "queues.yaml" {
				t.Fatalf("problem without message or file: %+v", p)
			}
		}
		if HasErrors(problems) {
			return
		}
		e, err := New(cfg, nil)
		if err != nil {
			t.Fatalf("valid file refused: %v", err)
		}
		s := e.core
		for _, q := range cfg.Queues {
			if s.queues[q.Name] == nil {
				t.Fatalf("queue %q missing", q.Name)
			}
		}
	})
}
