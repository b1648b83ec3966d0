package server_test

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/sip/siptest"
)

// The tones of the call tests: each phone sends its own, and must hear the
// other's and not its own.
const (
	toneA = 1000.0 // Hz, sent by the caller
	toneB = 1500.0 // Hz, sent by the callee
)

// RTP ports of the call tests' servers (media.rtp_ports), away from the
// default range and from the kernel's ephemeral ports the phones use.
const rtpMin, rtpMax = 31000, 31999

// callServer is a switchd for call tests and its in-process handle.
type callServer struct {
	*testServer
}

// startCallServer starts switchd on loopback for calls: RTP on 127.0.0.1
// in rtpMin–rtpMax, a short drain so a failed test stops quickly, logs at
// cfg.Log.Level (debug unless opts say otherwise) kept in memory, the last
// MiB of them, and shown when the test fails. The extensions 1001 and 1002
// exist.
func startCallServer(t *testing.T, opts ...serverOpts) *callServer {
	t.Helper()
	return startCallServerWith(t, nil, opts...)
}

// startCallServerWith is startCallServer with options for server.New.
func startCallServerWith(t *testing.T, srvOpts []server.Option, opts ...serverOpts) *callServer {
	t.Helper()
	cfg := newConfig(t, append([]serverOpts{func(c *server.Config) {
		c.Media.RTPPorts = config.PortRange{Min: rtpMin, Max: rtpMax}
		c.Media.BindAddress = "127.0.0.1"
		c.SIP.DrainTimeout = config.Duration(2 * time.Second)
		c.Log.Level = "debug"
	}}, opts...)...)
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		t.Fatalf("log level %q: %v", cfg.Log.Level, err)
	}
	logs := &callLogTail{max: 1 << 20}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log, srvOpts...)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	ts := &testServer{t: t, logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		ts.stop()
		if t.Failed() {
			t.Logf("switchd log (%s, the last MiB at most):\n%s", cfg.SIP.Listen[0], logs.String())
		}
	})
	for _, a := range srv.SIPAddrs() {
		if rest, ok := strings.CutPrefix(a, "udp://"); ok {
			ts.udpAddr = rest
		}
	}
	ts.http = "http://" + srv.HTTPAddr()
	tok, err := os.ReadFile(cfg.TokenPath())
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	ts.token = strings.TrimSpace(string(tok))
	ts.waitHealthy()
	ts.addExtension(ext1001, pw1001)
	ts.addExtension(ext1002, pw1002)
	ts.srv = srv
	return &callServer{testServer: ts}
}

// phone starts a test phone for user, registered with switchd, sending a
// tone of hz in every call. It is closed at the end of the test.
func (cs *callServer) phone(user, password string, hz float64, codecs ...siptest.Codec) *siptest.Phone {
	cs.t.Helper()
	p, err := siptest.New(siptest.Config{
		User: user, Password: password, DisplayName: "Phone " + user,
		Server: netip.MustParseAddrPort(cs.udpAddr), ToneHz: hz, Codecs: codecs,
	})
	if err != nil {
		cs.t.Fatal(err)
	}
	cs.t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Register(ctx, 10*time.Minute); err != nil {
		cs.t.Fatalf("%s REGISTER: %v", user, err)
	}
	return p
}

// calleeSide is the callee's side of a call set up by dialAndAnswer.
type calleeSide struct {
	in   *siptest.Incoming
	call *siptest.Call
	err  error
}

// answerNextCall accepts the next INVITE on callee, rings, and answers it.
func answerNextCall(ctx context.Context, callee *siptest.Phone, opts siptest.AnswerOptions) <-chan calleeSide {
	out := make(chan calleeSide, 1)
	go func() {
		in, err := callee.Accept(ctx)
		if err != nil {
			out <- calleeSide{err: err}
			return
		}
		if err := in.Ring(); err != nil {
			out <- calleeSide{in: in, err: err}
			return
		}
		c, err := in.Answer(ctx, opts)
		out <- calleeSide{in: in, call: c, err: err}
	}()
	return out
}

// connect calls the callee's extension from caller and answers on callee.
func dialAndAnswer(t *testing.T, ctx context.Context, caller, callee *siptest.Phone, dial siptest.DialOptions, answer siptest.AnswerOptions) (ca *siptest.Call, b calleeSide) {
	t.Helper()
	ch := answerNextCall(ctx, callee, answer)
	ca, err := caller.Dial(ctx, callee.User(), dial)
	if err != nil {
		t.Fatalf("%s dials %s: %v", caller.User(), callee.User(), err)
	}
	b = <-ch
	if b.err != nil {
		t.Fatalf("%s answers: %v", callee.User(), b.err)
	}
	return ca, b
}

// toneHeard is what one side of a call toneHeard over a window.
type toneHeard struct {
	own, other float64 // ToneLevel of its own tone and of the far side's
	err        error
}

// assertTonesCross listens on both sides at once and checks that each
// hears the other's tone and not its own: audio crossed both ways through
// switchd.
func assertTonesCross(t *testing.T, ctx context.Context, what string, ca, cb *siptest.Call) {
	t.Helper()
	assertPairNamed(t, ctx, what, [2]string{"caller", "callee"}, ca, toneA, cb, toneB)
}

// hangupAndWait hangs up c and waits until the far call ends and switchd is idle.
func (cs *callServer) hangupAndWait(ctx context.Context, c, far *siptest.Call) {
	cs.t.Helper()
	if err := c.Hangup(ctx); err != nil {
		cs.t.Errorf("BYE: %v", err)
	}
	select {
	case <-far.Done():
		if !far.EndedByPeer() {
			cs.t.Errorf("the far call ended without a BYE")
		}
	case <-ctx.Done():
		cs.t.Fatalf("the far side got no BYE")
	}
	cs.waitIdle(5 * time.Second)
}

// waitIdle waits until switchd has no call and no RTP port in use.
func (cs *callServer) waitIdle(within time.Duration) {
	cs.t.Helper()
	deadline := time.Now().Add(within)
	for {
		calls, ms := cs.srv.ActiveCallsForTest(), cs.srv.MediaStatsForTest()
		if calls == 0 && ms.PortsInUse == 0 && ms.Sessions == 0 {
			return
		}
		if time.Now().After(deadline) {
			cs.t.Fatalf("after %s: %d active calls, media %+v", within, calls, ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inRTPRange reports whether port is one of switchd's RTP ports.
func inRTPRange(port int) bool { return port >= rtpMin && port <= rtpMax }

// callLogTail keeps the last max bytes (up to 2·max) written to it: a
// server's log for a failing test, without growing through 1,000 calls.
type callLogTail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (l *callLogTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > 2*l.max {
		l.b = append(l.b[:0], l.b[len(l.b)-l.max:]...)
	}
	return len(p), nil
}

func (l *callLogTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
