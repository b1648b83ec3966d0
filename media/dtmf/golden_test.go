package dtmf

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the expected part of the golden files:
//
//	go test ./media/dtmf/ -run Golden -update
var update = flag.Bool("update", false, "rewrite the expected output of the golden files in testdata")

// goldenSeparator separates a golden file's input from its expected
// output.
const goldenSeparator = "\n---\n"

// runGolden runs fn on the input part of every testdata/dir/*.txt file
// and compares its result with the expected part (or, with -update,
// writes it there).
func runGolden(t *testing.T, dir string, fn func(t *testing.T, input string) string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s: %v", dir, err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			input, want, found := strings.Cut(string(b), goldenSeparator)
			if !found && !*update {
				t.Fatalf("%s: no %q line between input and expected output", path, strings.TrimSpace(goldenSeparator))
			}
			got := fn(t, input+"\n")
			if *update {
				if err := os.WriteFile(path, []byte(input+goldenSeparator+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s: output differs (go test -run %s -update rewrites it)\n--- got:\n%s--- want:\n%s", path, t.Name(), got, want)
			}
		})
	}
}
