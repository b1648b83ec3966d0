package ivr

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/golden"
)

var update = flag.Bool("update", false, "rewrite golden files")

const wantSep = golden.WantSep

// testChecker knows extensions 1000-1999, trunk carrier-a, queues sales
// and support, the prompt welcome (every language) and hello (en-GB only),
// and the file sounds/beep.wav.
var testChecker = Checker{
	Extension: func(n string) bool { return len(n) == 4 && n[0] == '1' },
	Trunk:     func(n string) bool { return n == "carrier-a" },
	Queue:     func(n string) bool { return n == "sales" || n == "support" },
	Prompt: func(name, lang string) bool {
		return name == "welcome" || name == "hello" && lang == "en-GB"
	},
	File: func(p string) bool { return p == "sounds/beep.wav" },
}

// writeFlows writes files into a new directory and returns it.
func writeFlows(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// problemsText formats problems one per line, with file names relative
// to dir, as `switchd validate` prints them.
func problemsText(dir string, problems []config.Problem) string {
	return golden.ProblemsText(dir, problems)
}

// TestValidateGolden validates each testdata/validate/NAME.txt: a flow
// (written as flow.yaml), optionally more files each after a
// "-- name.yaml --" line, then a "-- want --" line and the problems
// expected. Run with -update to rewrite the expectations.
func TestValidateGolden(t *testing.T) {
	for _, c := range golden.Cases(t, "testdata/validate/*.txt", "flow.yaml") {
		t.Run(c.Name, func(t *testing.T) {
			dir := c.WriteFiles(t)
			_, problems := Validate(dir, testChecker)
			if !HasErrors(problems) {
				lib, _, err := NewLibrary(dir, testChecker, nil)
				if err != nil || lib.Current() == nil {
					t.Errorf("a set without errors was not installed: %v", err)
				}
			}
			c.Check(t, golden.ProblemsText(dir, problems), *update)
		})
	}
}
