package recordings

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// published is what a test publisher sent: per channel, the slot each
// frame's time gives and its mark.
type published map[[2]int]int16 // {slot, channel} → mark

// slotAt is the slot of a frame published at at on a timeline from start.
func slotAt(start, at time.Time) int {
	return int((at.Sub(start) + audio.FrameDuration/2) / audio.FrameDuration)
}

// checkFile verifies that the recording holds exactly what was published,
// each frame in the slot of its time, silence elsewhere (and in the
// paused slots).
func checkFile(t *testing.T, path string, pub published, frames int, paused func(slot int) bool) {
	t.Helper()
	f := readRaw(t, path)
	if f.frames() != frames {
		t.Fatalf("file has %d frames, want %d", f.frames(), frames)
	}
	for k := range frames {
		for ch := range 2 {
			want := pub[[2]int{k, ch}]
			if paused != nil && paused(k) {
				want = 0
			}
			if got := f.slot(k, ch); got != want {
				t.Fatalf("slot %d channel %d: %d, want %d", k, ch, got, want)
			}
		}
	}
}

// TestStartRecordsACall: a call recorded from its customer leg's tap in
// real time (virtual): customer left, what they hear right, each frame
// in its slot; the customer silent without packets for a second (DTX),
// the agent's side stopping early (on hold): silence. A sensitive collect
// pauses the recording. The leg's Point closing at teardown ends the feed
// and finalises the file by itself.
func TestStartRecordsACall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := tap.NewPoint()
		start := time.Now()
		feed, err := Start(t.Context(), t.TempDir(), "call-1", p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		w := feed.Writer()
		pub := published{}
		tick := time.NewTicker(audio.FrameDuration)
		for k := range 250 {
			now := <-tick.C
			switch k {
			case 50:
				w.Pause("sensitive")
			case 60:
				w.Resume("sensitive")
			}
			slot := slotAt(start, now)
			if k < 100 || k >= 150 {
				p.Publish(tap.In, marked(int16(k+1)), now)
				pub[[2]int{slot, 0}] = int16(k + 1)
			}
			if k < 200 {
				p.Publish(tap.Out, marked(int16(-k-1)), now)
				pub[[2]int{slot, 1}] = int16(-k - 1)
			}
		}
		tick.Stop()
		p.Close()
		<-feed.Done()
		res, err := feed.Stop()
		if err != nil {
			t.Fatal(err)
		}
		// Frame k came at (k+1) × 20 ms: slot k+1; the last is slot 250.
		if res.Frames != 251 || res.Lost != 0 || res.Dropped != 0 {
			t.Fatalf("result %+v", res)
		}
		if want := []Interval{{1020 * time.Millisecond, 1220 * time.Millisecond}}; len(res.Paused) != 1 || res.Paused[0] != want[0] {
			t.Fatalf("paused %v, want %v", res.Paused, want)
		}
		checkFile(t, res.Path, pub, 251, func(k int) bool { return k >= 51 && k <= 60 })
	})
}

// TestFromSourcesTwoLegs: the customer's and the agent's legs publish on
// their own clocks, 13 ms apart, and the agent joins late: each frame
// lands in the slot nearest its time, the channels stay aligned, and the
// agent's side is silent before it joined.
func TestFromSourcesTwoLegs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := tap.NewPoint(), tap.NewPoint()
		start := time.Now()
		w, err := Create(context.WithoutCancel(t.Context()), t.TempDir(), "call-2", Options{})
		if err != nil {
			t.Fatal(err)
		}
		feed := FromSources(t.Context(), w, Source{a, tap.In}, Source{b, tap.In})
		pubs := [2]published{{}, {}}
		publish := func(p *tap.Point, ch, from, n int, phase time.Duration) {
			time.Sleep(phase + time.Duration(from)*audio.FrameDuration)
			tick := time.NewTicker(audio.FrameDuration)
			defer tick.Stop()
			for k := from; k < from+n; k++ {
				now := <-tick.C
				mark := int16(k + 1)
				if ch == 1 {
					mark = -mark
				}
				p.Publish(tap.In, marked(mark), now)
				pubs[ch][[2]int{slotAt(start, now), ch}] = mark
			}
		}
		done := make(chan struct{})
		go func() { publish(b, 1, 40, 100, 13*time.Millisecond); close(done) }()
		publish(a, 0, 0, 150, 0)
		<-done
		pub := pubs[0]
		for k, v := range pubs[1] {
			pub[k] = v
		}
		a.Close()
		b.Close()
		res, err := feed.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if res.Lost != 0 || res.Frames != 151 {
			t.Fatalf("result %+v", res)
		}
		checkFile(t, res.Path, pub, 151, nil)
	})
}

// TestFeedStopWritesWhatItHas: Stop in the middle of a call writes every
// frame published so far, the slow side's too.
func TestFeedStopWritesWhatItHas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := tap.NewPoint()
		start := time.Now()
		feed, err := Start(t.Context(), t.TempDir(), "call-3", p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		pub := published{}
		tick := time.NewTicker(audio.FrameDuration)
		for k := range 30 {
			now := <-tick.C
			p.Publish(tap.In, marked(int16(k+1)), now)
			pub[[2]int{slotAt(start, now), 0}] = int16(k + 1)
			if k < 20 { // the right side stops: its last 10 slots wait for the window
				p.Publish(tap.Out, marked(int16(-k-1)), now)
				pub[[2]int{slotAt(start, now), 1}] = int16(-k - 1)
			}
		}
		tick.Stop()
		res, err := feed.Stop()
		if err != nil || res.Frames != 31 || res.Lost != 0 {
			t.Fatalf("result %+v, %v", res, err)
		}
		checkFile(t, res.Path, pub, 31, nil)
		p.Close()
	})
}

// TestFeedCountsTapDrops: frames the subscription dropped (a feed that
// could not keep up) are counted as lost and leave silence in their
// slots; the timeline keeps its length.
func TestFeedCountsTapDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := tap.NewPoint()
		start := time.Now()
		feed, err := Start(t.Context(), t.TempDir(), "call-4", p, Options{TapDepth: 4})
		if err != nil {
			t.Fatal(err)
		}
		// Ten frames of each side at once: the feed's goroutine does not
		// run in between, so each subscription keeps 4 and drops 6.
		for k := range 10 {
			at := start.Add(time.Duration(k+1) * audio.FrameDuration)
			p.Publish(tap.In, marked(int16(k+1)), at)
			p.Publish(tap.Out, marked(int16(-k-1)), at)
		}
		time.Sleep(2 * time.Second)
		p.Close()
		res, err := feed.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if res.Lost != 12 {
			t.Fatalf("lost %d, want 12", res.Lost)
		}
		pub := published{}
		for k := range 4 {
			pub[[2]int{k + 1, 0}] = int16(k + 1)
			pub[[2]int{k + 1, 1}] = int16(-k - 1)
		}
		// The timeline runs on with the clock: silence to 2 s, less the
		// second the clock waits for frames.
		checkFile(t, res.Path, pub, int(res.Frames), nil)
		if res.Frames < 40 {
			t.Fatalf("frames %d", res.Frames)
		}
	})
}

// TestFeedEndsWithContext: the call's context ending ends the feed and
// finalises the file.
func TestFeedEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := tap.NewPoint()
		defer p.Close()
		ctx, cancel := context.WithCancel(t.Context())
		feed, err := Start(ctx, t.TempDir(), "call-5", p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		cancel()
		<-feed.Done()
		res, err := feed.Stop()
		if err != nil {
			t.Fatal(err)
		}
		// Silence from the clock, up to a second before the end.
		if res.Frames < 95 || res.Frames > 105 {
			t.Fatalf("frames %d", res.Frames)
		}
		if f := readRaw(t, res.Path); int64(f.frames()) != res.Frames || f.declared != res.Frames*640 {
			t.Fatalf("file: %d frames, header %d bytes", f.frames(), f.declared)
		}
	})
}
