package mixer

import (
	"math"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// Test tones: whole numbers of periods in a 20 ms frame (multiples of
// 50 Hz), so that Goertzel over whole frames sees no leakage between
// them.
const (
	fCustomer   = 400.0
	fAgent      = 1000.0
	fSupervisor = 1600.0
	fFourth     = 2200.0

	toneLevel = -10.0 // dBm0 of each test tone
	// Above present, a tone is heard; below absent, it is not. Distinct
	// tones leak nothing into each other's bins; a fade frame or a
	// clipped sum would land between the two.
	present = toneLevel - 1
	absent  = -60.0
)

// party is one participant of a rig with what it says and what it heard.
type party struct {
	p     *Participant
	tone  *audio.ToneGen // nil: says dc
	dc    int16
	mute  bool // writes nothing (the leg sends no audio)
	in    []audio.Frame
	out   []audio.Frame
	gotOK []bool
}

// rig drives a Mixer by hand: every step writes one frame per party,
// calls Step and reads one frame per party.
type rig struct {
	t       testing.TB
	m       *Mixer
	parties []*party
}

func newRig(t testing.TB) *rig {
	return &rig{t: t, m: New(Config{})}
}

// join adds a party saying freq (0: the constant dc).
func (r *rig) join(id string, freq float64, dc int16, jc JoinConfig) *party {
	r.t.Helper()
	p, err := r.m.Join(id, jc)
	if err != nil {
		r.t.Fatalf("Join(%s): %v", id, err)
	}
	pa := &party{p: p, dc: dc}
	if freq > 0 {
		pa.tone = audio.NewTone(audio.ToneSpec{Freqs: []float64{freq}, Level: toneLevel})
	}
	r.parties = append(r.parties, pa)
	return pa
}

// step runs n frames.
func (r *rig) step(n int) {
	for range n {
		for _, pa := range r.parties {
			var f audio.Frame
			switch {
			case pa.mute:
			case pa.tone != nil:
				pa.tone.Next(&f)
			default:
				for i := range f {
					f[i] = pa.dc
				}
			}
			pa.in = append(pa.in, f)
			if !pa.mute {
				pa.p.Write(&f)
			}
		}
		r.m.Step()
		for _, pa := range r.parties {
			var f audio.Frame
			ok := pa.p.Next(&f)
			pa.out = append(pa.out, f)
			pa.gotOK = append(pa.gotOK, ok)
		}
	}
}

// last returns the last frame pa heard.
func (pa *party) last() *audio.Frame { return &pa.out[len(pa.out)-1] }

// samples concatenates frames from index from on.
func samples(frames []audio.Frame, from int) []int16 {
	s := make([]int16, 0, (len(frames)-from)*audio.FrameSamples)
	for _, f := range frames[from:] {
		s = append(s, f[:]...)
	}
	return s
}

// levelAt is the level in dBm0 of the component at freq in s.
func levelAt(s []int16, freq float64) float64 {
	return audio.PowerDBm0(audio.Goertzel(s, freq))
}

// checkHears fails unless the last frame pa heard holds exactly the
// tones in want among all.
func checkHears(t testing.TB, name string, pa *party, all map[string]float64, want ...string) {
	t.Helper()
	set := map[string]bool{}
	for _, w := range want {
		set[w] = true
	}
	for who, f := range all {
		lvl := levelAt(pa.last()[:], f)
		switch {
		case set[who] && lvl < present:
			t.Errorf("%s: does not hear %s (%.1f dBm0 at %.0f Hz)", name, who, lvl, f)
		case !set[who] && lvl > absent:
			t.Errorf("%s: hears %s (%.1f dBm0 at %.0f Hz)", name, who, lvl, f)
		}
	}
}

// maxJump is the largest difference between consecutive samples.
func maxJump(s []int16) (jump int, at int) {
	for i := 1; i < len(s); i++ {
		d := int(s[i]) - int(s[i-1])
		if d < 0 {
			d = -d
		}
		if d > jump {
			jump, at = d, i
		}
	}
	return jump, at
}

// rampStep is the largest jump a fade of a constant dc may make: one
// step of the 160-sample ramp, plus rounding.
func rampStep(dc int) int { return int(math.Ceil(float64(dc)/audio.FrameSamples)) + 1 }
