package media

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"

	"github.com/pion/rtcp"
)

// memCalls is the number of anchored calls BenchmarkMemoryPerCall holds
// up at once (1,000 sessions, 2,000 sockets).
const memCalls = 500

// memUsage is the process's Go memory at one moment, after two GCs.
type memUsage struct {
	heap       uint64 // live heap (HeapAlloc right after GC)
	stack      uint64 // goroutine stacks (StackInuse)
	goroutines int
}

func readMem() memUsage {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memUsage{heap: ms.HeapAlloc, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// openMemCalls sets up n calls the way package sip does for an answered
// call (two sessions with codecs and remotes, a relay planned from the
// codecs and started), relays one packet each way, and has each phone
// send one RTCP receiver report to its leg, so that every reader has run
// and every latch is set. It returns a function that tears them down.
func openMemCalls(b *testing.B, e *Engine, pa, pb, ra, rb *phone, n int) (closeAll func()) {
	b.Helper()
	codecs := []Codec{PCMU, PCMA, TelephoneEvent(101)}
	plan, err := NewRelayConfig(codecs, codecs)
	if err != nil {
		b.Fatal(err)
	}
	type leg struct {
		a, b   *Session
		relay  *Relay
		cancel context.CancelFunc
	}
	legs := make([]leg, 0, n)
	closeAll = func() {
		for _, l := range legs {
			l.relay.Stop()
			l.cancel()
			l.a.Close()
			l.b.Close()
		}
	}
	rr := marshalRTCP(b, &rtcp.ReceiverReport{SSRC: 0x1111, Reports: []rtcp.ReceptionReport{{SSRC: 0x2222, Jitter: 8}}})
	for i := range n {
		a, err := e.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		bs, err := e.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		a.SetCodecs(codecs...)
		bs.SetCodecs(codecs...)
		a.SetRemote(pa.addr, netip.Addr{})
		bs.SetRemote(pb.addr, netip.Addr{})
		a.SetRemoteRTCP(ra.addr)
		bs.SetRemoteRTCP(rb.addr)
		r, err := NewRelay(a, bs, plan)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if err := r.Start(ctx); err != nil {
			b.Fatal(err)
		}
		legs = append(legs, leg{a, bs, r, cancel})
		pa.send(a.LocalAddr(), rtpPacket(b, 0, uint16(i), uint32(i)*160, 1, false, make([]byte, 160)))
		pb.mustRecv()
		pb.send(bs.LocalAddr(), rtpPacket(b, 8, uint16(i), uint32(i)*160, 2, false, make([]byte, 160)))
		pa.mustRecv()
		ra.send(rtcpOf(a), rr)
		rb.send(rtcpOf(bs), rr)
	}
	eventually(b, "every leg's RTCP read", func() bool {
		for _, l := range legs {
			if l.a.Stats().RTCPIn != 1 || l.b.Stats().RTCPIn != 1 {
				return false
			}
		}
		return true
	})
	return closeAll
}

// BenchmarkMemoryPerCall reports what one anchored call costs the media
// package in memory: memCalls calls held up at once (see openMemCalls),
// the growth of the live Go heap and of goroutine stacks, and the number
// of goroutines, divided by the calls. Kernel socket buffers are not Go
// memory and are not counted. The engine logs through a text handler at
// info level, as switchd does. The op is the set-up and tear-down of all
// the calls; the metrics are the mean over the iterations.
//
//	go test -run XXX -bench MemoryPerCall -benchtime 3x -count 6 ./media/
func BenchmarkMemoryPerCall(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, err := NewEngine(testConfig(28000, 29999), log)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	pa, pb, ra, rb := newPhone(b), newPhone(b), newPhone(b), newPhone(b)
	var heap, stack, gor float64
	for range b.N {
		m0 := readMem()
		closeAll := openMemCalls(b, e, pa, pb, ra, rb, memCalls)
		m1 := readMem()
		closeAll()
		heap += (float64(m1.heap) - float64(m0.heap)) / memCalls
		stack += (float64(m1.stack) - float64(m0.stack)) / memCalls
		gor += float64(m1.goroutines-m0.goroutines) / memCalls
	}
	n := float64(b.N)
	b.ReportMetric(heap/n, "heap-B/call")
	b.ReportMetric(stack/n, "stack-B/call")
	b.ReportMetric((heap+stack)/n, "B/call")
	b.ReportMetric(gor/n, "goroutines/call")
}
