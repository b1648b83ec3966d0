package audio

import "math"

// Levels are in dBm0, relative to the 0 dBm0 reference of a digital
// telephone channel (ITU-T G.100.1). The reference used here: a sine
// whose peak is linear full scale (±32767) is +3.17 dBm0, the largest
// sine G.711 μ-law can carry (the digital milliwatt sequence of ITU-T
// G.711 tables 5 and 6 decodes to a 0 dBm0 sine 3.17 dB below it).
// A-law's maximum is +3.14 dBm0; the 0.03 dB difference is ignored, so
// both laws share one scale. So 0 dBm0 is a sine of peak ≈ 22 780 (RMS
// ≈ 16 107), and −13 dBm0 a sine of peak ≈ 5 090.
const (
	// FullScaleDBm0 is the level of a full-scale sine.
	FullScaleDBm0 = 3.17
	// fullScaleSinePower is the mean square of a full-scale sine.
	fullScaleSinePower = 32767.0 * 32767.0 / 2
)

// LevelDBm0 returns the level of samples in dBm0 from their RMS value
// (see FullScaleDBm0 for the reference). Silence, or no samples, is
// −Inf.
func LevelDBm0(samples []int16) float64 {
	if len(samples) == 0 {
		return math.Inf(-1)
	}
	var sum float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
	}
	return PowerDBm0(sum / float64(len(samples)))
}

// PowerDBm0 converts a mean power (a mean square of linear samples, as
// returned by Goertzel) to dBm0. Zero power is −Inf.
func PowerDBm0(power float64) float64 {
	return 10*math.Log10(power/fullScaleSinePower) + FullScaleDBm0
}

// amplitudeDBm0 returns the peak amplitude of a sine of level dBm0.
func amplitudeDBm0(level float64) float64 {
	return 32767 * math.Pow(10, (level-FullScaleDBm0)/20)
}

// Goertzel returns the power of the component at freq Hz in samples taken
// at SampleRate, by the Goertzel algorithm (a single DFT term evaluated
// at any frequency, not only at a bin centre). The power is scaled like
// a mean square: a sine of peak A at exactly freq over a whole number of
// periods gives A²/2, so PowerDBm0 turns it into that tone's level.
// Resolution is about SampleRate/len(samples) Hz.
func Goertzel(samples []int16, freq float64) float64 {
	return goertzel(samples, freq, SampleRate)
}

// goertzel is Goertzel at any sample rate.
func goertzel(samples []int16, freq float64, rate int) float64 {
	n := len(samples)
	if n == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * p / (float64(n) * float64(n))
}
