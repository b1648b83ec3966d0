package ivr

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

func flowSaying(text string) string {
	return `
start: menu
nodes:
  menu:
    type: menu
    prompt: ` + text + `
    options: {"1": done}
    timeout: 5s
  done: {type: hangup}
`
}

func TestReloadKeepsOldSetOnErrors(t *testing.T) {
	dir := writeFlows(t, map[string]string{"main.yaml": flowSaying("v1")})
	var logs bytes.Buffer
	lib, problems, err := NewLibrary(dir, Checker{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || len(problems) != 0 {
		t.Fatalf("NewLibrary: %v %v", err, problems)
	}
	v1 := lib.Current()
	if v1 == nil || v1.Version() == "" {
		t.Fatal("no set installed")
	}

	// An invalid edit: problems reported and logged, the old set stays.
	write(t, dir, "main.yaml", "start: menu\nnodes:\n  menu:\n    type: menu\n    next: nowhere\n")
	problems, err = lib.Reload()
	if err != nil || !HasErrors(problems) {
		t.Fatalf("Reload of an invalid edit: %v %v", err, problems)
	}
	if lib.Current() != v1 {
		t.Error("invalid edit replaced the set")
	}
	if !strings.Contains(logs.String(), "ivr_flows_rejected") || !strings.Contains(logs.String(), "main.yaml:5") {
		t.Errorf("errors not logged:\n%s", logs.String())
	}

	// A valid edit swaps.
	write(t, dir, "main.yaml", flowSaying("v2"))
	if problems, err := lib.Reload(); err != nil || len(problems) != 0 {
		t.Fatalf("Reload: %v %v", err, problems)
	}
	v2 := lib.Current()
	if v2 == v1 || v2.Version() == v1.Version() {
		t.Fatal("valid edit not installed")
	}
	if f, ok := v2.Flow("main"); !ok || f.Start() != "menu" {
		t.Errorf("flow main: %v %v", f, ok)
	}

	// A new file that breaks a reference of another is refused as a whole.
	write(t, dir, "other.yaml", "start: t\nnodes:\n  t: {type: transfer, flow: missing}\n")
	if problems, _ := lib.Reload(); !HasErrors(problems) || lib.Current() != v2 {
		t.Errorf("set with a bad file installed: %v", problems)
	}
}

func TestNewLibraryErrors(t *testing.T) {
	if _, _, err := NewLibrary(filepath.Join(t.TempDir(), "missing"), Checker{}, nil); err == nil {
		t.Error("no error for a missing directory")
	}
	dir := writeFlows(t, map[string]string{"main.yaml": "start: x\n"})
	lib, problems, err := NewLibrary(dir, Checker{}, nil)
	if err != nil || !HasErrors(problems) || lib.Current() != nil {
		t.Fatalf("invalid first load: %v %v %v", err, problems, lib.Current())
	}
	if out := lib.Current().Run(context.Background(), "main", newFake(t), Env{}); out.Err == nil {
		t.Error("Run on no set did not fail")
	}
	write(t, dir, "main.yaml", flowSaying("fixed"))
	if _, err := lib.Reload(); err != nil || lib.Current() == nil {
		t.Errorf("fixed flows not installed: %v", err)
	}
}

// TestRunKeepsItsSet reloads while calls wait in a menu: each call
// finishes on the version it started with, and none is lost.
func TestRunKeepsItsSet(t *testing.T) {
	dir := writeFlows(t, map[string]string{"main.yaml": flowSaying("old")})
	lib, _, err := NewLibrary(dir, Checker{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const calls = 20
	type result struct {
		out   Outcome
		texts []string
	}
	results := make(chan result, calls)
	var started sync.WaitGroup
	release := make(chan struct{})
	for range calls {
		started.Add(1)
		set := lib.Current() // as the server does when a call arrives
		go func() {
			sess := newFake(t)
			sess.inputs = []string{"1"}
			gate := &gatedSession{fakeSession: sess, started: &started, release: release}
			out := set.Run(context.Background(), "main", gate, Env{})
			results <- result{out, sess.texts()}
		}()
	}
	started.Wait() // every call is in its menu
	write(t, dir, "main.yaml", flowSaying("new"))
	if _, err := lib.Reload(); err != nil {
		t.Fatal(err)
	}
	close(release)
	for range calls {
		r := <-results
		if r.out.Kind != OutcomeHangup || r.out.Err != nil || len(r.texts) != 1 || r.texts[0] != "old" {
			t.Errorf("call: %+v %q", r.out, r.texts)
		}
	}
	sess := newFake(t, "1")
	lib.Current().Run(context.Background(), "main", sess, Env{})
	if got := sess.texts(); len(got) != 1 || got[0] != "new" {
		t.Errorf("new call heard %q", got)
	}
}

// gatedSession holds Collect until release is closed.
type gatedSession struct {
	*fakeSession
	started *sync.WaitGroup
	release chan struct{}
	once    sync.Once
}

func (g *gatedSession) Collect(ctx context.Context, spec call.CollectSpec) (string, error) {
	g.once.Do(g.started.Done)
	<-g.release
	return g.fakeSession.Collect(ctx, spec)
}

func TestWatch(t *testing.T) {
	dir := writeFlows(t, map[string]string{"main.yaml": flowSaying("v1")})
	lib, _, err := NewLibrary(dir, Checker{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := lib.Current()
	goroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		lib.Watch(ctx, 10*time.Millisecond)
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}

	write(t, dir, "main.yaml", flowSaying("version two"))
	waitFor("the changed file", func() bool { return lib.Current() != v1 })
	v2 := lib.Current()

	// An invalid edit is seen but not installed; fixing it is.
	write(t, dir, "broken.yaml", "start: [")
	time.Sleep(50 * time.Millisecond)
	if lib.Current() != v2 {
		t.Error("broken file installed")
	}
	if err := os.Remove(filepath.Join(dir, "broken.yaml")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "second.yaml", flowSaying("second"))
	waitFor("a new file", func() bool { _, ok := lib.Current().Flow("second"); return ok })

	// Files that are not flows do not trigger reloads.
	v3 := lib.Current()
	write(t, dir, "README.md", "notes")
	write(t, dir, ".main.yaml.swp", "junk")
	time.Sleep(50 * time.Millisecond)
	if lib.Current() != v3 {
		t.Error("a non-flow file changed the set")
	}

	cancel()
	<-done
	waitFor("goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// write replaces a file and moves its modification time on, so that a
// change within the file system's timestamp granularity is still seen.
func write(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, name)
	old, statErr := os.Stat(p)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if statErr == nil {
		mt := old.ModTime().Add(time.Second)
		_ = os.Chtimes(p, mt, mt)
	}
}
