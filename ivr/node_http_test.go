package ivr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func httpFlow(url string) string {
	return fmt.Sprintf(`
start: lookup
nodes:
  lookup:
    type: http
    method: POST
    url: %s/customers/${caller}?dialled=${dialled}&q=${query}
    headers:
      X-Call: ${call_id}
    body: '{"caller": "${caller}", "note": "${query}"}'
    timeout: 200ms
    map:
      tier: customer.tier
      level: customer.levels[1]
      active: active
      missing: nothing.here
      blob: customer.tags
    next: route
    failure: failed
  route:
    type: branch
    cases:
      - if: tier == "vip" && level >= 2
        next: vip
    else: normal
  vip: {type: enqueue, queue: vip, priority: 90}
  normal: {type: enqueue, queue: normal}
  failed: {type: enqueue, queue: fallback}
vars:
  query: 'a "quoted" & odd/value'
`, url)
}

func TestHTTPNode(t *testing.T) {
	var mu sync.Mutex
	var gotPath, gotQuery, gotCall, gotType string
	var gotBody map[string]string
	status, delay := http.StatusOK, time.Duration(0)
	answer := `{"customer": {"tier": "vip", "levels": [1, 3], "tags": ["a","b"]}, "active": true}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotPath, gotQuery, gotCall, gotType = r.URL.EscapedPath(), r.URL.Query().Get("q"), r.Header.Get("X-Call"), r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		gotBody = nil
		_ = json.Unmarshal(b, &gotBody)
		st, d, a := status, delay, answer
		mu.Unlock()
		if d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(st)
		io.WriteString(w, a)
	}))
	defer srv.Close()
	set := mustSet(t, map[string]string{"h.yaml": httpFlow(srv.URL)})
	run := func() Outcome {
		t.Helper()
		return set.Run(context.Background(), "h", newFake(t), Env{HTTP: srv.Client()})
	}

	out := run()
	if out.Queue != "vip" {
		t.Fatalf("success: %+v", out)
	}
	v := out.Vars
	if v["tier"] != "vip" || v["level"] != "3" || v["active"] != "true" || v["missing"] != "" || v["blob"] != `["a","b"]` {
		t.Errorf("mapped vars = %v", v)
	}
	mu.Lock()
	if gotPath != "/customers/%2B442071234567" || gotQuery != `a "quoted" & odd/value` || gotCall != string(newFake(t).CallID()) || gotType != "application/json" {
		t.Errorf("request path %q, q %q, X-Call %q, type %q", gotPath, gotQuery, gotCall, gotType)
	}
	if gotBody["caller"] != "+442071234567" || gotBody["note"] != `a "quoted" & odd/value` {
		t.Errorf("body = %v", gotBody)
	}
	mu.Unlock()

	for _, tc := range []struct {
		name   string
		status int
		delay  time.Duration
		answer string
		queue  string
	}{
		{"non-2xx", http.StatusNotFound, 0, `{}`, "fallback"},
		{"server error", http.StatusInternalServerError, 0, `{"customer": {"tier": "vip"}}`, "fallback"},
		{"timeout", http.StatusOK, 2 * time.Second, `{}`, "fallback"},
		{"not json", http.StatusOK, 0, `<html>`, "fallback"},
		{"not vip", http.StatusOK, 0, `{"customer": {"tier": "gold"}}`, "normal"},
	} {
		mu.Lock()
		status, delay, answer = tc.status, tc.delay, tc.answer
		mu.Unlock()
		start := time.Now()
		out := run()
		if out.Queue != tc.queue {
			t.Errorf("%s: %+v", tc.name, out)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v (timeout 200ms)", tc.name, d)
		}
		if tc.queue == "fallback" && out.Vars["tier"] != "" {
			t.Errorf("%s: tier set on failure: %v", tc.name, out.Vars)
		}
	}
}

func TestHTTPUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	set := mustSet(t, map[string]string{"h.yaml": httpFlow(url)})
	if out := set.Run(context.Background(), "h", newFake(t), Env{}); out.Queue != "fallback" {
		t.Errorf("outcome = %+v", out)
	}
}

func TestJSONLookup(t *testing.T) {
	var doc any
	_ = json.Unmarshal([]byte(`{"a": {"b": [{"c": "x"}, {"c": null}], "n": 1.50}, "m": [[1, 2]]}`), &doc)
	for path, want := range map[string]string{
		"a.b[0].c": "x", "a.b[1].c": "", "a.b[2].c": "", "a.n": "1.5", "m[0][1]": "2", "a.b.c": "", "z": "",
	} {
		if got := jsonString(jsonLookup(doc, path)); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if !strings.Contains(jsonString(jsonLookup(doc, "a.b")), `"c":"x"`) {
		t.Error("a list is not kept as JSON")
	}
}
