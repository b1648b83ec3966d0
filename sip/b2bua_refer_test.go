package sip

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/golden"
)

var updateRefer = flag.Bool("update-refer", false, "rewrite testdata/refer golden files")

// referToValues reads "Refer-To: value" lines (the header values a REFER
// carries).
func referToValues(in string) []string {
	var out []string
	for _, line := range strings.Split(in, "\n") {
		if v, ok := strings.CutPrefix(line, "Refer-To:"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

func describeReferTo(rt referTo, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	s := fmt.Sprintf("target %s\n", rt.Target)
	if r := rt.Replaces; r != nil {
		s += fmt.Sprintf("replaces call-id %s to-tag %s from-tag %s early-only %v\n", r.CallID, r.ToTag, r.FromTag, r.EarlyOnly)
	}
	return s
}

// TestParseReferToGolden: testdata/refer/*.txt hold Refer-To headers and
// what switchd makes of them (go test -run ReferTo -update-refer rewrites).
func TestParseReferToGolden(t *testing.T) {
	for _, c := range golden.Cases(t, "testdata/refer/*.txt", "refer") {
		t.Run(c.Name, func(t *testing.T) {
			c.Check(t, describeReferTo(parseReferTo(referToValues(c.Input))), *updateRefer)
		})
	}
}

// FuzzParseReferTo: any Refer-To is parsed or refused without a panic; a
// parsed target is a bounded single-line user part.
func FuzzParseReferTo(f *testing.F) {
	for _, in := range golden.Inputs(f, "testdata/refer/*.txt") {
		for _, v := range referToValues(in) {
			f.Add(v)
		}
	}
	f.Fuzz(func(t *testing.T, v string) {
		rt, err := parseReferTo([]string{v})
		if err != nil {
			return
		}
		if rt.Target == "" || len(rt.Target) > 64 || strings.ContainsAny(rt.Target, "\r\n") {
			t.Fatalf("%q: target %q", v, rt.Target)
		}
		if r := rt.Replaces; r != nil && (r.CallID == "" || r.ToTag == "" || r.FromTag == "") {
			t.Fatalf("%q: incomplete Replaces %+v", v, r)
		}
	})
}
