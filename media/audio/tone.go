package audio

import (
	"math"
	"time"
)

// ToneSpec describes a call-progress tone (ITU-T E.180): one or more
// frequencies summed, gated by a cadence.
type ToneSpec struct {
	// Freqs are the frequencies in Hz, summed. Frequencies outside
	// (0, SampleRate/2) are ignored. No frequency is silence.
	Freqs []float64
	// Level is the level of each frequency component in dBm0 (see
	// FullScaleDBm0), e.g. −13. Zero means 0 dBm0, not a default.
	Level float64
	// Cadence alternates on and off durations: on, off, on, off, …
	// Empty is a continuous tone. Durations are rounded to whole
	// samples; negative durations count as zero.
	Cadence []time.Duration
	// Once plays the cadence a single time and then silence (a beep);
	// otherwise the cadence repeats for ever.
	Once bool
}

// Duration returns how long one play of a Once tone lasts (the sum of its
// cadence), or 0 for a tone that does not end.
func (s ToneSpec) Duration() time.Duration {
	if !s.Once || len(s.Cadence) == 0 {
		return 0
	}
	var d time.Duration
	for _, c := range s.Cadence {
		d += max(c, 0)
	}
	return d
}

// toneRamp is the length of the raised-cosine ramp at each edge of an
// on period (2 ms), so that gating a tone does not click.
const toneRamp = SampleRate * 2 / 1000

// ToneGen generates a ToneSpec frame by frame. The oscillators' phase
// carries across frames, so consecutive frames join without a click. A
// ToneGen is not safe for concurrent use.
type ToneGen struct {
	osc        []oscillator
	seg        []int // cadence in samples
	once       bool
	continuous bool
	idx, pos   int // position: segment index, sample within it
	done       bool
}

// oscillator is one sine, advanced by complex rotation.
type oscillator struct {
	c, s   float64 // cos and sin of the current phase
	cr, sr float64 // cos and sin of the phase step
	amp    float64
}

// NewTone returns a generator of spec, starting at the beginning of its
// cadence.
func NewTone(spec ToneSpec) *ToneGen {
	g := &ToneGen{once: spec.Once, continuous: len(spec.Cadence) == 0}
	amp := amplitudeDBm0(spec.Level)
	for _, f := range spec.Freqs {
		if !(f > 0 && f < SampleRate/2) {
			continue
		}
		w := 2 * math.Pi * f / SampleRate
		g.osc = append(g.osc, oscillator{c: 1, cr: math.Cos(w), sr: math.Sin(w), amp: amp})
	}
	total := 0
	for _, d := range spec.Cadence {
		n := int(math.Round(max(d, 0).Seconds() * SampleRate))
		g.seg = append(g.seg, n)
		total += n
	}
	if !g.continuous && total == 0 {
		// A cadence of nothing but zeros: silence.
		g.osc = nil
		g.continuous = true
	}
	return g
}

// Done reports whether a Once tone has finished; from then on Next
// writes silence. A repeating or continuous tone is never done.
func (g *ToneGen) Done() bool { return g.done }

// Reset restarts the tone at the beginning of its cadence.
func (g *ToneGen) Reset() {
	g.idx, g.pos, g.done = 0, 0, false
	for i := range g.osc {
		g.osc[i].c, g.osc[i].s = 1, 0
	}
}

// Next writes the next 20 ms of the tone into out.
func (g *ToneGen) Next(out *Frame) {
	if g.continuous {
		g.on(out[:], g.pos, -1)
		g.pos = min(g.pos+FrameSamples, toneRamp)
		g.normalize()
		return
	}
	buf := out[:]
	for len(buf) > 0 {
		if g.done {
			clear(buf)
			return
		}
		seg := g.seg[g.idx]
		n := min(seg-g.pos, len(buf))
		if g.idx%2 == 0 {
			g.on(buf[:n], g.pos, seg)
		} else {
			clear(buf[:n])
		}
		buf = buf[n:]
		g.pos += n
		if g.pos == seg {
			g.pos = 0
			g.idx++
			if g.idx == len(g.seg) {
				g.idx = 0
				g.done = g.once
			}
		}
	}
	g.normalize()
}

// on generates len(buf) samples of the on period of length seg (−1:
// endless), starting at sample pos of it.
func (g *ToneGen) on(buf []int16, pos, seg int) {
	if len(g.osc) == 0 {
		clear(buf)
		return
	}
	ramp := toneRamp
	if seg >= 0 {
		ramp = min(ramp, seg/2)
	}
	for i := range buf {
		var v float64
		for k := range g.osc {
			o := &g.osc[k]
			v += o.amp * o.s
			o.c, o.s = o.c*o.cr-o.s*o.sr, o.s*o.cr+o.c*o.sr
		}
		p := pos + i
		if p < ramp {
			v *= rampGain(p, ramp)
		} else if seg >= 0 && seg-1-p < ramp {
			v *= rampGain(seg-1-p, ramp)
		}
		buf[i] = clamp16(v)
	}
}

// normalize corrects the rounding drift of the oscillators' magnitude.
func (g *ToneGen) normalize() {
	for k := range g.osc {
		o := &g.osc[k]
		r := 1 / math.Sqrt(o.c*o.c+o.s*o.s)
		o.c *= r
		o.s *= r
	}
}

// rampGain is the raised-cosine gain at sample p of a ramp n long.
func rampGain(p, n int) float64 {
	return 0.5 - 0.5*math.Cos(math.Pi*(float64(p)+0.5)/float64(n))
}

// clamp16 rounds v to the nearest int16 (halves away from zero),
// saturating; NaN is 0.
func clamp16(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	case v < 0:
		return int16(v - 0.5)
	}
	return 0 // NaN
}
