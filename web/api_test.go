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

// fakeExts keeps extensions in memory and checks values as the switch's
// store does (roughly), so the API's error mapping can be tested.
type fakeExts map[string]*Extension

func checkRouting(class, callerID string) error {
	if class != "internal" && class != "national" && class != "international" {
		return fmt.Errorf("%w: class %q", ErrInvalid, class)
	}
	if callerID != "" && !strings.HasPrefix(callerID, "+") {
		return fmt.Errorf("%w: caller ID %q", ErrInvalid, callerID)
	}
	return nil
}

func (f fakeExts) ListExtensions(context.Context) ([]Extension, error) {
	var out []Extension
	for _, e := range f {
		out = append(out, *e)
	}
	return out, nil
}
func (f fakeExts) AddExtension(_ context.Context, in NewExtension) error {
	if _, ok := f[in.Number]; ok {
		return fmt.Errorf("%w: extension %s exists", ErrConflict, in.Number)
	}
	if len(in.Password) < 6 {
		return fmt.Errorf("%w: password too short", ErrInvalid)
	}
	if in.Class == "" {
		in.Class = "national"
	}
	if err := checkRouting(in.Class, in.CallerID); err != nil {
		return err
	}
	f[in.Number] = &Extension{Number: in.Number, Name: in.Name, Class: in.Class, CallerID: in.CallerID, Privacy: in.Privacy}
	return nil
}
func (f fakeExts) ChangeExtension(_ context.Context, n string, c ExtensionChange) error {
	e, ok := f[n]
	if !ok {
		return fmt.Errorf("%w: extension %s", ErrNotFound, n)
	}
	next := *e
	if c.Class != nil {
		next.Class = *c.Class
	}
	if c.CallerID != nil {
		next.CallerID = *c.CallerID
	}
	if c.Privacy != nil {
		next.Privacy = *c.Privacy
	}
	if err := checkRouting(next.Class, next.CallerID); err != nil {
		return err
	}
	*e = next
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
	srv, live, _ := newTestServerExts(t, public)
	return srv, live
}

func newTestServerExts(t *testing.T, public bool) (*httptest.Server, *fakeLive, fakeExts) {
	live := &fakeLive{}
	exts := fakeExts{"1001": {Number: "1001", Class: "national"}}
	h := NewHandler(Config{PublicMetrics: public}, Deps{
		Tokens: fakeTokens{"good": {Name: "admin", Role: "admin"}, "sup": {Name: "sue", Role: RoleSupervisor},
			"agt": {Name: "al", Role: RoleAgent}, "odd": {Name: "x", Role: "intern"}}, Live: live, Extensions: exts,
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, live, exts
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

func TestAPIExtensionRouting(t *testing.T) {
	srv, _, exts := newTestServerExts(t, true)
	cases := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/extensions", `{"number":"2000","password":"longenough","class":"international","caller_id":"+862155550100","privacy":true}`, 201},
		{"POST", "/api/v1/extensions", `{"number":"2001","password":"longenough"}`, 201},
		{"POST", "/api/v1/extensions", `{"number":"2002","password":"longenough","class":"premium"}`, 400},
		{"POST", "/api/v1/extensions", `{"number":"2002","password":"longenough","caller_id":"0215555"}`, 400},
		{"POST", "/api/v1/extensions", `{"number":"2002","password":"longenough","privacy":"yes"}`, 400},
		{"PATCH", "/api/v1/extensions/2001", `{"class":"internal"}`, 204},
		{"PATCH", "/api/v1/extensions/2001", `{"caller_id":"+862155550101","privacy":true}`, 204},
		{"PATCH", "/api/v1/extensions/2000", `{"caller_id":"","privacy":false}`, 204},
		{"PATCH", "/api/v1/extensions/2001", `{"class":"premium"}`, 400},
		{"PATCH", "/api/v1/extensions/2001", `{"caller_id":"12"}`, 400},
		{"PATCH", "/api/v1/extensions/2001", `{}`, 400},
		{"PATCH", "/api/v1/extensions/2001", `{"clas":"internal"}`, 400},
		{"PATCH", "/api/v1/extensions/9999", `{"class":"internal"}`, 404},
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
	if _, ok := exts["2002"]; ok {
		t.Error("an extension with invalid routing was added")
	}
	want := map[string]Extension{
		"2000": {Number: "2000", Class: "international"},
		"2001": {Number: "2001", Class: "internal", CallerID: "+862155550101", Privacy: true},
	}
	code, body := call(t, srv, "GET", "/api/v1/extensions", "good", "")
	list, _ := body["extensions"].([]any)
	if code != 200 || len(list) != 3 {
		t.Fatalf("list: %d %v", code, body)
	}
	for _, x := range list {
		m := x.(map[string]any)
		w, ok := want[m["number"].(string)]
		if !ok {
			continue
		}
		if m["class"] != w.Class || m["caller_id"] != w.CallerID || m["privacy"] != w.Privacy {
			t.Errorf("extension JSON %v, want class %q caller_id %q privacy %v", m, w.Class, w.CallerID, w.Privacy)
		}
	}
}

// TestAPIRoles: each endpoint needs its role — agents see only whoami,
// supervisors read, admins change — and a token of an unknown role is
// allowed nothing. Refusals are 403 with a JSON error naming the role.
func TestAPIRoles(t *testing.T) {
	srv, _ := newTestServer(t, false)
	cases := []struct {
		method, path, body string
		min                string
	}{
		{"GET", "/api/v1/whoami", "", RoleAgent},
		{"GET", "/api/v1/registrations", "", RoleSupervisor},
		{"GET", "/api/v1/extensions", "", RoleSupervisor},
		{"GET", "/api/v1/bans", "", RoleSupervisor},
		{"GET", "/metrics", "", RoleSupervisor},
		{"POST", "/api/v1/extensions", `{"number":"1777","password":"secret-77"}`, RoleAdmin},
		{"DELETE", "/api/v1/bans/192.0.2.1", "", RoleAdmin},
		{"GET", "/debug/pprof/", "", RoleAdmin},
	}
	tokens := map[string]string{RoleAgent: "agt", RoleSupervisor: "sup", RoleAdmin: "good"}
	for _, c := range cases {
		for _, role := range Roles() {
			code, body := call(t, srv, c.method, c.path, tokens[role], c.body)
			allowed := roleRank(role) >= roleRank(c.min)
			switch {
			case allowed && (code == http.StatusForbidden || code == http.StatusUnauthorized):
				t.Errorf("%s %s as %s: %d %v, want allowed", c.method, c.path, role, code, body)
			case !allowed && (code != http.StatusForbidden || !strings.Contains(fmt.Sprint(body["error"]), c.min)):
				t.Errorf("%s %s as %s: %d %v, want 403 naming %s", c.method, c.path, role, code, body, c.min)
			}
		}
		if code, _ := call(t, srv, c.method, c.path, "odd", c.body); code != http.StatusForbidden {
			t.Errorf("%s %s with an unknown role: %d, want 403", c.method, c.path, code)
		}
	}
}
