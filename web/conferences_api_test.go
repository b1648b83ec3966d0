package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchd/switchd/internal/golden"
)

// fakeConferences is a hand-written Conferences for the HTTP layer: it
// answers from fixed rooms, records what it was asked, and wraps
// ErrNotFound for an unknown room or participant as the switch does.
type fakeConferences struct {
	mu       sync.Mutex
	rooms    []Conference
	failWith error // when set, every method fails with it
	changes  []string
}

var _ Conferences = (*fakeConferences)(nil)

func newFakeConferences() *fakeConferences {
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	return &fakeConferences{rooms: []Conference{
		{Name: "huddle", Number: "8001", PIN: true, Max: 10, Participants: []ConferenceParticipant{
			{CallID: "c1", Caller: "+442071234567", Name: "Bob", Joined: t0},
			{CallID: "c2", Caller: "1002", Joined: t0.Add(90 * time.Second), Muted: true},
		}},
		{Name: "empty", Number: "8002"}, // nil participants: listed as []
	}}
}

// participant reports whether the room exists and has the call, wrapping
// ErrNotFound for the one that does not.
func (f *fakeConferences) participant(room, callID string) error {
	for _, c := range f.rooms {
		if c.Name != room {
			continue
		}
		for _, p := range c.Participants {
			if p.CallID == callID {
				return nil
			}
		}
		return fmt.Errorf("%w: call %s is not in room %s", ErrNotFound, callID, room)
	}
	return fmt.Errorf("%w: room %s", ErrNotFound, room)
}

func (f *fakeConferences) ListConferences(context.Context) ([]Conference, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return nil, f.failWith
	}
	return f.rooms, nil
}

func (f *fakeConferences) Kick(_ context.Context, room, callID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if err := f.participant(room, callID); err != nil {
		return err
	}
	f.changes = append(f.changes, fmt.Sprintf("kick %s %s", room, callID))
	return nil
}

func (f *fakeConferences) Mute(_ context.Context, room, callID string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return f.failWith
	}
	if err := f.participant(room, callID); err != nil {
		return err
	}
	f.changes = append(f.changes, fmt.Sprintf("mute %s %s %t", room, callID, muted))
	return nil
}

func (f *fakeConferences) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changes
	f.changes = nil
	return out
}

func conferenceHandler(f *fakeConferences) http.Handler {
	d := Deps{Tokens: acdTokens, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)}
	if f != nil {
		d.Conferences = f
	}
	return NewHandler(Config{}, d)
}

func newConferenceServer(t *testing.T, f *fakeConferences) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(conferenceHandler(f))
	t.Cleanup(srv.Close)
	return srv
}

var conferenceEndpoints = []struct{ method, path, body string }{
	{"GET", "/api/v1/conferences", ""},
	{"POST", "/api/v1/conferences/huddle/participants/c1/kick", ""},
	{"POST", "/api/v1/conferences/huddle/participants/c1/mute", `{"muted":true}`},
}

func TestConferencesUnavailable(t *testing.T) {
	srv := newConferenceServer(t, nil)
	for _, c := range conferenceEndpoints {
		code, body := call(t, srv, c.method, c.path, "adm", c.body)
		if code != http.StatusServiceUnavailable || body["error"] == "" {
			t.Errorf("%s %s without conferences: %d %v", c.method, c.path, code, body)
		}
		if code, _ := call(t, srv, c.method, c.path, "", c.body); code != http.StatusUnauthorized {
			t.Errorf("%s %s without token: %d", c.method, c.path, code)
		}
	}
}

func TestConferencesRoles(t *testing.T) {
	f := newFakeConferences()
	srv := newConferenceServer(t, f)
	for _, c := range conferenceEndpoints {
		code, body := call(t, srv, c.method, c.path, "alice", c.body)
		if code != http.StatusForbidden || body["error"] == "" {
			t.Errorf("%s %s as an agent: %d %v", c.method, c.path, code, body)
		}
		want := http.StatusNoContent
		if c.method == "GET" {
			want = http.StatusOK
		}
		for _, tok := range []string{"sup", "adm"} {
			if code, body := call(t, srv, c.method, c.path, tok, c.body); code != want {
				t.Errorf("%s %s as %s: %d %v, want %d", c.method, c.path, tok, code, body, want)
			}
		}
	}
	want := []string{"kick huddle c1", "kick huddle c1", "mute huddle c1 true", "mute huddle c1 true"}
	if got := f.took(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("conferences were asked %q, want %q", got, want)
	}
}

func TestConferencesList(t *testing.T) {
	srv := newConferenceServer(t, newFakeConferences())
	code, body := call(t, srv, "GET", "/api/v1/conferences", "sup", "")
	rooms, _ := body["conferences"].([]any)
	if code != 200 || len(rooms) != 2 {
		t.Fatalf("list: %d %v", code, body)
	}
	if ps, ok := rooms[1].(map[string]any)["participants"].([]any); !ok || len(ps) != 0 {
		t.Errorf("an empty room's participants: %v, want []", rooms[1])
	}

	// No rooms at all is an empty list, not null.
	srv = newConferenceServer(t, &fakeConferences{})
	if code, body := call(t, srv, "GET", "/api/v1/conferences", "sup", ""); code != 200 || body["conferences"] == nil {
		t.Errorf("no rooms: %d %v", code, body)
	}
}

func TestConferencesChangesAndErrors(t *testing.T) {
	f := newFakeConferences()
	srv := newConferenceServer(t, f)
	const p = "/api/v1/conferences/"
	cases := []struct {
		path, body string
		want       int
	}{
		{p + "huddle/participants/c2/mute", `{"muted":false}`, 204},
		{p + "huddle/participants/c1/mute", `{"muted":true}`, 204},
		{p + "huddle/participants/c1/mute", `{}`, 400},
		{p + "huddle/participants/c1/mute", `{"muted":null}`, 400},
		{p + "huddle/participants/c1/mute", `{"muted":"yes"}`, 400},
		{p + "huddle/participants/c1/mute", `{"muted":1}`, 400},
		{p + "huddle/participants/c1/mute", `{"muted":true,"loud":false}`, 400},
		{p + "huddle/participants/c1/mute", `{"muted":true} {}`, 400},
		{p + "huddle/participants/c1/mute", `[true]`, 400},
		{p + "huddle/participants/c1/mute", `not json`, 400},
		{p + "huddle/participants/c1/mute", ``, 400},
		{p + "huddle/participants/c9/mute", `{"muted":true}`, 404},
		{p + "nowhere/participants/c1/mute", `{"muted":true}`, 404},
		{p + "huddle/participants/c1/kick", ``, 204},
		{p + "huddle/participants/c9/kick", ``, 404},
		{p + "nowhere/participants/c1/kick", ``, 404},
		{p + "huddle/participants/c1/deafen", ``, 404},
	}
	for _, c := range cases {
		code, body := call(t, srv, "POST", c.path, "sup", c.body)
		if code != c.want {
			t.Errorf("POST %s %s: %d %v, want %d", c.path, c.body, code, body, c.want)
		}
		if code >= 400 && body["error"] == "" {
			t.Errorf("POST %s %s: error body %v", c.path, c.body, body)
		}
	}
	want := []string{"mute huddle c2 false", "mute huddle c1 true", "kick huddle c1"}
	if got := f.took(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("conferences were asked %q, want %q", got, want)
	}
	// Another method is an unknown endpoint (the /api/ catch-all).
	if code, body := call(t, srv, "GET", p+"huddle/participants/c1/kick", "sup", ""); code != http.StatusNotFound || body["error"] == "" {
		t.Errorf("GET of kick: %d %v, want 404", code, body)
	}

	// A failure of the conferences themselves is a 500 without its details.
	f.failWith = errors.New("mixer exploded at 0xdeadbeef")
	for _, c := range conferenceEndpoints {
		code, body := call(t, srv, c.method, c.path, "sup", c.body)
		if code != 500 || strings.Contains(fmt.Sprint(body["error"]), "deadbeef") {
			t.Errorf("%s %s with failing conferences: %d %v", c.method, c.path, code, body)
		}
	}
	f.failWith = fmt.Errorf("%w: participant is leaving", ErrConflict)
	if code, _ := call(t, srv, "POST", p+"huddle/participants/c1/kick", "sup", ""); code != 409 {
		t.Errorf("kick with a conflict: %d", code)
	}
}

// TestConferencesGolden pins the JSON the CLI and dashboards read: each
// file in testdata/conferences is a request (-- want -- the status and
// body).
func TestConferencesGolden(t *testing.T) {
	h := conferenceHandler(newFakeConferences())
	for _, c := range golden.Cases(t, "testdata/conferences/*.txt", "request") {
		t.Run(c.Name, func(t *testing.T) {
			c.Check(t, serveGolden(h, c.Input), *update)
		})
	}
}

// FuzzConferenceMuteBody sends arbitrary bodies to the mute endpoint: the
// answer is always 204 (and the room was asked exactly once, with the
// value of a valid body) or a 4xx with a JSON error and no change, never
// a panic or a 5xx.
func FuzzConferenceMuteBody(f *testing.F) {
	for _, s := range []string{
		`{"muted":true}`, `{"muted":false}`, `{"muted": true }`, `{}`, `{"muted":null}`, `{"muted":"true"}`,
		`{"muted":0}`, `{"muted":true,"muted":false}`, `{"muted":true,"x":1}`, `{"Muted":true}`, `[]`, `null`,
		`{"muted":true}x`, `{"muted":true} {"muted":false}`, "", "\xff", `{"muted":tru`,
	} {
		f.Add(s)
	}
	fake := newFakeConferences()
	h := conferenceHandler(fake)
	const path = "/api/v1/conferences/huddle/participants/c1/mute"
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sup")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		took := fake.took()
		switch {
		case rec.Code == http.StatusNoContent:
			dec := json.NewDecoder(strings.NewReader(body))
			dec.DisallowUnknownFields()
			var b MuteBody
			if err := dec.Decode(&b); err != nil || b.validate() != nil {
				t.Fatalf("POST %s %q: accepted an invalid body (%v)", path, body, err)
			}
			if want := fmt.Sprintf("mute huddle c1 %t", *b.Muted); len(took) != 1 || took[0] != want {
				t.Fatalf("POST %s %q: 204 after asking %q, want %q", path, body, took, want)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var e errorBody
			if err := json.NewDecoder(io.LimitReader(rec.Body, 1<<20)).Decode(&e); err != nil || e.Error == "" {
				t.Fatalf("POST %s %q: %d without a JSON error: %q", path, body, rec.Code, rec.Body.String())
			}
			if len(took) != 0 {
				t.Fatalf("POST %s %q: %d after a change %q", path, body, rec.Code, took)
			}
		default:
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
		}
	})
}
