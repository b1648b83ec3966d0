package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/store"
)

// freeTCPPort returns a loopback port free right now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startLive runs a switch in-process from a config file as an admin would
// write it (loopback SIP and HTTP on free ports, no flows, then extra
// YAML), until the test ends. It returns the config's path and the loaded
// config.
func startLive(t *testing.T, extra string) (string, *server.Config) {
	t.Helper()
	dir := t.TempDir()
	sipPort, httpPort := freeTCPPort(t), freeTCPPort(t)
	cfgPath := filepath.Join(dir, "switchd.yaml")
	text := fmt.Sprintf("data_dir: %s\nsip:\n  listen: [udp://127.0.0.1:%d]\n  qualify_interval: 0s\nhttp:\n  listen: 127.0.0.1:%d\nivr:\n  dir: %s\n",
		dir, sipPort, httpPort, filepath.Join(dir, "no-flows")) + extra
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Media.BindAddress = "127.0.0.1"
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cfgPath, cfg
}

// TestLiveTrunksAndVoicemail runs a switch in-process from a config file
// and drives `switchd trunks` and `switchd voicemail list` against it the
// way an admin would: the token from data_dir, the API from http.listen.
func TestLiveTrunksAndVoicemail(t *testing.T) {
	cfgPath, cfg := startLive(t, `trunks:
  - name: carrier-a
    host: 127.0.0.2
    inbound: {addresses: [127.0.0.2]}
    max_channels: 30
`)
	// A message, as an IVR voicemail node stores it (the database is shared, WAL).
	st, err := store.Open(t.Context(), cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.AddVoicemail(t.Context(), store.Voicemail{CallID: "call-9", Caller: "+8613800000009", Box: "sales",
		Path: "/var/voicemail/call-9.wav", Duration: 4200 * time.Millisecond, At: time.Now()})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	var out string
	deadline := time.Now().Add(5 * time.Second)
	for {
		if out, err = run(t, "trunks", "-c", cfgPath); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || !strings.Contains(out, "carrier-a") || !strings.Contains(out, "127.0.0.2:5060") || !strings.Contains(out, "0/30") {
		t.Fatalf("switchd trunks: %v\n%s", err, out)
	}
	out, err = run(t, "voicemail", "list", "--box", "sales", "-c", cfgPath)
	if err != nil || !strings.Contains(out, "+8613800000009") || !strings.Contains(out, "4.2s") || !strings.Contains(out, "call-9") {
		t.Fatalf("switchd voicemail list: %v\n%s", err, out)
	}
	out, err = run(t, "voicemail", "list", "--box", "support", "-c", cfgPath)
	if err != nil || strings.Contains(out, "call-9") {
		t.Fatalf("another box lists the message: %v\n%s", err, out)
	}
}

// TestLiveUserRoles: `switchd user add` makes tokens whose role the
// running switch enforces: a supervisor reads CDRs but may not add
// extensions; an agent may not read CDRs; a removed user is refused.
func TestLiveUserRoles(t *testing.T) {
	cfgPath, cfg := startLive(t, "")
	token := func(name, role string) string {
		out, err := run(t, "user", "add", name, "--role", role, "-c", cfgPath)
		if err != nil {
			t.Fatalf("user add %s: %v", name, err)
		}
		return strings.TrimSpace(out)
	}
	sup, agent := token("sue", "supervisor"), token("al", "agent")
	if _, err := run(t, "user", "add", "bob", "--role", "root", "-c", cfgPath); err == nil {
		t.Fatal("user add accepted role root")
	}
	status := func(method, path, tok string) int {
		req, _ := http.NewRequest(method, "http://"+cfg.HTTP.Listen+path, strings.NewReader(`{"number":"1777","password":"secret-77"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if c := status("GET", "/api/v1/cdrs", sup); c != 200 {
		t.Fatalf("supervisor GET cdrs: %d", c)
	}
	if c := status("POST", "/api/v1/extensions", sup); c != 403 {
		t.Fatalf("supervisor POST extensions: %d, want 403", c)
	}
	if c := status("GET", "/api/v1/cdrs", agent); c != 403 {
		t.Fatalf("agent GET cdrs: %d, want 403", c)
	}
	out, err := run(t, "user", "list", "-c", cfgPath)
	if err != nil || !strings.Contains(out, "sue") || !strings.Contains(out, "supervisor") || !strings.Contains(out, "admin") {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if _, err := run(t, "user", "remove", "sue", "-c", cfgPath); err != nil {
		t.Fatal(err)
	}
	if c := status("GET", "/api/v1/cdrs", sup); c != 401 {
		t.Fatalf("removed user GET cdrs: %d, want 401", c)
	}
}

// TestLiveAgentCommands: against a running switch, `agent add` reaches the
// engine without a restart (sync), `agent login`/`state`/`status` change
// and show the live state, and `queue list` shows the queue; an agent's
// own token may change only their own state.
func TestLiveAgentCommands(t *testing.T) {
	queueDir := filepath.Join(t.TempDir(), "queues")
	if err := os.MkdirAll(queueDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(queueDir, "q.yaml"), []byte("queues:\n  - name: sales\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath, _ := startLive(t, "acd:\n  dir: "+queueDir+"\n")

	mustRun := func(args ...string) string {
		t.Helper()
		out, err := run(t, append(args, "-c", cfgPath)...)
		if err != nil {
			t.Fatalf("switchd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	mustRun("agent", "add", "ann", "--device", "2001", "--queue", "sales")
	mustRun("agent", "login", "ann")
	if out := mustRun("agent", "status", "ann"); !strings.Contains(out, "available") {
		t.Fatalf("after login: %s", out)
	}
	mustRun("agent", "state", "ann", "not-ready", "--reason", "lunch")
	if out := mustRun("agent", "status", "ann", "--json"); !strings.Contains(out, `"not_ready"`) || !strings.Contains(out, `"lunch"`) {
		t.Fatalf("after not-ready: %s", out)
	}
	if out := mustRun("queue", "list"); !strings.Contains(out, "sales") {
		t.Fatalf("queue list: %s", out)
	}
	// Ann's own token: her state only.
	mustRun("agent", "add", "bob", "--device", "2002", "--queue", "sales")
	tok := strings.TrimSpace(mustRun("user", "add", "ann", "--role", "agent"))
	if _, err := run(t, "agent", "login", "bob", "-c", cfgPath, "--token", tok); err == nil {
		t.Fatal("ann's agent token logged bob in")
	}
	if _, err := run(t, "agent", "state", "ann", "available", "-c", cfgPath, "--token", tok); err != nil {
		t.Fatalf("ann's token on her own state: %v", err)
	}
	if out := mustRun("agent", "status", "ann"); !strings.Contains(out, "available") {
		t.Fatalf("after her own change: %s", out)
	}
}
