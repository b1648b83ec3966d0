package dtmf

import (
	"math"

	"github.com/switchd/switchd/media/audio"
)

// toneFit is a least-squares fit of a block to four sines: the row tone,
// the column tone and the second harmonic of each, at frequencies
// estimated from the block. Fitting them jointly keeps a harmonic from
// hiding behind a nearby tone: 2·697 = 1394 Hz lies 58 Hz from 1336 Hz,
// inside one Goertzel filter's main lobe at this block length, so a
// filter on 1394 Hz mostly hears the 1336 Hz tone, while the fit
// separates them.
type toneFit struct {
	power [4]float64 // mean-square power of each sine: row, column, 2·row, 2·column
}

// fitTones fits x to sines at freqs (Hz). ok is false when two of the
// frequencies are too close to be told apart within the block (a
// "column tone" that is the row tone's own harmonic, say).
//
// With time counted from the block's middle (n = −(N−1)/2 … (N−1)/2),
// the cosines are orthogonal to the sines (their products are odd), so
// the fit splits into two systems of four, one for the cosine and one
// for the sine coefficients, and their Gram matrices have closed forms
// in the Dirichlet kernel D(a) = Σ cos(a·n) = sin(N·a/2) / sin(a/2):
//
//	Σ cos(ωi·n)·cos(ωj·n) = (D(ωi−ωj) + D(ωi+ωj)) / 2
//	Σ sin(ωi·n)·sin(ωj·n) = (D(ωi−ωj) − D(ωi+ωj)) / 2
//
// so only the four correlations with x take a pass over the samples.
func fitTones(x []float64, freqs [4]float64) (fit toneFit, ok bool) {
	n := len(x)
	var w [4]float64
	for k, f := range freqs {
		w[k] = 2 * math.Pi * f / audio.SampleRate
	}
	var gc, gs [4][4]float64
	for i := range 4 {
		for j := 0; j <= i; j++ {
			d, s := dirichlet(w[i]-w[j], n), dirichlet(w[i]+w[j], n)
			gc[i][j], gs[i][j] = (d+s)/2, (d-s)/2
		}
	}
	// Correlations with x, by phasors rotated from the first sample's
	// time, the four in one pass (independent chains run in parallel).
	var c, s, cr, sr, bc, bs [4]float64
	mid := float64(n-1) / 2
	for k := range 4 {
		c[k], s[k] = math.Cos(-w[k]*mid), math.Sin(-w[k]*mid)
		cr[k], sr[k] = math.Cos(w[k]), math.Sin(w[k])
	}
	for _, v := range x {
		for k := range 4 {
			bc[k] += v * c[k]
			bs[k] += v * s[k]
			c[k], s[k] = c[k]*cr[k]-s[k]*sr[k], s[k]*cr[k]+c[k]*sr[k]
		}
	}
	ac, okc := solve4(&gc, bc, n)
	as, oks := solve4(&gs, bs, n)
	if !okc || !oks {
		return toneFit{}, false
	}
	for k := range 4 {
		fit.power[k] = (ac[k]*ac[k] + as[k]*as[k]) / 2
	}
	return fit, true
}

// dirichlet returns Σ cos(a·n) for n = −(N−1)/2 … (N−1)/2.
func dirichlet(a float64, n int) float64 {
	s := math.Sin(a / 2)
	if math.Abs(s) < 1e-12 {
		// a is a multiple of 2π: every term is ±1.
		if math.Mod(math.Abs(a)/(2*math.Pi)+0.5, 2) < 1 || n%2 == 1 {
			return float64(n)
		}
		return -float64(n)
	}
	return math.Sin(float64(n)*a/2) / s
}

// solve4 solves g·a = b for the symmetric positive matrix g (lower
// triangle given) by Cholesky factorisation. ok is false when g is
// nearly singular: a basis function whose part independent of the
// others has under 4 % of its energy (≈ N/2).
func solve4(g *[4][4]float64, b [4]float64, n int) (a [4]float64, ok bool) {
	var l [4][4]float64
	for j := range 4 {
		d := g[j][j]
		for k := range j {
			d -= l[j][k] * l[j][k]
		}
		if d < 0.02*float64(n) {
			return a, false
		}
		d = math.Sqrt(d)
		l[j][j] = d
		for i := j + 1; i < 4; i++ {
			e := g[i][j]
			for k := range j {
				e -= l[i][k] * l[j][k]
			}
			l[i][j] = e / d
		}
	}
	for i := range 4 {
		e := b[i]
		for k := range i {
			e -= l[i][k] * a[k]
		}
		a[i] = e / l[i][i]
	}
	for i := 3; i >= 0; i-- {
		e := a[i]
		for k := i + 1; k < 4; k++ {
			e -= l[k][i] * a[k]
		}
		a[i] = e / l[i][i]
	}
	return a, true
}

// refineFreq estimates the frequency of a tone near f from the powers of
// three filters at f−freqOffset, f and f+freqOffset (pm, p0, pp), by
// fitting a parabola to their logarithms: near its peak, the main lobe
// of a Goertzel filter is close to a Gaussian. ok is false when the
// three do not peak (no single tone there). Within the filters' span the
// estimate is within 0.3 %; beyond it, it falls short.
func refineFreq(f, pm, p0, pp float64) (float64, bool) {
	if pm <= 0 || p0 <= 0 || pp <= 0 {
		return 0, false
	}
	lm, l0, lp := math.Log(pm), math.Log(p0), math.Log(pp)
	den := 2*l0 - lm - lp
	if den <= 0 {
		return 0, false
	}
	return f + freqOffset*(lp-lm)/(2*den), true
}
