package jitter

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func cfg40() Config {
	return Config{Min: 40 * time.Millisecond, Max: 200 * time.Millisecond, ClockRate: 8000, FrameSamples: 160, BytesPerFrame: 160}
}

// TestInOrder: paced packets in order play after one frame of fill
// (target 40 ms = 2 frames), each exactly once.
func TestInOrder(t *testing.T) {
	b := New(cfg40())
	p := newPlayer(t, b, stream(100, 1000, 12345, 7))
	expect(t, p.run(100), join("-", seqOut(0, 98)))
	checkStats(t, b, map[string]uint64{"received": 100, "played": 99, "lost": 0, "late": 0, "underruns": 0, "dropped": 0})
	st := b.Stats()
	if st.Depth != 20*time.Millisecond || st.Target != 40*time.Millisecond || st.Jitter != 0 {
		t.Fatalf("depth %v target %v jitter %v, want 20ms 40ms 0", st.Depth, st.Target, st.Jitter)
	}
}

// TestReorder: packets reordered by 1–3 positions are played in order
// when the depth (80 ms) covers the reordering.
func TestReorder(t *testing.T) {
	c := cfg40()
	c.Min = 80 * time.Millisecond
	b := New(c)
	ps := stream(300, 40000, 0, 7)
	for i, id := range []int{10, 25, 41, 60, 77, 90, 130, 151, 170, 222, 240, 280} {
		ps = delay(ps, id, 1+i%3)
	}
	p := newPlayer(t, b, ps)
	expect(t, p.run(300), join("- - -", seqOut(0, 296)))
	checkStats(t, b, map[string]uint64{"received": 300, "lost": 0, "late": 0, "underruns": 0, "dropped": 0})
	if st := b.Stats(); st.Jitter == 0 {
		t.Fatal("reordering measured no jitter")
	}
}

// TestRandomLoss: 5 % isolated random losses are reported Lost exactly
// at the missing frames.
func TestRandomLoss(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var lost []int
	for i := 1; i < 995; i++ {
		if r.Float64() < 0.05 && !slices.Contains(lost, i-1) {
			lost = append(lost, i)
		}
	}
	b := New(cfg40())
	p := newPlayer(t, b, without(stream(1000, 65000, 0, 7), lost...))
	want := []string{"-"}
	for i := range 999 {
		if slices.Contains(lost, i) {
			want = append(want, "L")
		} else {
			want = append(want, seqOut(i, i))
		}
	}
	expect(t, p.run(1000), join(want...))
	checkStats(t, b, map[string]uint64{"lost": uint64(len(lost)), "played": 999 - uint64(len(lost)), "underruns": 0, "dropped": 0})
	if len(lost) < 30 {
		t.Fatalf("only %d losses drawn", len(lost))
	}
}

// TestLatePacket: a packet arriving after its slot was played is
// reported Lost at its slot and refused when it comes.
func TestLatePacket(t *testing.T) {
	b := New(cfg40())
	p := newPlayer(t, b, delay(stream(60, 1, 0, 7), 30, 3))
	expect(t, p.run(60), join("-", seqOut(0, 29), "L", seqOut(31, 58)))
	if !slices.Equal(p.rejected, []int{30}) {
		t.Fatalf("refused %v, want [30]", p.rejected)
	}
	checkStats(t, b, map[string]uint64{"late": 1, "lost": 1, "played": 58})
}

// TestDuplicates: duplicates, right away or after their frame played,
// are refused and counted; the output is unchanged.
func TestDuplicates(t *testing.T) {
	var ps []pkt
	for i, p := range stream(80, 65530, 0, 7) {
		ps = append(ps, p)
		if i%7 == 3 {
			ps = append(ps, p) // at once
		}
		if i%11 == 5 {
			q := p
			q.at += 5 * tick // after it played
			ps = append(ps, q)
		}
	}
	slices.SortStableFunc(ps, func(a, b pkt) int { return int(a.at - b.at) })
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	expect(t, p.run(80), join("-", seqOut(0, 78)))
	var dups uint64
	for i := range 80 {
		if i%7 == 3 {
			dups++
		}
		if i%11 == 5 && i+5 < 80 {
			dups++
		}
	}
	checkStats(t, b, map[string]uint64{"duplicates": dups, "late": 0, "lost": 0})
	if len(p.rejected) != int(dups) {
		t.Fatalf("%d refused, want %d", len(p.rejected), dups)
	}
}

// TestSSRCChange: a new source mid-stream (unrelated seq and ts)
// continues playout without a gap; a straggler of the old source is
// dropped as late.
func TestSSRCChange(t *testing.T) {
	a := stream(50, 1000, 5000, 0xaaaa)
	bb := stream(50, 7, 999999, 0xbbbb)
	for i := range bb {
		bb[i].ids[0] += 50
		bb[i].at += 50 * tick
	}
	ps := append(a, bb...)
	straggler := pkt{seq: 1050, ts: 5000 + 50*160, ssrc: 0xaaaa, ids: []int{1000}, at: 52 * tick}
	ps = slices.Insert(ps, 53, straggler)
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	expect(t, p.run(100), join("-", seqOut(0, 98)))
	checkStats(t, b, map[string]uint64{"resets": 1, "late": 1, "lost": 0, "underruns": 0})
	if !slices.Equal(p.rejected, []int{1000}) {
		t.Fatalf("refused %v", p.rejected)
	}
}

// TestTimestampJump: the sender's timestamps jump 10 s forward, then
// 30 s back, with sequence numbers continuing: playout resyncs and
// continues without a gap.
func TestTimestampJump(t *testing.T) {
	ps := stream(200, 100, 0, 7)
	for i := 50; i < 200; i++ {
		ps[i].ts += 10 * 8000
	}
	for i := 120; i < 200; i++ {
		ps[i].ts -= 40 * 8000
	}
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	expect(t, p.run(200), join("-", seqOut(0, 198)))
	checkStats(t, b, map[string]uint64{"resyncs": 2, "lost": 0, "late": 0, "underruns": 0})
}

// TestSequenceWrap: sequence numbers and timestamps wrap; a loss,
// a reordering and a duplicate across the wrap are handled.
func TestSequenceWrap(t *testing.T) {
	ps := stream(40, 65530, 1<<32-5*160, 7) // frame 5: seq 65535, ts 0
	ps = without(ps, 3)                     // seq 65533
	ps = delay(ps, 6, 1)                    // seq 0 after seq 1
	dup := ps[slices.IndexFunc(ps, func(p pkt) bool { return p.ids[0] == 8 })]
	dup.at += 2 * tick
	ps = slices.Insert(ps, 10, dup)
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	expect(t, p.run(40), join("-", seqOut(0, 2), "L", seqOut(4, 38)))
	checkStats(t, b, map[string]uint64{"lost": 1, "duplicates": 1, "late": 0})
}

// TestBurstLoss: a burst longer than the depth stalls playout (Empty)
// until the next packet shows the gap, then each missing frame is
// reported Lost; the buffer then shrinks back by dropping one frame a
// second. A burst far beyond the target skips the missing frames it
// cannot afford to conceal.
func TestBurstLoss(t *testing.T) {
	b := New(cfg40())
	ps := without(stream(250, 1, 0, 7), 20, 21, 22)
	ps = without(ps, 150, 151, 152, 153, 154, 155, 156, 157)
	p := newPlayer(t, b, ps)
	expect(t, p.run(250), join(
		"-", seqOut(0, 19),
		"- -", "L L L", // stalled two ticks until 23 showed the gap
		seqOut(23, 69), seqOut(71, 149), // 1 s later the extra depth is cut by one frame (70)
		rep("-", 6),                        // 150… missing, nothing ahead: stall
		"L L L",                            // 158 came: 150–154 skipped (far above target), 155–157 concealed
		seqOut(158, 204), seqOut(206, 247), // one frame dropped after 1 s (205)
	))
	checkStats(t, b, map[string]uint64{"lost": 6, "dropped": 7, "underruns": 2, "late": 0, "played": 235})
	if st := b.Stats(); st.Depth != 40*time.Millisecond {
		t.Fatalf("depth %v after shrinking, want 40ms", st.Depth)
	}
}

// Test40msPackets: packets of two frames are split; a lost packet is
// two Lost frames.
func Test40msPackets(t *testing.T) {
	var ps []pkt
	for k := range 50 {
		if k == 5 {
			continue
		}
		ps = append(ps, pkt{seq: uint16(k), ts: uint32(k) * 320, ssrc: 7, ids: []int{2 * k, 2*k + 1}, at: time.Duration(k) * 2 * tick})
	}
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	expect(t, p.run(100), join("- -", seqOut(0, 9), "L L", seqOut(12, 97)))
	checkStats(t, b, map[string]uint64{"lost": 2, "underruns": 0, "received": 49})
	if st := b.Stats(); st.Target != 60*time.Millisecond {
		t.Fatalf("target %v, want 60ms (40 ms packets + a frame)", st.Target)
	}
}

// TestSilence: a sender that stops without losing packets (silence
// suppression: sequence numbers continue, timestamps jump) yields Empty,
// not Lost; playout refills and resumes.
func TestSilence(t *testing.T) {
	ps := stream(100, 1, 0, 7)
	// Frames 30–54 are never sent; frames 55… keep their timestamps
	// and arrival times, and their sequence numbers close the gap.
	ps = without(ps, seqIDs(30, 54)...)
	for i := range ps {
		if ps[i].ids[0] >= 55 {
			ps[i].seq -= 25
		}
	}
	// A short gap inside the buffer: frame 80 never sent.
	ps = without(ps, 80)
	for i := range ps {
		if ps[i].ids[0] > 80 {
			ps[i].seq--
		}
	}
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	expect(t, p.run(100), join(
		"-", seqOut(0, 29),
		rep("-", 24), // underrun during the silence
		"-",          // 55 came, seq following 29: refill from 55
		seqOut(55, 79), "-", seqOut(81, 98),
	))
	checkStats(t, b, map[string]uint64{"lost": 0, "underruns": 1, "played": 98 - 25})
}

func seqIDs(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}

// TestConcurrent: one goroutine pushes while another pops (run with
// -race).
func TestConcurrent(t *testing.T) {
	b := New(cfg40())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 2000 {
			b.Push(uint16(i), uint32(i)*160, 7, payloadOf([]int{i}, 160), t0.Add(time.Duration(i)*tick))
		}
	})
	wg.Go(func() {
		for i := range 2000 {
			b.Pop(t0.Add(time.Duration(i) * tick))
			_ = b.Stats()
		}
	})
	wg.Wait()
}

// TestSteadyStateAllocs: Push and Pop allocate nothing once running.
func TestSteadyStateAllocs(t *testing.T) {
	b := New(cfg40())
	pl := payloadOf([]int{1}, 160)
	i := 0
	step := func() {
		at := t0.Add(time.Duration(i) * tick)
		b.Push(uint16(i), uint32(i)*160, 7, pl, at)
		b.Pop(at)
		i++
	}
	for range 10 {
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Fatalf("%v allocations per push+pop", n)
	}
}

// TestSequenceAndTimestampJump: a sender that jumps both its sequence
// numbers (so far that they look old) and its timestamps is resynced
// once five consecutive packets agree; the first four are refused.
func TestSequenceAndTimestampJump(t *testing.T) {
	ps := stream(100, 1000, 0, 7)
	for i := 50; i < 100; i++ {
		ps[i].seq += 40000
		ps[i].ts += 123456789
	}
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	expect(t, p.run(100), join("-", seqOut(0, 49), rep("-", 4), seqOut(54, 98)))
	checkStats(t, b, map[string]uint64{"early": 4, "resyncs": 1, "underruns": 1, "lost": 0})
	if !slices.Equal(p.rejected, []int{50, 51, 52, 53}) {
		t.Fatalf("refused %v", p.rejected)
	}
}

// TestInvalidPayloads: empty and oversized payloads are refused.
func TestInvalidPayloads(t *testing.T) {
	b := New(cfg40())
	if b.Push(1, 0, 7, nil, t0) || b.Push(2, 160, 7, make([]byte, maxPayload+1), t0) {
		t.Fatal("invalid payload accepted")
	}
	checkStats(t, b, map[string]uint64{"received": 2, "invalid": 2})
	if pl, st := b.Pop(t0); pl != nil || st != Empty {
		t.Fatalf("Pop of an empty buffer: %v %v", pl, st)
	}
}

// TestConfigDefaults: zero fields take the documented defaults, and Max
// is raised to Min.
func TestConfigDefaults(t *testing.T) {
	b := New(Config{})
	if b.fs != 160 || b.frameDur != tick || b.minF != 2 || b.maxF != 10 || b.bpf != 0 {
		t.Fatalf("defaults: fs %d frame %v min %d max %d bpf %d", b.fs, b.frameDur, b.minF, b.maxF, b.bpf)
	}
	b = New(Config{Min: 100 * time.Millisecond, Max: 50 * time.Millisecond, ClockRate: 48000})
	if b.fs != 960 || b.minF != 5 || b.maxF != 5 {
		t.Fatalf("48 kHz: fs %d min %d max %d", b.fs, b.minF, b.maxF)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{0: "unknown", Ok: "ok", Lost: "lost", Empty: "empty", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s.String(), want)
		}
	}
}

// BenchmarkPushPop is one 20 ms frame through the buffer: a Push and a
// Pop, in steady state.
func BenchmarkPushPop(b *testing.B) {
	buf := New(cfg40())
	pl := payloadOf([]int{1}, 160)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		at := t0.Add(time.Duration(i) * tick)
		buf.Push(uint16(i), uint32(i)*160, 7, pl, at)
		buf.Pop(at)
		i++
	}
}
