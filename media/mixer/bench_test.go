package mixer

import (
	"fmt"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// benchConference joins n talking participants; with supervisor set, the
// last one supervises the first in that mode.
func benchConference(b *testing.B, n int, supervisor Mode) (*Mixer, []*Participant, []audio.Frame) {
	b.Helper()
	m := New(Config{})
	ps := make([]*Participant, n)
	frames := make([]audio.Frame, n)
	for i := range ps {
		jc := JoinConfig{}
		if supervisor != 0 && i == n-1 {
			jc = JoinConfig{Agent: ps[0], Mode: supervisor}
		}
		p, err := m.Join(fmt.Sprint("p", i), jc)
		if err != nil {
			b.Fatal(err)
		}
		ps[i] = p
		audio.NewTone(audio.ToneSpec{Freqs: []float64{300 + 50*float64(i)}, Level: -10}).Next(&frames[i])
	}
	return m, ps, frames
}

// mixFrames runs b.N frames: every participant writes one frame, Step
// mixes, every participant reads its frame (what the legs' goroutines
// do around a Step), with change called before each Step if set. It
// reports the cost per participant per 20 ms frame.
func mixFrames(b *testing.B, m *Mixer, ps []*Participant, frames []audio.Frame, change func(i int)) {
	var out audio.Frame
	for range 2 { // past the join fades
		for i, p := range ps {
			p.Write(&frames[i])
		}
		m.Step()
		for _, p := range ps {
			p.Next(&out)
		}
	}
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		for i, p := range ps {
			p.Write(&frames[i])
		}
		if change != nil {
			change(k)
			k++
		}
		m.Step()
		for _, p := range ps {
			p.Next(&out)
		}
	}
	perPart := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(len(ps))
	b.ReportMetric(perPart, "ns/participant")
	// Share of one core to mix this many participants in 20 ms frames.
	b.ReportMetric(perPart*float64(len(ps))/float64(audio.FrameDuration.Nanoseconds())*100, "%core")
}

// BenchmarkMixStep is one 20 ms frame of a conference where everyone
// hears everyone (total − own), and of calls with a supervisor (a
// listener set that is not everyone: per-listener sums).
func BenchmarkMixStep(b *testing.B) {
	for _, n := range []int{3, 10, 50} {
		b.Run(fmt.Sprintf("conference/n=%d", n), func(b *testing.B) {
			m, ps, frames := benchConference(b, n, 0)
			mixFrames(b, m, ps, frames, nil)
		})
	}
	for _, mode := range []Mode{Listen, Whisper, Barge} {
		for _, n := range []int{3, 10, 50} {
			b.Run(fmt.Sprintf("supervisor-%v/n=%d", mode, n), func(b *testing.B) {
				m, ps, frames := benchConference(b, n, mode)
				mixFrames(b, m, ps, frames, nil)
			})
		}
	}
	// Every listener hears only half of the others: the slowest plans.
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("half-heard/n=%d", n), func(b *testing.B) {
			m, ps, frames := benchConference(b, n, 0)
			for i, l := range ps {
				for j, s := range ps {
					if i != j && (i+j)%2 == 0 {
						if err := m.SetHears(l, s, false); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			mixFrames(b, m, ps, frames, nil)
		})
	}
}

// BenchmarkMixStepChange is a frame after a setting changed (a mute
// toggled before every Step): the listening plans are rebuilt, O(N²).
func BenchmarkMixStepChange(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			m, ps, frames := benchConference(b, n, Whisper)
			mixFrames(b, m, ps, frames, func(i int) { ps[1].SetMuted(i%2 == 0) })
		})
	}
}
