package ivr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseFlow checks that reading and validating any file never panics,
// that every problem has a message, and that a flow without errors has its
// start node.
func FuzzParseFlow(f *testing.F) {
	goldens, _ := filepath.Glob("testdata/validate/*.txt")
	examples, _ := filepath.Glob("../configs/ivr/*.yaml")
	for _, name := range append(goldens, examples...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		in, _, _ := strings.Cut(string(data), wantSep)
		f.Add([]byte(in))
	}
	f.Add([]byte("start: a\nnodes:\n  a: &x {type: goto, node: a}\n  b: *x\n"))
	f.Add([]byte("start: a\nnodes:\n  a: {type: menu, prompt: [&p {say: hi}, *p], options: {\"1\": a}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, problems := parseFlow("flow.yaml", "flow", data)
		if fl != nil {
			set := &Set{flows: map[string]*Flow{fl.name: fl}, names: []string{fl.name}}
			problems = append(problems, set.checkNames(fl, testChecker)...)
		}
		for _, p := range problems {
			if p.Msg == "" || p.File != "flow.yaml" {
				t.Fatalf("problem without message or file: %+v", p)
			}
		}
		if fl != nil && !HasErrors(problems) {
			if fl.nodes[fl.start] == nil {
				t.Fatalf("valid flow without its start node %q", fl.start)
			}
			for _, n := range fl.order {
				for _, e := range n.edges {
					if fl.nodes[e.to] == nil {
						t.Fatalf("valid flow with an edge to unknown node %q", e.to)
					}
				}
			}
		}
	})
}
