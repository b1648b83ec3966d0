package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchd/switchd/web"
)

// As the ACD tests do, these run the real HTTP API (web.NewHandler) on
// loopback with hand-written conferences behind it, and the CLI finds it
// as it finds a running switch: http.listen and <data_dir>/admin.token.

// cliConferences are the rooms behind the test API. An unknown room or
// participant is web.ErrNotFound, as in the switch.
type cliConferences struct {
	mu      sync.Mutex
	rooms   []web.Conference
	changes []string
}

var _ web.Conferences = (*cliConferences)(nil)

func (f *cliConferences) ListConferences(context.Context) ([]web.Conference, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rooms, nil
}

func (f *cliConferences) find(room, callID string) error {
	for _, r := range f.rooms {
		if r.Name != room {
			continue
		}
		for _, p := range r.Participants {
			if p.CallID == callID {
				return nil
			}
		}
		return fmt.Errorf("%w: call %s is not in room %s", web.ErrNotFound, callID, room)
	}
	return fmt.Errorf("%w: room %s", web.ErrNotFound, room)
}

func (f *cliConferences) Kick(_ context.Context, room, callID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.find(room, callID); err != nil {
		return err
	}
	f.changes = append(f.changes, fmt.Sprintf("kick %s %s", room, callID))
	return nil
}

func (f *cliConferences) Mute(_ context.Context, room, callID string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.find(room, callID); err != nil {
		return err
	}
	f.changes = append(f.changes, fmt.Sprintf("mute %s %s %t", room, callID, muted))
	return nil
}

func (f *cliConferences) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changes
	f.changes = nil
	return out
}

// conferenceFixture serves the API with fake rooms and writes a config
// pointing at it, with the admin token in its data_dir. It returns the
// config.
func conferenceFixture(t *testing.T) (string, *cliConferences) {
	t.Helper()
	t.Setenv("SWITCHD_TOKEN", "") // the token comes from data_dir, as an admin's would
	t0 := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	f := &cliConferences{rooms: []web.Conference{
		{Name: "huddle", Number: "8001", PIN: true, Max: 10, Participants: []web.ConferenceParticipant{
			{CallID: "c1", Caller: "+442071234567", Name: "Bob", Joined: t0},
			{CallID: "c2", Caller: "1002", Joined: t0.Add(time.Minute), Muted: true},
		}},
		{Name: "board room", Number: "8002"},
	}}
	srv := httptest.NewServer(web.NewHandler(web.Config{}, web.Deps{
		Tokens: cliTokens{
			"admin-token": {Name: "admin", Role: web.RoleAdmin},
			"sue-token":   {Name: "sue", Role: web.RoleSupervisor},
			"alice-token": {Name: "alice", Role: web.RoleAgent},
		},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler), Conferences: f,
	}))
	t.Cleanup(srv.Close)
	return writeLiveConfig(t, strings.TrimPrefix(srv.URL, "http://"), true), f
}

func TestConferenceList(t *testing.T) {
	cfg, f := conferenceFixture(t)
	out, _, err := runCLI(t, "conference", "list", "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 5 || strings.Join(strings.Fields(lines[0]), " ") != "ROOM NUMBER PIN PARTICIPANTS" {
		t.Fatalf("conference list: %v\n%s", err, out)
	}
	if f := strings.Fields(lines[1]); strings.Join(f, " ") != "huddle 8001 yes 2/10" {
		t.Errorf("huddle: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "  c1 ") || !strings.Contains(lines[2], "+442071234567 (Bob)") ||
		!strings.HasSuffix(lines[2], " -") {
		t.Errorf("participant c1: %q", lines[2])
	}
	joined := f.rooms[0].Participants[1].Joined.Local().Format(time.DateTime)
	if !strings.HasPrefix(lines[3], "  c2 ") || !strings.Contains(lines[3], joined) || !strings.HasSuffix(lines[3], " muted") {
		t.Errorf("participant c2 (joined %s, muted): %q", joined, lines[3])
	}
	if !strings.HasPrefix(lines[4], "board room ") || strings.Join(strings.Fields(lines[4])[2:], " ") != "8002 no 0" {
		t.Errorf("empty room: %q", lines[4])
	}

	out, _, err = runCLI(t, "conference", "list", "--json", "--token", "sue-token", "-c", cfg)
	var rooms []web.Conference
	if err != nil || json.Unmarshal([]byte(out), &rooms) != nil || len(rooms) != 2 || len(rooms[0].Participants) != 2 ||
		!rooms[0].Participants[1].Muted || rooms[1].Participants == nil {
		t.Fatalf("conference list --json: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "conference", "list", "--token", "alice-token", "-c", cfg); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("an agent listed the rooms: %v", err)
	}
}

func TestConferenceKickAndMute(t *testing.T) {
	cfg, f := conferenceFixture(t)
	ok := []struct {
		args      []string
		out, want string
	}{
		{[]string{"conference", "mute", "huddle", "c1"}, "call c1 muted in room huddle", "mute huddle c1 true"},
		{[]string{"conference", "mute", "huddle", "c2", "--off"}, "call c2 unmuted in room huddle", "mute huddle c2 false"},
		{[]string{"conference", "kick", "huddle", "c2", "--token", "sue-token"}, "call c2 kicked from room huddle", "kick huddle c2"},
	}
	for _, c := range ok {
		out, _, err := runCLI(t, append(c.args, "-c", cfg)...)
		if err != nil || !strings.Contains(out, c.out) {
			t.Errorf("%v: %v %q", c.args, err, out)
		}
		if got := f.took(); len(got) != 1 || got[0] != c.want {
			t.Errorf("%v: the switch was asked %q, want %q", c.args, got, c.want)
		}
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"conference", "kick", "huddle", "c9"}, "404"},
		{[]string{"conference", "mute", "nowhere", "c1"}, "404"},
		{[]string{"conference", "mute", "board room", "c1"}, "not in room board room"}, // the room name is escaped
		{[]string{"conference", "kick", "huddle", "c1", "--token", "alice-token"}, "403"},
		{[]string{"conference", "mute", "huddle", "c1", "--token", "wrong"}, "401"},
		{[]string{"conference", "kick", "huddle"}, "accepts 2 arg(s)"},
	}
	for _, c := range bad {
		_, _, err := runCLI(t, append(c.args, "-c", cfg)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	if got := f.took(); len(got) != 0 {
		t.Errorf("failed commands changed %q", got)
	}
}

// TestConferenceNoSwitch: the API without conferences is a 503 the
// command reports.
func TestConferenceNoSwitch(t *testing.T) {
	t.Setenv("SWITCHD_TOKEN", "")
	srv := httptest.NewServer(web.NewHandler(web.Config{}, web.Deps{
		Tokens:   cliTokens{"admin-token": {Name: "admin", Role: web.RoleAdmin}},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	}))
	t.Cleanup(srv.Close)
	cfg := writeLiveConfig(t, strings.TrimPrefix(srv.URL, "http://"), true)
	if _, _, err := runCLI(t, "conference", "list", "-c", cfg); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("conference list without conferences: %v", err)
	}
}
