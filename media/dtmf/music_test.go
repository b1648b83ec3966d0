package dtmf

import (
	"math"
	"math/rand/v2"

	"github.com/switchd/switchd/media/audio"
)

// This file synthesises music for the talk-off test: songs of chords,
// melodies, bass lines and drums, with instruments rich in harmonics (as
// nearly all instruments are), envelopes, vibrato, and passages that hold
// two notes close to a DTMF pair (F5 + F♯6 is 698.5 + 1480 Hz, digit 3
// within 0.2 %) for up to two seconds.

// midiFreq returns the frequency of MIDI note n (A4 = 69 = 440 Hz).
func midiFreq(n float64) float64 { return 440 * math.Pow(2, (n-69)/12) }

// instrument is an additive timbre: partial amplitudes (1 = the
// fundamental), an ADSR envelope, vibrato and inharmonicity.
type instrument struct {
	partials          []float64
	attack, decay     float64 // seconds
	sustain           float64 // level during the note, after decay
	release           float64 // seconds
	vibDepth, vibRate float64 // relative depth (0.006 = ±0.6 %), Hz
	stretch           float64 // inharmonicity B: partial k at k·f·√(1+B·k²)
	pluck             float64 // >0: exponential decay rate, 1/s (piano, guitar)
}

// instruments: a palette whose second harmonic is at most 8 dB below the
// fundamental, as in strings, brass, reeds, voice-like pads, piano and
// guitar.
var instruments = []instrument{
	// sawtooth strings: 1/k, slow attack, vibrato
	{partials: sawPartials(24), attack: 0.12, decay: 0.2, sustain: 0.8, release: 0.3, vibDepth: 0.006, vibRate: 5.5},
	// brass: strong low partials, quick attack, some vibrato
	{partials: []float64{1, 0.9, 0.7, 0.55, 0.4, 0.3, 0.2, 0.15, 0.1, 0.07}, attack: 0.04, decay: 0.1, sustain: 0.7, release: 0.12, vibDepth: 0.004, vibRate: 6},
	// clarinet-like: odd partials dominate but the 2nd is present
	{partials: []float64{1, 0.4, 0.75, 0.2, 0.5, 0.1, 0.3, 0.05, 0.15}, attack: 0.03, decay: 0.05, sustain: 0.9, release: 0.08},
	// piano: decaying, slightly inharmonic
	{partials: []float64{1, 0.6, 0.45, 0.3, 0.22, 0.15, 0.1, 0.08, 0.05, 0.03}, attack: 0.003, decay: 0.05, sustain: 0.9, release: 0.25, stretch: 0.0004, pluck: 2.5},
	// guitar: plucked, bright
	{partials: []float64{1, 0.8, 0.6, 0.5, 0.35, 0.3, 0.2, 0.12, 0.08}, attack: 0.002, decay: 0.02, sustain: 1, release: 0.15, stretch: 0.0001, pluck: 4},
	// organ: drawbars 8' 4' 2⅔' 2'
	{partials: []float64{1, 0.7, 0.5, 0.5, 0.1, 0.3, 0, 0.25}, attack: 0.01, decay: 0.01, sustain: 1, release: 0.05},
	// sung "ah" pad: formant-shaped, vibrato
	{partials: []float64{0.7, 1, 0.9, 0.6, 0.5, 0.45, 0.3, 0.2, 0.15, 0.1, 0.06, 0.04}, attack: 0.15, decay: 0.2, sustain: 0.85, release: 0.4, vibDepth: 0.01, vibRate: 5},
	// square lead
	{partials: []float64{1, 0.45, 0.33, 0.1, 0.2, 0.05, 0.14, 0.03, 0.11}, attack: 0.01, decay: 0.1, sustain: 0.7, release: 0.1, vibDepth: 0.005, vibRate: 6.5},
}

func sawPartials(n int) []float64 {
	p := make([]float64, n)
	for k := range p {
		p[k] = 1 / float64(k+1)
	}
	return p
}

// note is one note to render.
type note struct {
	start, dur float64 // seconds
	pitch      float64 // MIDI note number
	gain       float64
	inst       *instrument
	pair       bool // one of two notes held on a DTMF-like pair
}

// render adds n to out (at audio.SampleRate), partials up to 3.8 kHz.
func (n note) render(out []float32, rng *rand.Rand) {
	in := n.inst
	from := int(n.start * audio.SampleRate)
	length := int((n.dur + in.release) * audio.SampleRate)
	if from >= len(out) {
		return
	}
	length = min(length, len(out)-from)
	f0 := midiFreq(n.pitch)
	vibPhase := rng.Float64() * 2 * math.Pi
	const chunk = 32 // samples between updates of frequency and envelope
	for k, a := range in.partials {
		if a == 0 {
			continue
		}
		h := float64(k + 1)
		fk := f0 * h * math.Sqrt(1+in.stretch*h*h)
		if fk*(1+in.vibDepth) > 3800 {
			break
		}
		amp := a * n.gain
		phase := rng.Float64() * 2 * math.Pi
		c, s := math.Cos(phase), math.Sin(phase)
		for i := 0; i < length; i += chunk {
			t := float64(i) / audio.SampleRate
			f := fk * (1 + in.vibDepth*math.Sin(2*math.Pi*in.vibRate*t+vibPhase))
			w := 2 * math.Pi * f / audio.SampleRate
			cr, sr := math.Cos(w), math.Sin(w)
			e0 := amp * in.envelope(t, n.dur)
			e1 := amp * in.envelope(t+chunk/float64(audio.SampleRate), n.dur)
			end := min(i+chunk, length)
			seg := out[from+i : from+end]
			for j := range seg {
				g := e0 + (e1-e0)*float64(j)/chunk
				seg[j] += float32(g * s)
				c, s = c*cr-s*sr, s*cr+c*sr
			}
			// Renormalise the rotating phasor against rounding drift.
			m := 1 / math.Hypot(c, s)
			c, s = c*m, s*m
		}
	}
}

// envelope returns the instrument's gain t seconds into a note held for
// dur seconds.
func (in *instrument) envelope(t, dur float64) float64 {
	var g float64
	switch {
	case t < in.attack:
		g = t / in.attack
	case t < in.attack+in.decay:
		g = 1 - (1-in.sustain)*(t-in.attack)/in.decay
	default:
		g = in.sustain
	}
	if in.pluck > 0 {
		g *= math.Exp(-in.pluck * t)
	}
	if t > dur {
		g *= math.Max(0, 1-(t-dur)/in.release)
	}
	return g
}

// scales in semitones above the key's root.
var (
	majorScale = []int{0, 2, 4, 5, 7, 9, 11}
	minorScale = []int{0, 2, 3, 5, 7, 8, 10}
)

// progressions of scale degrees (0 = I).
var progressions = [][]int{
	{0, 4, 5, 3}, {0, 5, 3, 4}, {5, 3, 0, 4}, {0, 3, 4, 0}, {1, 4, 0, 0}, {0, 6, 5, 4},
}

// dtmfLike are note pairs (MIDI) within 3 % of a DTMF pair: F5+F♯6 (3),
// F5+E6 (2), A♯5+E6 (0), F5+D♯6 (1), G5+F♯6 (6), A♯5+F♯6 (#), G♯5+E6 (8),
// A♯5+D6 (*).
var dtmfLike = [][2]float64{{77, 90}, {77, 88}, {82, 88}, {77, 87}, {79, 90}, {82, 90}, {80, 88}, {82, 86}}

// synthMusic returns seconds of music at audio.SampleRate, scaled to an
// RMS level of −16 dBm0, as songs of 30 to 50 s.
func synthMusic(seed uint64, seconds float64) []int16 {
	return compose(seed, seconds).render(seconds, nil)
}

// compose writes the score of seconds of songs.
func compose(seed uint64, seconds float64) *score {
	rng := rand.New(rand.NewPCG(seed, 0x4d75))
	sc := &score{rng: rng}
	for t := 0.0; t < seconds; {
		songLen := 30 + rng.Float64()*20
		t = sc.song(t, math.Min(t+songLen, seconds))
		t += 0.5 + rng.Float64()
	}
	return sc
}

// render plays the score: all of it, or with only, only the notes only
// accepts and no drums. The result is scaled to an RMS level of
// −16 dBm0.
func (sc *score) render(seconds float64, only func(*note) bool) []int16 {
	out := make([]float32, int(seconds*audio.SampleRate))
	for _, n := range sc.notes {
		if only == nil || only(&n) {
			n.render(out, sc.rng)
		}
	}
	if only == nil {
		sc.renderDrums(out)
	}
	var sum float64
	for _, v := range out {
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum / float64(len(out)))
	target := amplitude(-16) / math.Sqrt2
	pcm := make([]int16, len(out))
	for i, v := range out {
		pcm[i] = int16(max(-32768, min(32767, math.Round(float64(v)/rms*target))))
	}
	return pcm
}

// score collects the notes and drum hits of the songs.
type score struct {
	rng   *rand.Rand
	notes []note
	drums []drumHit
}

// drumHit is one drum onset: kind 0 kick, 1 snare, 2 hi-hat.
type drumHit struct {
	at   float64
	kind int
	gain float64
}

// song writes one song from t0 to t1 and returns its end.
func (sc *score) song(t0, t1 float64) float64 {
	rng, notes := sc.rng, &sc.notes
	bpm := 70 + rng.Float64()*80
	beat := 60 / bpm
	root := 55 + rng.IntN(12) // G3..F♯4
	scale := majorScale
	if rng.IntN(2) == 0 {
		scale = minorScale
	}
	prog := progressions[rng.IntN(len(progressions))]
	pad := &instruments[rng.IntN(len(instruments))]
	lead := &instruments[rng.IntN(len(instruments))]
	bass := &instruments[1+rng.IntN(4)]
	drums := rng.IntN(4) != 0
	degree := func(d int) int { return root + 12*(d/len(scale)) + scale[d%len(scale)] }
	t := t0
	for bar := 0; t+4*beat <= t1; bar++ {
		chord := prog[bar%len(prog)]
		// Chord: triad (sometimes a seventh) held for the bar, voiced
		// around the root's octave.
		tones := []int{chord, chord + 2, chord + 4}
		if rng.IntN(3) == 0 {
			tones = append(tones, chord+6)
		}
		for _, d := range tones {
			*notes = append(*notes, note{start: t, dur: 4*beat - 0.05, pitch: float64(degree(d)), gain: 0.18, inst: pad})
		}
		// Bass: root on beats 1 and 3, an octave below.
		for b := 0; b < 4; b += 2 {
			*notes = append(*notes, note{start: t + float64(b)*beat, dur: 1.8 * beat, pitch: float64(degree(chord) - 24), gain: 0.35, inst: bass})
		}
		// Melody: a walk over the scale, an octave up, in eighths,
		// quarters and halves.
		pos := 7 + chord
		for m := 0.0; m < 4; {
			l := []float64{0.5, 1, 1, 2}[rng.IntN(4)]
			l = math.Min(l, 4-m)
			pos = max(0, pos+rng.IntN(5)-2)
			if rng.IntN(6) != 0 {
				*notes = append(*notes, note{start: t + m*beat, dur: l*beat - 0.02, pitch: float64(degree(pos) + 12), gain: 0.3, inst: lead})
			}
			m += l
		}
		// Now and then, two instruments hold a DTMF-like interval.
		if rng.IntN(5) == 0 {
			p := dtmfLike[rng.IntN(len(dtmfLike))]
			d := (0.5 + rng.Float64()*1.5)
			a, b := &instruments[rng.IntN(len(instruments))], &instruments[rng.IntN(len(instruments))]
			g := 0.25 + rng.Float64()*0.2
			*notes = append(*notes, note{start: t, dur: d, pitch: p[0], gain: g, inst: a, pair: true},
				note{start: t, dur: d, pitch: p[1], gain: g * (0.6 + rng.Float64()*0.8), inst: b, pair: true})
		}
		if drums {
			for b := 0; b < 8; b++ {
				at := t + float64(b)*beat/2
				sc.drums = append(sc.drums, drumHit{at, 2, 0.05 + rng.Float64()*0.05})
				switch b {
				case 0, 4:
					sc.drums = append(sc.drums, drumHit{at, 0, 0.9})
				case 2, 6:
					sc.drums = append(sc.drums, drumHit{at, 1, 0.4})
				}
			}
		}
		t += 4 * beat
	}
	return t
}

// renderDrums adds the drum hits to out: a kick is a sine sweeping from
// 150 to 50 Hz, a snare a noise burst with a 185 Hz body, a hi-hat
// high-passed noise.
func (sc *score) renderDrums(out []float32) {
	rng := sc.rng
	for _, h := range sc.drums {
		from := int(h.at * audio.SampleRate)
		var prev float64
		var phase float64
		for i := 0; i < audio.SampleRate/4 && from+i < len(out); i++ {
			t := float64(i) / audio.SampleRate
			var v float64
			switch h.kind {
			case 0:
				f := 50 + 100*math.Exp(-t*30)
				phase += 2 * math.Pi * f / audio.SampleRate
				v = math.Sin(phase) * math.Exp(-t*12)
			case 1:
				v = (rng.NormFloat64()*0.6 + 0.5*math.Sin(2*math.Pi*185*t)) * math.Exp(-t*25)
			case 2:
				n := rng.NormFloat64()
				v = (n - prev) * math.Exp(-t*60)
				prev = n
			}
			out[from+i] += float32(v * h.gain)
		}
	}
}
