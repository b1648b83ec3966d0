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

// fakeParked answers from a fixed list, or fails.
type fakeParked struct {
	calls []ParkedCall
	err   error
}

func (f fakeParked) ParkedCalls(context.Context) ([]ParkedCall, error) { return f.calls, f.err }

func newParkedServer(t *testing.T, p Parked) *httptest.Server {
	t.Helper()
	d := Deps{Tokens: acdTokens, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler), Parked: p}
	srv := httptest.NewServer(NewHandler(Config{}, d))
	t.Cleanup(srv.Close)
	return srv
}

// TestParkedAPI: GET /api/v1/parked needs a token and the supervisor
// role, lists the parked calls (an empty lot is []), answers 503 without
// park and 500 with a JSON error when the switch fails.
func TestParkedAPI(t *testing.T) {
	since := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	srv := newParkedServer(t, fakeParked{calls: []ParkedCall{{Slot: "701", CallID: "c1", Caller: "1001", ParkedBy: "1002", Since: since}}})
	if code, _ := call(t, srv, "GET", "/api/v1/parked", "", ""); code != http.StatusUnauthorized {
		t.Errorf("without token: %d, want 401", code)
	}
	if code, body := call(t, srv, "GET", "/api/v1/parked", "alice", ""); code != http.StatusForbidden || body["error"] == "" {
		t.Errorf("as an agent: %d %v, want 403", code, body)
	}
	code, body := call(t, srv, "GET", "/api/v1/parked", "sup", "")
	list, _ := body["parked"].([]any)
	if code != http.StatusOK || len(list) != 1 {
		t.Fatalf("as a supervisor: %d %v", code, body)
	}
	if p := list[0].(map[string]any); p["slot"] != "701" || p["call_id"] != "c1" || p["parked_by"] != "1002" || p["since"] != "2026-11-25T06:00:00Z" {
		t.Errorf("parked call %v", p)
	}
	empty := newParkedServer(t, fakeParked{})
	if code, body := call(t, empty, "GET", "/api/v1/parked", "sup", ""); code != 200 || body["parked"] == nil {
		t.Errorf("empty lot: %d %v, want []", code, body)
	}
	failing := newParkedServer(t, fakeParked{err: errors.New("boom")})
	if code, body := call(t, failing, "GET", "/api/v1/parked", "sup", ""); code != 500 || body["error"] == "" {
		t.Errorf("failing switch: %d %v", code, body)
	}
	if code, body := call(t, newParkedServer(t, nil), "GET", "/api/v1/parked", "sup", ""); code != 503 || body["error"] == "" {
		t.Errorf("without park: %d %v", code, body)
	}
}
