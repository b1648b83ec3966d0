package dtmf

import (
	"math"

	"github.com/switchd/switchd/media/audio"
)

// The DTMF frequencies (ITU-T Q.23): the low (row) group and the high
// (column) group. A digit is one of each.
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// keypad maps a row and a column to the digit of the Q.23 keypad.
var keypad = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// Freqs returns the ITU-T Q.23 low (row) and high (column) frequencies of
// a key; 'a'–'d' are 'A'–'D'. ok is false for a byte that is no DTMF key.
func Freqs(digit byte) (low, high float64, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r, row := range keypad {
		for c, k := range row {
			if k == digit {
				return rowFreqs[r], colFreqs[c], true
			}
		}
	}
	return 0, 0, false
}

// goertzelCoeff returns the Goertzel coefficient 2·cos(2πf/fs) of freq
// at audio.SampleRate. The Goertzel algorithm evaluates one DFT term at
// any frequency, not only at a bin centre, so the filters sit exactly on
// the Q.23 frequencies.
func goertzelCoeff(freq float64) float64 {
	return 2 * math.Cos(2*math.Pi*freq/audio.SampleRate)
}

// goertzelPower finishes a Goertzel filter of n samples whose last two
// states are s1 and s2, and returns its power scaled like a mean square:
// a sine of peak A at the filter's frequency gives A²/2 (the scale of
// audio.Goertzel, so dBm0 conversions agree).
func goertzelPower(s1, s2, coeff float64, n int) float64 {
	return 2 * (s1*s1 + s2*s2 - coeff*s1*s2) / float64(n*n)
}

// goertzel4 runs four filters over x in one pass and returns their
// powers.
func goertzel4(x []float64, coeff [4]float64) (power [4]float64) {
	var s1, s2 [4]float64
	for _, v := range x {
		for k := range 4 {
			s1[k], s2[k] = v+coeff[k]*s1[k]-s2[k], s1[k]
		}
	}
	for k := range 4 {
		power[k] = goertzelPower(s1[k], s2[k], coeff[k], len(x))
	}
	return power
}

// dtmfBank holds the coefficients of the eight DTMF filters.
type dtmfBank struct {
	coeff [8]float64 // rows, then columns
}

func newDTMFBank() dtmfBank {
	var b dtmfBank
	for i, f := range rowFreqs {
		b.coeff[i] = goertzelCoeff(f)
	}
	for i, f := range colFreqs {
		b.coeff[4+i] = goertzelCoeff(f)
	}
	return b
}

// run runs the eight filters over x in one pass and returns their powers
// and the mean square of x.
func (b *dtmfBank) run(x []float64) (power [8]float64, meanSquare float64) {
	var s1, s2 [8]float64
	var energy float64
	c := &b.coeff
	for _, v := range x {
		energy += v * v
		for k := range 8 {
			s1[k], s2[k] = v+c[k]*s1[k]-s2[k], s1[k]
		}
	}
	for k := range 8 {
		power[k] = goertzelPower(s1[k], s2[k], c[k], len(x))
	}
	return power, energy / float64(len(x))
}
