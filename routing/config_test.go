package routing

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchd/switchd/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

const wantSep = "-- want --\n"

// decodeText decodes data as routing.yaml and returns the problems, one
// per line as `switchd validate` prints them, and the config.
func decodeText(data []byte) (string, Config, bool) {
	var c Config
	err := config.Decode("routing.yaml", data, &c)
	var cerr *config.Error
	if err != nil && !errors.As(err, &cerr) {
		return "unexpected error " + err.Error() + "\n", c, false
	}
	var b strings.Builder
	hasErrors := false
	if cerr != nil {
		hasErrors = cerr.HasErrors()
		for _, p := range cerr.Problems {
			b.WriteString(p.Error())
			b.WriteString("\n")
		}
	}
	return b.String(), c, !hasErrors
}

// TestValidateGolden decodes each testdata/validate/NAME.txt (YAML, a
// "-- want --" line, the problems expected) as routing.yaml. A file that
// has no errors must also compile with New.
func TestValidateGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/validate/*.txt")
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
			input, want, ok := strings.Cut(string(raw), wantSep)
			if !ok {
				t.Fatalf("%s has no %q separator line", golden, wantSep)
			}
			got, c, valid := decodeText([]byte(input))
			if valid {
				if _, err := New(c); err != nil {
					t.Errorf("New refused a config that validates: %v", err)
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

func TestNewRefusesInvalid(t *testing.T) {
	_, err := New(Config{Trunks: []TrunkConfig{{Name: "Bad Name"}}})
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "trunks[0].host: missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestIsZero(t *testing.T) {
	if c := (Config{}); !c.IsZero() {
		t.Error("zero Config is not IsZero")
	}
	if c := (Config{Numbering: Numbering{CountryCode: "44"}}); c.IsZero() {
		t.Error("Config with numbering is IsZero")
	}
	if c := (Config{DialRules: []DialRuleConfig{{}}}); c.IsZero() {
		t.Error("Config with a dial rule is IsZero")
	}
}

// TestOverlapWithoutLines: a Config built in code (no lines) names the
// earlier entry without a line.
func TestOverlapWithoutLines(t *testing.T) {
	c := Config{DIDs: []DIDConfig{
		{Number: "+441", Extension: "1"},
		{Number: "+441", Extension: "2"},
	}}
	ps := c.Validate()
	if len(ps) != 1 || ps[0].Path != "dids[1].number" || ps[0].Msg != "overlaps dids[0]: same number +441 on the same trunks" {
		t.Fatalf("problems = %v", ps)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/validate/*.txt")
	for _, g := range files {
		raw, _ := os.ReadFile(g)
		in, _, _ := strings.Cut(string(raw), wantSep)
		f.Add([]byte(in), "+862155550100", "00441234567")
	}
	f.Fuzz(func(t *testing.T, data []byte, called, dialled string) {
		var c Config
		err := config.Decode("fuzz.yaml", data, &c)
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
			if cerr.HasErrors() {
				return
			}
		}
		tbl, err := New(c)
		if err != nil {
			t.Fatalf("New refused a config that validates: %v", err)
		}
		for _, tr := range append(tbl.Trunks(), nil) {
			tbl.Inbound(tr, called)
		}
		for cl := ClassUnknown; cl <= ClassEmergency; cl++ {
			tbl.Outbound(dialled, cl)
		}
		tbl.TrunkByAddr(netip.MustParseAddr("127.0.0.2"))
		tbl.TrunkByUser(called)
	})
}
