package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type fakeTokens map[string]Principal

func (f fakeTokens) CheckToken(_ context.Context, tok string) (Principal, error) {
	p, ok := f[tok]
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	return p, nil
}

type fakeLive struct{ unbanned []string }

func (f *fakeLive) Registrations() []Registration {
	return []Registration{{AOR: "1001", Contact: "sip:1001@a"}, {AOR: "1002", Contact: "sip:1002@b"}}
}
func (f *fakeLive) Bans() []Ban { return nil }
func (f *fakeLive) Unban(ip string) (bool, error) {
	if ip == "bad" {
		return false, fmt.Errorf("%w: not an IP", ErrInvalid)
	}
	f.unbanned = append(f.unbanned, ip)
	return ip == "192.0.2.1", nil
}

type fakeExts map[string]string

func (f fakeExts) ListExtensions(context.Context) ([]Extension, error) { return nil, nil }
func (f fakeExts) AddExtension(_ context.Context, n, _, pw string) error {
	if _, ok := f[n]; ok {
		return fmt.Errorf("%w: extension %s exists", ErrConflict, n)
	}
	if len(pw) < 6 {
		return fmt.Errorf("%w: password too short", ErrInvalid)
	}
	f[n] = pw
	return nil
}
func (f fakeExts) SetExtensionPassword(context.Context, string, string) error { return nil }
func (f fakeExts) RemoveExtension(_ context.Context, n string) error {
	if _, ok := f[n]; !ok {
		return fmt.Errorf("%w: extension %s", ErrNotFound, n)
	}
	delete(f, n)
	return nil
}

func newTestServer(t *testing.T, public bool) (*httptest.Server, *fakeLive) {
	live := &fakeLive{}
	h := NewHandler(Config{PublicMetrics: public}, Deps{
		Tokens: fakeTokens{"good": {Name: "admin", Role: "admin"}}, Live: live, Extensions: fakeExts{"1001": "x"},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, live
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode >= 400 && res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s: error without JSON content type", method, path)
	}
	return res.StatusCode, out
}

func TestAPIAuthentication(t *testing.T) {
	srv, _ := newTestServer(t, true)
	for _, path := range []string{"/api/v1/registrations", "/api/v1/bans", "/api/v1/extensions", "/debug/pprof/", "/api/v1/nope"} {
		for _, tok := range []string{"", "wrong"} {
			code, body := call(t, srv, "GET", path, tok, "")
			if code != http.StatusUnauthorized || body["error"] == "" {
				t.Errorf("GET %s with token %q: %d %v", path, tok, code, body)
			}
		}
	}
	if code, _ := call(t, srv, "GET", "/healthz", "", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if code, _ := call(t, srv, "GET", "/api/v1/nope", "good", ""); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 200 {
		t.Errorf("public metrics: %d", res.StatusCode)
	}
	private, _ := newTestServer(t, false)
	if code, _ := call(t, private, "GET", "/metrics", "", ""); code != 401 {
		t.Errorf("private metrics without token: %d", code)
	}
}

func TestAPIRegistrationsAndErrors(t *testing.T) {
	srv, live := newTestServer(t, true)
	code, body := call(t, srv, "GET", "/api/v1/registrations?aor=1002", "good", "")
	regs, _ := body["registrations"].([]any)
	if code != 200 || len(regs) != 1 {
		t.Fatalf("filtered registrations: %d %v", code, body)
	}
	cases := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/extensions", `{"number":"2000","password":"longenough"}`, 201},
		{"POST", "/api/v1/extensions", `{"number":"2000","password":"longenough"}`, 409},
		{"POST", "/api/v1/extensions", `{"number":"2001","password":"x"}`, 400},
		{"POST", "/api/v1/extensions", `{"number":"2001","pasword":"typo"}`, 400},
		{"POST", "/api/v1/extensions", `not json`, 400},
		{"DELETE", "/api/v1/extensions/3000", "", 404},
		{"DELETE", "/api/v1/extensions/2000", "", 204},
		{"DELETE", "/api/v1/bans/bad", "", 400},
		{"DELETE", "/api/v1/bans/192.0.2.9", "", 404},
		{"DELETE", "/api/v1/bans/192.0.2.1", "", 204},
	}
	for _, c := range cases {
		code, body := call(t, srv, c.method, c.path, "good", c.body)
		if code != c.want {
			t.Errorf("%s %s %s: %d %v, want %d", c.method, c.path, c.body, code, body, c.want)
		}
		if code >= 400 && body["error"] == "" {
			t.Errorf("%s %s: error body %v", c.method, c.path, body)
		}
	}
	if len(live.unbanned) != 2 {
		t.Errorf("unban calls %v", live.unbanned)
	}
}
