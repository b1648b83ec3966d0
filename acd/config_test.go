package acd

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/golden"
)

var update = flag.Bool("update", false, "rewrite golden files")

const wantSep = golden.WantSep

// TestValidateGolden loads each testdata/validate/NAME.txt: a queue file
// (written as queues.yaml), optionally more files each after a
// "-- name.yaml --" line, then "-- want --" and the problems expected.
// Run with -update to rewrite the expectations.
func TestValidateGolden(t *testing.T) {
	for _, c := range golden.Cases(t, "testdata/validate/*.txt", "queues.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			dir := c.WriteFiles(t)
			cfg, problems := LoadDir(dir)
			if !HasErrors(problems) {
				if _, err := New(cfg, nil); err != nil {
					t.Errorf("a configuration without errors is refused: %v", err)
				}
			}
			c.Check(t, golden.ProblemsText(dir, problems), *update)
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
