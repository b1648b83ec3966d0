package audio

import "math"

// Filter design for Resampler: a Kaiser-windowed sinc (J. F. Kaiser,
// "Nonrecursive digital filter design using the I0-sinh window function",
// 1974; the formulas of Oppenheim & Schafer, Discrete-Time Signal
// Processing, §7.6). Relative to the lower of the two rates fmin:
// passband edge 0.425·fmin, stopband edge 0.5·fmin (3.4 and 4.0 kHz for
// 8000 Hz), cutoff half way, stopband attenuation filterAtten dB.
const (
	filterAtten    = 70.0    // dB
	filterPass     = 0.425   // passband edge / fmin
	filterStop     = 0.5     // stopband edge / fmin
	maxFilterTaps  = 1 << 18 // coefficients in a bank
	maxExactPhase  = 1024    // phases of an exact bank
	minFilterPhase = 64      // phases of an interpolated bank
	maxFilterPhase = 512
)

// firFilter is a polyphase bank: row j holds the kernel sampled at the
// input samples around an output at fractional position j/(rows) (exact:
// one row per phase of the rational ratio) or j/(rows−1) (interpolated
// between adjacent rows).
type firFilter struct {
	taps  []float32 // rows × 2·half
	rows  int
	half  int
	exact bool
}

// row returns the coefficients of row j.
func (f *firFilter) row(j int) []float32 {
	k := 2 * f.half
	return f.taps[j*k : (j+1)*k]
}

// designFilter builds the bank for from → to, whose reduced upsampling
// factor is l. The kernel, in units of input samples, is
// h(t) = 2fc·sinc(2fc·t)·kaiser(t/half); each row is normalised to unit
// DC gain so that every phase passes a constant exactly.
func designFilter(from, to int, l int64) *firFilter {
	fmin := float64(min(from, to))
	fc := (filterPass + filterStop) / 2 * fmin / float64(from) // cycles per input sample
	df := (filterStop - filterPass) * fmin / float64(from)
	beta := 0.1102 * (filterAtten - 8.7)
	n := int(math.Ceil((filterAtten-7.95)/(2.285*2*math.Pi*df))) + 1
	half := max((n+1)/2, 2)
	k := 2 * half

	f := &firFilter{half: half}
	var phases int
	if l <= maxExactPhase && l*int64(k) <= maxFilterTaps {
		f.exact, f.rows, phases = true, int(l), int(l)
	} else {
		// Linear interpolation between 512 phases leaves an error below
		// the stopband (about (2π·fc/phases)²/8 ≈ −108 dB).
		phases = min(max(maxFilterTaps/k, minFilterPhase), maxFilterPhase)
		f.rows = phases + 1
	}
	f.taps = make([]float32, f.rows*k)
	i0b := besselI0(beta)
	c := make([]float64, k)
	for j := range f.rows {
		frac := float64(j) / float64(phases)
		row := f.taps[j*k : (j+1)*k]
		var sum float64
		for i := range k {
			t := float64(i-half+1) - frac
			x := t / float64(half)
			var w float64
			if x*x < 1 {
				w = besselI0(beta*math.Sqrt(1-x*x)) / i0b
			}
			c[i] = 2 * fc * sinc(2*fc*t) * w
			sum += c[i]
		}
		for i := range k {
			row[i] = float32(c[i] / sum)
		}
	}
	return f
}

// sinc is sin(πx)/(πx).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0,
// by its power series.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}
