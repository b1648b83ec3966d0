package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type fakeCDRs struct {
	got  CDRQuery
	list []CDR
	err  error
}

func (f *fakeCDRs) ListCDRs(_ context.Context, q CDRQuery) ([]CDR, error) {
	f.got = q
	return f.list, f.err
}

func TestCDRsAPI(t *testing.T) {
	start := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	src := &fakeCDRs{list: []CDR{{ID: "a", Caller: "100", Callee: "200", Start: start, DurationMS: 1500,
		QualityA: &MediaQuality{PacketsLost: 2, JitterMS: 1.5}, Trunk: "carrier-a", DID: "+862155550100",
		Route: "did +862155550100 -> extension 200"}}}
	srv := httptest.NewServer(NewHandler(Config{}, Deps{
		Tokens: fakeTokens{"good": {Name: "sup", Role: RoleSupervisor}}, Gatherer: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler), CDRs: src,
	}))
	defer srv.Close()

	if code, _ := call(t, srv, "GET", "/api/v1/cdrs", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("without token: %d", code)
	}
	code, body := call(t, srv, "GET", "/api/v1/cdrs", "good", "")
	cdrs, _ := body["cdrs"].([]any)
	if code != 200 || len(cdrs) != 1 || src.got.Limit != DefaultCDRLimit || !src.got.Since.IsZero() {
		t.Fatalf("default query: %d %v %+v", code, body, src.got)
	}
	first := cdrs[0].(map[string]any)
	if first["start"] != "2025-06-01T09:00:00Z" || first["duration_ms"] != 1500.0 || first["answer"] != nil || first["end"] != nil ||
		first["quality_a"].(map[string]any)["packets_lost"] != 2.0 || first["trunk"] != "carrier-a" ||
		first["did"] != "+862155550100" || first["route"] != "did +862155550100 -> extension 200" {
		t.Fatalf("CDR JSON %v", first)
	}

	before := time.Now()
	code, _ = call(t, srv, "GET", "/api/v1/cdrs?since=24h&until=2030-01-01T00:00:00Z&limit=5&caller=100&callee=200", "good", "")
	if code != 200 || src.got.Limit != 5 || src.got.Caller != "100" || src.got.Callee != "200" ||
		!src.got.Until.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("filtered query: %d %+v", code, src.got)
	}
	if ago := before.Sub(src.got.Since); ago < 24*time.Hour-time.Minute || ago > 24*time.Hour+time.Minute {
		t.Fatalf("since=24h gave %v", src.got.Since)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "since=yesterday", "until=-5h"} {
		if code, body := call(t, srv, "GET", "/api/v1/cdrs?"+q, "good", ""); code != http.StatusBadRequest || body["error"] == nil {
			t.Errorf("%s: %d %v", q, code, body)
		}
	}
	src.err = errors.New("disk gone")
	if code, _ := call(t, srv, "GET", "/api/v1/cdrs", "good", ""); code != http.StatusInternalServerError {
		t.Errorf("store failure: %d", code)
	}
	none := httptest.NewServer(NewHandler(Config{}, Deps{Tokens: fakeTokens{"good": {Name: "sup", Role: RoleSupervisor}}, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)}))
	defer none.Close()
	if code, _ := call(t, none, "GET", "/api/v1/cdrs", "good", ""); code != http.StatusServiceUnavailable {
		t.Errorf("no CDR source: %d", code)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Time{
		"2025-06-01T09:30:00Z":      time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC),
		"2025-06-01T09:30:00+02:00": time.Date(2025, 6, 1, 7, 30, 0, 0, time.UTC),
		"2025-06-01":                time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		"24h":                       now.Add(-24 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"1.5d":                      now.Add(-36 * time.Hour),
		" 1h ":                      now.Add(-time.Hour),
	}
	for in, want := range cases {
		if got, err := ParseTime(in, now); err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-1h", "7days", "2025-13-01"} {
		if _, err := ParseTime(in, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
}
