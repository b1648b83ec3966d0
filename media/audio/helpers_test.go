package audio

import "math"

// sine returns n samples of a sine of freq Hz and peak amp at rate Hz.
func sine(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// rmsDB returns the RMS of s in dB relative to 1.
func rmsDB(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return 10 * math.Log10(sum/float64(len(s)))
}

// zeroCrossFreq measures the frequency of a tone in s (at rate Hz) from
// its rising zero crossings, interpolated between samples.
func zeroCrossFreq(s []int16, rate int) float64 {
	first, last := -1.0, -1.0
	n := 0
	for i := 1; i < len(s); i++ {
		a, b := float64(s[i-1]), float64(s[i])
		if a < 0 && b >= 0 {
			t := float64(i-1) + a/(a-b)
			if first < 0 {
				first = t
			} else {
				n++
			}
			last = t
		}
	}
	if n == 0 {
		return 0
	}
	return float64(n) * float64(rate) / (last - first)
}
