// Package golden runs the golden-file tests of configuration parsers
// (queues, IVR flows): each testdata file holds the input — one file, or
// several after "-- name.yaml --" lines — then a "-- want --" line and the
// problems expected, as `switchd validate` prints them.
package golden

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/config"
)

// WantSep separates a golden file's input from its expected output.
const WantSep = "-- want --\n"

// fileSepRE starts another input file: "-- other.yaml --".
var fileSepRE = regexp.MustCompile(`(?m)^-- ([A-Za-z0-9_.-]+) --\n`)

// Case is one golden file.
type Case struct {
	Name  string            // file name without .txt
	Path  string            // the golden file
	Input string            // everything before WantSep
	Files map[string]string // input files by name; the first is mainFile
	Want  string
}

// Cases reads the golden files matching pattern; the input before any
// "-- name --" line is the file mainFile. It fails the test when there is
// none or one has no WantSep line.
func Cases(t testing.TB, pattern, mainFile string) []Case {
	t.Helper()
	paths, _ := filepath.Glob(pattern)
	if len(paths) == 0 {
		t.Fatalf("no golden files %s", pattern)
	}
	var out []Case
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		input, want, ok := strings.Cut(string(raw), WantSep)
		if !ok {
			t.Fatalf("%s has no %q line", path, WantSep)
		}
		c := Case{Name: strings.TrimSuffix(filepath.Base(path), ".txt"), Path: path, Input: input, Want: want, Files: map[string]string{}}
		seps := fileSepRE.FindAllStringSubmatchIndex(input, -1)
		end := len(input)
		if len(seps) > 0 {
			end = seps[0][0]
		}
		c.Files[mainFile] = input[:end]
		for i, s := range seps {
			stop := len(input)
			if i+1 < len(seps) {
				stop = seps[i+1][0]
			}
			c.Files[input[s[2]:s[3]]] = input[s[1]:stop]
		}
		out = append(out, c)
	}
	return out
}

// Inputs are the inputs of the golden files matching pattern (fuzz seeds).
func Inputs(t testing.TB, pattern string) []string {
	t.Helper()
	paths, _ := filepath.Glob(pattern)
	var out []string
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		in, _, _ := strings.Cut(string(raw), WantSep)
		out = append(out, in)
	}
	return out
}

// WriteFiles writes the case's input files into a new directory.
func (c Case) WriteFiles(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range c.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Check compares got with the expected output, or rewrites the golden
// file with it when update is set.
func (c Case) Check(t testing.TB, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(c.Path, []byte(c.Input+WantSep+got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != c.Want {
		t.Errorf("problems of %s:\n%s\nwant:\n%s", c.Name, got, c.Want)
	}
}

// ProblemsText formats problems one per line as `switchd validate` prints
// them, with file names relative to dir.
func ProblemsText(dir string, problems []config.Problem) string {
	var b strings.Builder
	for _, p := range problems {
		p.File = strings.TrimPrefix(strings.TrimPrefix(p.File, dir), string(filepath.Separator))
		b.WriteString(p.Error())
		b.WriteString("\n")
	}
	return b.String()
}
