package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/web"
)

// cdrFixture writes a config whose data_dir holds a database with two
// CDRs: a finished call with awkward names, and one in progress.
func cdrFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchd.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "switchd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	err = st.WriteCDRs(t.Context(), []store.CDRChange{
		{Kind: store.CDRCreate, CDR: store.CDR{ID: "call-1", Medium: "voice", Direction: "inbound",
			Caller: "+442071234567", CallerName: `Smith, "Bob"`, Callee: "100", Start: t0,
			Trunk: "carrier-a", DID: "+862155550100", Route: "did +862155550100 -> extension 100"}},
		{Kind: store.CDRAnswer, CDR: store.CDR{ID: "call-1", Answer: t0.Add(3 * time.Second)}},
		{Kind: store.CDRComplete, CDR: store.CDR{ID: "call-1", End: t0.Add(63*time.Second + 500*time.Millisecond),
			Cause: "normal_clearing", HangupSide: "caller", CodecA: "PCMU", CodecB: "PCMU",
			QualityA: &store.MediaQuality{PacketsLost: 4, JitterMS: 2.5}}},
		{Kind: store.CDRCreate, CDR: store.CDR{ID: "call-2", Direction: "outbound", Caller: "100", Callee: "+15550100",
			Start: t0.Add(10 * time.Minute)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

func TestCDRList(t *testing.T) {
	cfg := cdrFixture(t)
	out, err := run(t, "-c", cfg, "cdr", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "START") || !strings.Contains(lines[1], "call-2") ||
		!strings.Contains(lines[1], "in progress") || !strings.Contains(lines[2], "1m4s") || !strings.Contains(lines[2], "normal_clearing") {
		t.Fatalf("table:\n%s", out)
	}
	if f := strings.Fields(lines[0]); strings.Join(f[:4], " ") != "START DIRECTION TRUNK DID" {
		t.Fatalf("header %q", lines[0])
	}
	// Columns line up: trunk and DID under their headings, "-" when unknown.
	for i, want := range map[int][2]string{1: {"-", "-"}, 2: {"carrier-a", "+862155550100"}} {
		at := strings.Index(lines[0], "TRUNK")
		if got := strings.Fields(lines[i][at:]); got[0] != want[0] || got[1] != want[1] {
			t.Errorf("row %d trunk, did = %q, want %q\n%s", i, got[:2], want, out)
		}
	}

	out, err = run(t, "-c", cfg, "cdr", "list", "--json", "--limit", "1")
	if err != nil {
		t.Fatal(err)
	}
	var cdrs []web.CDR
	if err := json.Unmarshal([]byte(out), &cdrs); err != nil || len(cdrs) != 1 || cdrs[0].ID != "call-2" || !cdrs[0].End.IsZero() {
		t.Fatalf("JSON %s: %v", out, err)
	}
	if out, err = run(t, "-c", cfg, "cdr", "list", "--json", "--caller", "+442071234567"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &cdrs); err != nil || len(cdrs) != 1 || cdrs[0].Trunk != "carrier-a" ||
		cdrs[0].DID != "+862155550100" || cdrs[0].Route != "did +862155550100 -> extension 100" {
		t.Fatalf("JSON routing %s: %v", out, err)
	}
	if out, err = run(t, "-c", cfg, "cdr", "list", "--since", "30m", "--json"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "call") {
		t.Fatalf("--since 30m should select nothing: %s", out)
	}
	if out, err = run(t, "-c", cfg, "cdr", "list", "--caller", "100"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "call-2") || strings.Contains(out, "call-1") {
		t.Fatalf("--caller 100:\n%s", out)
	}
	for _, args := range [][]string{{"--since", "bogus"}, {"--limit", "0"}} {
		if _, err := run(t, append([]string{"-c", cfg, "cdr", "list"}, args...)...); err == nil {
			t.Errorf("cdr list %v accepted", args)
		}
	}
}

func TestCDRExportCSV(t *testing.T) {
	cfg := cdrFixture(t)
	if _, err := run(t, "-c", cfg, "cdr", "export"); err == nil || !strings.Contains(err.Error(), "--csv") {
		t.Fatalf("export without a format: %v", err)
	}
	out, err := run(t, "-c", cfg, "cdr", "export", "--csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("CSV %q: %v", out, err)
	}
	if strings.Join(recs[0], ",") != strings.Join(cdrCSVHeader, ",") {
		t.Fatalf("header %v", recs[0])
	}
	// The columns of earlier versions keep their positions; new ones follow.
	const before = "id,medium,direction,caller,caller_name,callee,callee_name,start,answer,end,duration_ms,billable_ms," +
		"cause,hangup_side,codec_a,codec_b,a_packets_lost,a_jitter_ms,b_packets_lost,b_jitter_ms"
	if got := strings.Join(recs[0], ","); got != before+",trunk,did,route" {
		t.Fatalf("header %s", got)
	}
	row := map[string]string{}
	for i, h := range recs[0] {
		row[h] = recs[1][i]
	}
	if row["id"] != "call-1" || row["caller_name"] != `Smith, "Bob"` || row["duration_ms"] != "63500" ||
		row["billable_ms"] != "60500" || row["a_packets_lost"] != "4" || row["a_jitter_ms"] != "2.5" ||
		row["b_jitter_ms"] != "" || !strings.HasSuffix(row["end"], ".500Z") || row["trunk"] != "carrier-a" ||
		row["did"] != "+862155550100" || row["route"] != "did +862155550100 -> extension 100" {
		t.Fatalf("row %v", row)
	}
	if !strings.Contains(out, `"Smith, ""Bob"""`) {
		t.Fatalf("not RFC 4180 quoted: %s", out)
	}
	if recs[2][0] != "call-2" || recs[2][9] != "" || recs[2][20] != "" {
		t.Fatalf("open call row %v", recs[2])
	}

	file := filepath.Join(t.TempDir(), "cdrs.csv")
	if _, err := run(t, "-c", cfg, "cdr", "export", "--csv", "--until", "1m", "-o", file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil || string(b) != out {
		t.Fatalf("file differs from stdout export: %v\n%s", err, b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}
