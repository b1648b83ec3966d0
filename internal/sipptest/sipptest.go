// Package sipptest runs the real sipp binary (Debian package sip-tester)
// against a server under test: it writes injection files, picks free
// loopback ports, bounds every run (-m, -timeout, -nostdin) and collects
// the exit code, output, error and message logs and final statistics.
//
// A missing sipp binary fails the test: the integration suite must never
// pass by skipping its real peer.
package sipptest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// InstallHint tells the reader how to get sipp.
const InstallHint = "install sip-tester: scripts/setup.sh --test"

// Exit codes of sipp 3.6 (sipp(1) "EXIT STATUS").
const (
	ExitAllSucceeded = 0  // all calls were successful
	ExitSomeFailed   = 1  // at least one call failed
	ExitInternalStop = 97 // exit on internal command (calls may have been processed)
	ExitNoCalls      = 99 // normal exit without calls processed
	ExitFatal        = 255
	ExitBindFailed   = 254
)

var (
	lookOnce sync.Once
	lookPath string
	lookErr  error
)

// Binary returns the path of sipp, or fails the test when it is missing.
func Binary(t testing.TB) string {
	t.Helper()
	lookOnce.Do(func() {
		lookPath, lookErr = exec.LookPath("sipp")
		if lookErr != nil {
			return
		}
		out, err := exec.Command(lookPath, "-v").CombinedOutput()
		if err != nil && !bytes.Contains(out, []byte("SIPp v")) {
			lookErr = fmt.Errorf("%s -v: %v: %s", lookPath, err, out)
		}
	})
	if lookErr != nil {
		t.Fatalf("sipp is not usable (%v): %s", lookErr, InstallHint)
	}
	return lookPath
}

// User is one line of an injection file: an account sipp authenticates as.
type User struct {
	Name     string // field0: user part of From (and To unless a scenario says otherwise)
	Password string // field1 (informational; the digest uses field3)
	Domain   string // field2: host part of From/To; default 127.0.0.1
}

// Line renders the injection line. field3 holds the whole
// "[authentication username=U password=P]" keyword: sipp 3.6 cannot nest
// [field0] inside [authentication ...].
func (u User) Line() string {
	d := u.Domain
	if d == "" {
		d = "127.0.0.1"
	}
	return fmt.Sprintf("%s;%s;%s;[authentication username=%s password=%s]", u.Name, u.Password, d, u.Name, u.Password)
}

// WriteUsers writes a SEQUENTIAL injection file into dir and returns its path.
func WriteUsers(t testing.TB, dir string, users []User) string {
	t.Helper()
	if len(users) == 0 {
		t.Fatal("sipptest: WriteUsers needs at least one user")
	}
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for _, u := range users {
		for _, s := range []string{u.Name, u.Password, u.Domain} {
			if strings.ContainsAny(s, ";\n ]") {
				t.Fatalf("sipptest: %q cannot be written to an injection file", s)
			}
		}
		b.WriteString(u.Line())
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// FreePort returns a port on ip that is free for UDP and TCP at the time of
// the call (the sockets are closed again, so another process could take it).
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("sipptest: free port on %s: %v", ip, err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		ln.Close()
		if err != nil {
			continue
		}
		pc.Close()
		return port
	}
	t.Fatalf("sipptest: no port free for both UDP and TCP on %s", ip)
	return 0
}

// Options describe one sipp run.
type Options struct {
	// Scenario is the path of the XML scenario (-sf).
	Scenario string
	// OOCScenario, when set, handles requests that match no call (-oocsf).
	OOCScenario string
	// Remote is the server's host:port.
	Remote string
	// LocalIP is the address sipp binds to and writes into Via/Contact
	// (-i with -bind_local). Default 127.0.0.1.
	LocalIP string
	// LocalPort is sipp's port (-p). 0 picks a free one.
	LocalPort int
	// Transport is -t: "u1" (default) or "t1".
	Transport string
	// Calls bounds the run (-m). Default 1.
	Calls int
	// Rate is calls per second (-r). Default 10.
	Rate int
	// Timeout is sipp's global timeout (-timeout with -timeout_error). Default 15s.
	Timeout time.Duration
	// RecvTimeout aborts a call whose expected message does not come (-recv_timeout). 0: none.
	RecvTimeout time.Duration
	// Users, when set, are written to an injection file (-inf).
	Users []User
	// Keys set scenario keywords: [name] is replaced by the value (-key name value).
	Keys map[string]string
	// Args are appended as they are.
	Args []string
}

// Result is what one sipp run produced.
type Result struct {
	Args     []string
	ExitCode int
	Output   string // stdout and stderr
	Errors   string // -trace_err log
	Messages string // -trace_msg log: every message sent and received
	Stats    Stats  // last line of the -trace_stat file
	Elapsed  time.Duration
	Dir      string
	// LocalIP and LocalPort are where sipp was bound.
	LocalIP   string
	LocalPort int
}

// Summary describes the run for test failure messages.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sipp %s\nexit code %d after %s; successful calls %d, failed calls %d\n",
		strings.Join(r.Args, " "), r.ExitCode, r.Elapsed.Round(time.Millisecond),
		r.Stats.Int("SuccessfulCall(C)"), r.Stats.Int("FailedCall(C)"))
	if s := strings.TrimSpace(r.Output); s != "" {
		fmt.Fprintf(&b, "--- output\n%s\n", tail(s, 4000))
	}
	if s := strings.TrimSpace(r.Errors); s != "" {
		fmt.Fprintf(&b, "--- error log\n%s\n", tail(s, 4000))
	}
	if s := strings.TrimSpace(r.Messages); s != "" {
		fmt.Fprintf(&b, "--- message log\n%s\n", tail(s, 8000))
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// Stats is the final statistics line of sipp's -trace_stat CSV, by column.
type Stats map[string]string

// Int returns a numeric column, or -1 when it is missing or not a number.
func (s Stats) Int(col string) int {
	v, ok := s[col]
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return -1
	}
	return n
}

// Successful is the number of calls that reached the end of the scenario.
func (r *Result) Successful() int { return r.Stats.Int("SuccessfulCall(C)") }

// Failed is the number of calls that failed.
func (r *Result) Failed() int { return r.Stats.Int("FailedCall(C)") }

// Process is a sipp run in the background.
type Process struct {
	t       testing.TB
	cmd     *exec.Cmd
	out     *lockedBuffer
	res     *Result
	dir     string
	start   time.Time
	done    chan struct{}
	waitErr error
	waited  bool
	// LocalPort is the port sipp was given.
	LocalPort int
}

// Start launches sipp in the background. The test's cleanup kills it if it
// is still running.
func Start(t testing.TB, o Options) *Process {
	t.Helper()
	bin := Binary(t)
	if o.Scenario == "" || o.Remote == "" {
		t.Fatal("sipptest: Scenario and Remote are required")
	}
	scenario, err := filepath.Abs(o.Scenario)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(scenario); err != nil {
		t.Fatalf("sipptest: scenario: %v", err)
	}
	if o.LocalIP == "" {
		o.LocalIP = "127.0.0.1"
	}
	if o.LocalPort == 0 {
		o.LocalPort = FreePort(t, o.LocalIP)
	}
	if o.Transport == "" {
		o.Transport = "u1"
	}
	if o.Calls == 0 {
		o.Calls = 1
	}
	if o.Rate == 0 {
		o.Rate = 10
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	dir, err := os.MkdirTemp(t.TempDir(), "sipp-")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{
		o.Remote,
		"-sf", scenario,
		"-i", o.LocalIP, "-bind_local",
		"-p", strconv.Itoa(o.LocalPort),
		"-t", o.Transport,
		"-m", strconv.Itoa(o.Calls),
		"-r", strconv.Itoa(o.Rate),
		"-timeout", fmt.Sprintf("%dms", o.Timeout.Milliseconds()), "-timeout_error",
		"-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
		"-trace_stat", "-stf", filepath.Join(dir, "stats.csv"), "-fd", "1",
		"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
	}
	if o.OOCScenario != "" {
		ooc, err := filepath.Abs(o.OOCScenario)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "-oocsf", ooc)
	}
	if o.RecvTimeout > 0 {
		args = append(args, "-recv_timeout", strconv.FormatInt(o.RecvTimeout.Milliseconds(), 10))
	}
	if len(o.Users) > 0 {
		args = append(args, "-inf", WriteUsers(t, dir, o.Users))
	}
	for k, v := range o.Keys {
		args = append(args, "-key", k, v)
	}
	args = append(args, o.Args...)

	// A hard bound beyond sipp's own -timeout, in case sipp hangs.
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout+10*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdin = nil
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second
	p := &Process{
		t: t, cmd: cmd, out: out, dir: dir, done: make(chan struct{}), LocalPort: o.LocalPort,
		res: &Result{Args: args, Dir: dir, LocalIP: o.LocalIP, LocalPort: o.LocalPort},
	}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("sipptest: start sipp: %v", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() && !p.waited {
			t.Logf("sipp run (%s):\n%s", filepath.Base(scenario), p.Wait().Summary())
		}
	})
	return p
}

// Done is closed when sipp has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for sipp to exit and collects what it left.
func (p *Process) Wait() *Result {
	<-p.done
	r := p.res
	if p.waited {
		return r
	}
	p.waited = true
	r.Elapsed = time.Since(p.start)
	r.ExitCode = p.cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
		p.t.Errorf("sipptest: sipp: %v", p.waitErr)
	}
	r.Output = p.out.String()
	r.Errors = readIf(filepath.Join(p.dir, "errors.log"))
	r.Messages = readIf(filepath.Join(p.dir, "messages.log"))
	r.Stats = readStats(filepath.Join(p.dir, "stats.csv"))
	return r
}

// Run runs sipp to completion. When sipp picked its port itself
// (LocalPort 0) and another process took it first, the run is repeated on
// another port, up to three times.
func Run(t testing.TB, o Options) *Result {
	t.Helper()
	for attempt := 1; ; attempt++ {
		r := Start(t, o).Wait()
		if o.LocalPort != 0 || r.ExitCode != ExitBindFailed || attempt == 3 {
			return r
		}
		t.Logf("sipptest: sipp could not bind %s:%d; trying another port", r.LocalIP, r.LocalPort)
	}
}

func readIf(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// readStats parses the last line of sipp's statistics CSV (';'-separated,
// first line the column names).
func readStats(path string) Stats {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var header, last []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Stats{}
		}
		if header == nil {
			header = rec
			continue
		}
		last = rec
	}
	st := Stats{}
	for i, h := range header {
		if i < len(last) && h != "" {
			st[h] = last[i]
		}
	}
	return st
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
