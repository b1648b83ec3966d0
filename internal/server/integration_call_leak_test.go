package server_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/sip/siptest"
)

// Leak test parameters: 1,000 short calls, a few at a time.
const (
	leakCalls       = 1000
	leakConcurrency = 16
	leakTalk        = 100 * time.Millisecond
	// sipgo keeps finished transactions, their goroutines and messages, for
	// their RFC 3261 timers after the last call (Timer D/H/J/L/M: 64·T1 =
	// 32 s, then Timer I: T4 = 5 s): everything must be back within this.
	leakSettle = 60 * time.Second
	// Tolerances: a few goroutines or descriptors of unrelated background
	// work (HTTP keep-alives), and heap that bounded structures keep: the
	// call event history (call.Bus keeps the last 10,000 events, ~4 per
	// call), Go maps that do not shrink after their peak (sipgo's
	// transaction tables), the server log tail (≤ 2 MiB). Measured: +7 MiB
	// one minute after 1,000 calls, with 6 MiB of it the log buffer.
	leakGoroutineSlack = 5
	leakFDSlack        = 2
	leakHeapSlack      = 8 << 20
)

// TestCallLeak1000ShortCalls places 1,000 short calls (answer, ~100 ms of
// tones both ways, BYE), 16 at a time, and checks that once SIP transaction timers have expired
// goroutines, open descriptors (UDP sockets), RTP ports and heap return to
// where they started.
func TestCallLeak1000ShortCalls(t *testing.T) {
	// Info, not debug: sipgo's per-message debug lines would dominate the run.
	cs := startCallServer(t, func(c *server.Config) { c.Log.Level = "info" })
	a := cs.phone(ext1001, pw1001, toneA)
	b := cs.phone(ext1002, pw1002, toneB)

	base := takeResources(cs)
	t.Logf("baseline: %s", base)
	start := time.Now()

	// The callee answers every call and waits for its BYE.
	answerCtx, stopAnswering := context.WithCancel(context.Background())
	var answering sync.WaitGroup
	var answerErrs atomic.Int64
	answering.Add(1)
	go func() {
		defer answering.Done()
		for {
			in, err := b.Accept(answerCtx)
			if err != nil {
				return
			}
			answering.Add(1)
			go func() {
				defer answering.Done()
				c, err := in.Answer(answerCtx, siptest.AnswerOptions{})
				if err != nil {
					answerErrs.Add(1)
					return
				}
				select {
				case <-c.Done():
				case <-answerCtx.Done():
				}
			}()
		}
	}()

	callsWithMedia.Store(0)
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	var workers sync.WaitGroup
	for range leakConcurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for n := next.Add(1); n <= leakCalls; n = next.Add(1) {
				// Half the calls are challenged (407, then the INVITE again),
				// half send credentials from the last challenge.
				if err := shortCall(a, ext1002, n%2 == 0); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	workers.Wait()
	calling := time.Since(start)
	stopAnswering()
	answering.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d calls failed; first: %v", n, leakCalls, firstErr.Load())
	}
	if n := answerErrs.Load(); n > 0 {
		t.Fatalf("the callee failed to answer %d calls", n)
	}
	t.Logf("%d calls in %s (%d at a time), %d with RTP from the callee; now: %s", leakCalls, calling.Round(time.Millisecond),
		leakConcurrency, callsWithMedia.Load(), takeResources(cs))
	// Nearly all do; under a loaded -race run the first packet of a few
	// may come later than leakTalk. Half is far from chance.
	if n := callsWithMedia.Load(); n < leakCalls/2 {
		t.Errorf("only %d of %d calls carried the callee's RTP to the caller within %s", n, leakCalls, leakTalk)
	}

	deadline := time.Now().Add(leakSettle)
	var now resources
	for {
		now = takeResources(cs)
		if now.within(base) {
			break
		}
		if time.Now().After(deadline) {
			var stacks strings.Builder
			pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Fatalf("after %s: %s; baseline %s\ngoroutines:\n%s", leakSettle, now, base, stacks.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("back to baseline after %s: %s", time.Since(start).Round(time.Second), now)
}

// callsWithMedia counts the short calls whose caller received RTP.
var callsWithMedia atomic.Int64

// shortCall calls number from p, talks for leakTalk and hangs up.
func shortCall(p *siptest.Phone, number string, preauthorize bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, number, siptest.DialOptions{Preauthorize: preauthorize})
	if err != nil {
		return err
	}
	time.Sleep(leakTalk)
	if c.Stats().Received > 0 {
		callsWithMedia.Add(1)
	}
	if err := c.Hangup(ctx); err != nil {
		return fmt.Errorf("BYE: %w", err)
	}
	return nil
}

// resources are the process's counts the leak test compares.
type resources struct {
	goroutines int
	fds        int
	ports      int // RTP/RTCP ports switchd holds
	sessions   int // media sessions
	calls      int // calls in progress
	heap       uint64
}

func takeResources(cs *callServer) resources {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		cs.t.Fatalf("count descriptors: %v", err)
	}
	media := cs.srv.MediaStatsForTest()
	return resources{goroutines: runtime.NumGoroutine(), fds: len(fds), ports: media.PortsInUse,
		sessions: media.Sessions, calls: cs.srv.ActiveCallsForTest(), heap: ms.HeapAlloc}
}

// within reports whether r is back to base, up to the slack.
func (r resources) within(base resources) bool {
	return r.goroutines <= base.goroutines+leakGoroutineSlack && r.fds <= base.fds+leakFDSlack &&
		r.ports == base.ports && r.sessions == base.sessions && r.calls == 0 &&
		r.heap <= base.heap+leakHeapSlack
}

func (r resources) String() string {
	return fmt.Sprintf("%d goroutines, %d fds, %d RTP ports in %d sessions, %d calls, heap %.1f MiB",
		r.goroutines, r.fds, r.ports, r.sessions, r.calls, float64(r.heap)/(1<<20))
}
