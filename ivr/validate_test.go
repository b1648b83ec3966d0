package ivr

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
	var b strings.Builder
	for _, p := range problems {
		p.File = strings.TrimPrefix(strings.TrimPrefix(p.File, dir), string(filepath.Separator))
		b.WriteString(p.Error())
		b.WriteString("\n")
	}
	return b.String()
}

// TestValidateGolden validates each testdata/validate/NAME.txt: a flow
// (written as flow.yaml), optionally more files each after a
// "-- name.yaml --" line, then a "-- want --" line and the problems
// expected. Run with -update to rewrite the expectations.
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
			files["flow.yaml"] = input[:end]
			for i, s := range seps {
				stop := len(input)
				if i+1 < len(seps) {
					stop = seps[i+1][0]
				}
				files[input[s[2]:s[3]]] = input[s[1]:stop]
			}
			dir := writeFlows(t, files)
			problems := Validate(dir, testChecker)
			got := problemsText(dir, problems)
			if !HasErrors(problems) {
				lib, _, err := NewLibrary(dir, testChecker, nil)
				if err != nil || lib.Current() == nil {
					t.Errorf("a set without errors was not installed: %v", err)
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
