package jitter

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestDelaySpike: a 100 ms network spike (frames 40–44 held and
// delivered together with 45) stalls playout instead of losing them:
// the buffer grows at once by the spike and then gives the extra depth
// back slowly, at most one frame per second.
func TestDelaySpike(t *testing.T) {
	ps := stream(300, 1, 0, 7)
	for i := 40; i < 45; i++ {
		ps[i].at = 45 * tick
	}
	b := New(cfg40())
	p := newPlayer(t, b, ps)
	got := p.run(300)
	expect(t, got, join(
		"-", seqOut(0, 39),
		rep("-", 4), // stalled waiting for 40
		// The spike raised the target to 80 ms; it decays by a frame per
		// 2 s, and a frame is dropped whenever the depth stayed two frames
		// above it for a second: after 1 s (90), 2 s (141), 4 s (242).
		seqOut(40, 89), seqOut(91, 140), seqOut(142, 241), seqOut(243, 297),
	))
	checkStats(t, b, map[string]uint64{"lost": 0, "late": 0, "underruns": 1, "dropped": 3})
	if st := b.Stats(); st.Target != 40*time.Millisecond || st.Depth != 40*time.Millisecond {
		t.Fatalf("target %v depth %v, want both back at 40ms", st.Target, st.Depth)
	}
}

// TestTargetAdapts: under heavy jitter the target grows at once within
// the bounds; when the network calms down it falls back slowly, and the
// depth follows it down by dropping frames. The depth never exceeds Max
// plus one frame.
func TestTargetAdapts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 3000
	ps := stream(n, 1, 0, 7)
	for i := range 1500 {
		ps[i].at += time.Duration(r.IntN(60)) * time.Millisecond
	}
	slices.SortStableFunc(ps, func(a, b pkt) int { return int(a.at - b.at) })
	c := cfg40()
	b := New(c)
	p := newPlayer(t, b, ps)

	var maxTarget time.Duration
	for range 1500 {
		p.run(1)
		st := b.Stats()
		if st.Depth > c.Max+tick {
			t.Fatalf("depth %v > Max + a frame", st.Depth)
		}
		maxTarget = max(maxTarget, st.Target)
		if p.tick == 100 && st.Target <= c.Min {
			t.Fatalf("target %v after 2 s of 60 ms jitter", st.Target)
		}
	}
	jittery := b.Stats()
	if maxTarget > c.Max || jittery.Jitter < 10*time.Millisecond {
		t.Fatalf("max target %v, jitter %v", maxTarget, jittery.Jitter)
	}
	lossRate := float64(jittery.Lost) / float64(jittery.Played+jittery.Lost)
	t.Logf("jittery: %+v, loss %.2f%%", jittery, 100*lossRate)
	if lossRate > 0.02 {
		t.Fatalf("%.1f%% of frames concealed under jitter the target covers", 100*lossRate)
	}

	p.run(n - 1500)
	calm := b.Stats()
	t.Logf("calm: %+v", calm)
	if calm.Target != c.Min || calm.Depth > calm.Target+tick || calm.Dropped == jittery.Dropped {
		t.Fatalf("after calm: target %v depth %v dropped %d→%d", calm.Target, calm.Depth, jittery.Dropped, calm.Dropped)
	}
}
