package server_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/recordings"
	"github.com/switchd/switchd/sip/siptest"
)

// killChildEnv names the configuration file a child process of
// TestRecordingSurvivesKill serves.
const killChildEnv = "SWITCHD_TEST_KILL_CHILD_CONFIG"

// killChild runs switchd on the configuration named by killChildEnv until
// it is killed; it prints the SIP and HTTP addresses when ready.
func killChild(t *testing.T, path string) {
	cfg, err := server.LoadConfig(path)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	go srv.Run(context.Background())
	udp := ""
	for _, a := range srv.SIPAddrs() {
		if rest, ok := strings.CutPrefix(a, "udp://"); ok {
			udp = rest
		}
	}
	fmt.Println("READY", udp, srv.HTTPAddr())
	select {} // until SIGKILL
}

// TestRecordingSurvivesKill: a call to a service number is recorded
// (mode always) in a child switchd, which is killed with SIGKILL 6 s into
// the call, between two header rewrites. Restarted on the same data, the
// switch repairs the WAV from its length: sox (and our reader) see a
// duration within 1 s of the time of the kill, and the index says
// repaired.
func TestRecordingSurvivesKill(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		killChild(t, path)
		return
	}
	t.Parallel()
	cfg := scConfig(t, func(c *server.Config) {
		c.Recordings.Mode = "always"
		c.Services = []server.ServiceConfig{{Number: "*97", Name: "hold line", Then: "wait"}}
	})
	sipPort := strings.TrimPrefix(cfg.SIP.Listen[0], "udp://127.0.0.1:")
	cfgPath := filepath.Join(t.TempDir(), "switchd.yaml")
	yaml := fmt.Sprintf(`data_dir: %s
sip:
  listen: [udp://127.0.0.1:%s]
  qualify_interval: 0s
http:
  listen: 127.0.0.1:0
media:
  rtp_ports: %d-%d
ivr:
  dir: %s
recordings:
  mode: always
services:
  - {number: "*97", name: hold line, then: wait}
`, cfg.DataDir, sipPort, cfg.Media.RTPPorts.Min, cfg.Media.RTPPorts.Max, filepath.Join(t.TempDir(), "no-flows"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordingSurvivesKill$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+cfgPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 0 && (f[0] == "READY" || f[0] == "ERROR") {
				ready <- f
				return
			}
		}
		ready <- nil
	}()
	var f []string
	select {
	case f = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the child switch did not start")
	}
	if len(f) != 3 || f[0] != "READY" {
		t.Fatalf("child: %v", f)
	}
	tok, err := os.ReadFile(cfg.TokenPath())
	if err != nil {
		t.Fatal(err)
	}
	child := &testServer{t: t, udpAddr: f[1], http: "http://" + f[2], token: strings.TrimSpace(string(tok)), stopped: true}
	child.addExtension(ext1001, pw1001)
	cs := &callServer{testServer: child}
	phone := cs.phone(ext1001, pw1001, toneA)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := phone.Dial(ctx, "*97", siptest.DialOptions{}); err != nil {
		t.Fatal(err)
	}
	answered := time.Now()
	time.Sleep(6 * time.Second)                // past the 5 s header rewrite, before the next
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killedAt := time.Now()
	killed = true
	cmd.Wait()
	phone.Close()

	ts := startServer(t, cfg) // the same data: recovery at start-up
	st, err := store.Open(ctx, cfg.DBPath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.ListRecordings(ctx, store.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].State != recordings.StateRepaired {
		t.Fatalf("after the restart: %+v, want one repaired recording", recs)
	}
	want := killedAt.Sub(answered)
	if d := recs[0].Duration; d < want-time.Second || d > want+time.Second {
		t.Fatalf("repaired duration %s in the index, killed %s after the answer", d, want)
	}
	soxOut, err := exec.Command("sox", "--i", "-D", recs[0].Path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i -D %s: %v\n%s (sox comes with scripts/setup.sh --test)", recs[0].Path, err, soxOut)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(soxOut)), 64)
	if err != nil {
		t.Fatalf("sox said %q", soxOut)
	}
	if d := time.Duration(secs * float64(time.Second)); d < want-time.Second || d > want+time.Second {
		t.Fatalf("sox: %s of audio, killed %s after the answer", d, want)
	}
	left, _ := recReadStereo(t, recs[0].Path)
	if n := recWindows(left, toneA); n < 15 {
		t.Fatalf("the caller's tone in %d windows of the repaired recording", n)
	}
	_ = ts
}
