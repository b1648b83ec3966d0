package recordings

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// audioClock is a recording's clock in virtual audio time: t0 plus the
// frames fed so far, so that header rewrites (and their fsyncs) come every
// HeaderInterval of audio however fast the audio is fed.
type audioClock struct{ frames atomic.Int64 }

func (c *audioClock) Now() time.Time {
	return t0.Add(time.Duration(c.frames.Load()) * audio.FrameDuration)
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriterThroughput writes 500 concurrent stereo recordings of
// 10 s of audio each (20 ms frames, as fast as the writers take them:
// WriteFrameWait), with the header rewritten and fsynced every 5 s of
// audio (sync=5s) or only at Close (sync=close). One iteration is the
// whole batch: 250,000 frames, 160 MB. It reports the data rate (MB/s),
// wall time per frame (ns/frame, all writers together) and CPU time per
// frame (cpu-ns/frame).
func BenchmarkWriterThroughput(b *testing.B) {
	const recs, seconds = 500, 10
	const frames = seconds * 50
	for _, c := range []struct {
		name     string
		interval time.Duration
	}{{"sync=5s", 5 * time.Second}, {"sync=close", 24 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(recs * frames * 640)
			left, right := tone(), marked(300)
			var wall, cpu time.Duration
			var n int64
			for b.Loop() {
				dir := b.TempDir()
				ws := make([]*Writer, recs)
				clocks := make([]*audioClock, recs)
				for i := range ws {
					clocks[i] = &audioClock{}
					w, err := Create(b.Context(), dir, fmt.Sprintf("call-%d", i),
						Options{Start: t0, Now: clocks[i].Now, HeaderInterval: c.interval})
					if err != nil {
						b.Fatal(err)
					}
					ws[i] = w
				}
				cpu0, start := cpuTime(b), time.Now()
				var wg sync.WaitGroup
				for i, w := range ws {
					wg.Go(func() {
						for range frames {
							if err := w.WriteFrameWait(b.Context(), left, right); err != nil {
								b.Error(err)
								return
							}
							clocks[i].frames.Add(1)
						}
						res, err := w.Close()
						if err != nil || res.Frames != frames || res.Dropped != 0 {
							b.Errorf("result %+v, %v", res, err)
						}
					})
				}
				wg.Wait()
				wall += time.Since(start)
				cpu += cpuTime(b) - cpu0
				n += recs * frames
				b.StopTimer()
				os.RemoveAll(dir)
				b.StartTimer()
			}
			b.ReportMetric(float64(wall.Nanoseconds())/float64(n), "ns/frame")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/frame")
		})
	}
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestRealtime records calls at real pace: one publisher ticks every
// 20 ms and publishes both directions of each call's tap, with its own
// clock reading per call as the legs' media clocks would; each call is
// recorded with Start (tap → aligner → writer, header rewritten every
// 5 s). It requires that no frame was dropped or lost and that the files
// hold every frame published, and reports the CPU used (a share of one
// core). By default 50 calls for 3 s, so that it holds on a loaded CI
// machine beside the other packages' tests; the measurement of
// docs/PERFORMANCE.md is
//
//	SWITCHD_REC_CALLS=500 SWITCHD_REC_SECONDS=10 go test -run TestRealtime -v ./recordings/
func TestRealtime(t *testing.T) {
	calls := envInt("SWITCHD_REC_CALLS", 50)
	seconds := envInt("SWITCHD_REC_SECONDS", 3)
	if testing.Short() {
		seconds = 1 // still real pace, shorter
	}
	dir := t.TempDir()
	points := make([]*tap.Point, calls)
	feeds := make([]*Feed, calls)
	for i := range calls {
		points[i] = tap.NewPoint()
		f, err := Start(t.Context(), dir, fmt.Sprintf("call-%d", i), points[i], Options{})
		if err != nil {
			t.Fatal(err)
		}
		feeds[i] = f
	}
	left, right := marked(200), marked(300)
	ticks := seconds * 50
	cpu0, start := cpuTime(t), time.Now()
	tick := time.NewTicker(audio.FrameDuration)
	var late int
	for range ticks {
		now := <-tick.C
		if time.Since(now) > audio.FrameDuration {
			late++
		}
		for _, p := range points {
			at := time.Now() // each leg's own media clock
			p.Publish(tap.In, left, at)
			p.Publish(tap.Out, right, at)
		}
	}
	tick.Stop()
	for _, p := range points {
		p.Close()
	}
	var frames, dropped, lost int64
	var results []Result
	for _, f := range feeds {
		res, err := f.Stop()
		if err != nil {
			t.Fatal(err)
		}
		frames += res.Frames
		dropped += res.Dropped
		lost += res.Lost
		results = append(results, res)
	}
	wall, cpu := time.Since(start), cpuTime(t)-cpu0
	// The timelines start when each recording was created, before the
	// first tick: silence, then every frame published.
	for i, res := range results {
		if res.Frames < int64(ticks) {
			t.Errorf("%s: %d frames for %d ticks", res.Path, res.Frames, ticks)
		}
		if i%max(1, calls/10) != 0 {
			continue
		}
		f := readRaw(t, res.Path)
		var l, r int
		for k := range f.frames() {
			if f.slot(k, 0) == 200 {
				l++
			}
			if f.slot(k, 1) == 300 {
				r++
			}
		}
		if l != ticks || r != ticks {
			t.Errorf("%s: %d and %d frames of audio for %d ticks", res.Path, l, r, ticks)
		}
	}
	t.Logf("%d recordings × %d s in %v: CPU %v = %.1f%% of one core (%.0f ns per frame), %d frames, %d dropped, %d lost, %d publisher ticks late",
		calls, seconds, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(),
		float64(cpu.Nanoseconds())/float64(frames), frames, dropped, lost, late)
	if dropped != 0 || lost != 0 {
		t.Fatalf("%d frames dropped, %d lost", dropped, lost)
	}
}
