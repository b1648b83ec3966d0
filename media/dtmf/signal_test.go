package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// This file generates the test signals of the in-band tests: tone pairs
// at given levels, twist and frequency error, white noise, and feeds
// sample streams to an InBand.

// t0 is the time of the first sample of every test stream.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// amplitude returns the peak of a sine of level dBm0.
func amplitude(level float64) float64 {
	return 32767 * math.Pow(10, (level-audio.FullScaleDBm0)/20)
}

// digitFreqs returns the row and column frequency of digit.
func digitFreqs(digit byte) (row, col float64) {
	for r := range 4 {
		for c := range 4 {
			if keypad[r][c] == digit {
				return rowFreqs[r], colFreqs[c]
			}
		}
	}
	panic("not a digit: " + string(digit))
}

// toneSpec describes one tone pair to add to a signal.
type toneSpec struct {
	digit      byte
	level      float64 // dBm0 of each tone before twist
	twist      float64 // dB: >0 row stronger (normal), <0 column stronger (reverse); split evenly
	freqErr    float64 // relative frequency error of both tones, e.g. 0.015
	start, dur time.Duration
}

// samplesOf converts a duration to samples.
func samplesOf(d time.Duration) int { return int(d * audio.SampleRate / time.Second) }

// addTone adds the tone pair ts to x.
func addTone(x []float64, ts toneSpec, rng *rand.Rand) {
	fr, fc := digitFreqs(ts.digit)
	fr *= 1 + ts.freqErr
	fc *= 1 + ts.freqErr
	ar := amplitude(ts.level + ts.twist/2)
	ac := amplitude(ts.level - ts.twist/2)
	pr, pc := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	from := samplesOf(ts.start)
	to := min(from+samplesOf(ts.dur), len(x))
	for i := from; i < to; i++ {
		t := float64(i-from) / audio.SampleRate
		x[i] += ar*math.Sin(2*math.Pi*fr*t+pr) + ac*math.Sin(2*math.Pi*fc*t+pc)
	}
}

// addNoise adds white Gaussian noise of mean square power to x.
func addNoise(x []float64, power float64, rng *rand.Rand) {
	sd := math.Sqrt(power)
	for i := range x {
		x[i] += rng.NormFloat64() * sd
	}
}

// toPCM rounds and clips x to 16-bit samples.
func toPCM(x []float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// detectAll feeds pcm to d frame by frame (the last frame padded with
// silence), then a second of silence, and returns every digit.
func detectAll(d *InBand, pcm []int16) []Event {
	var out []Event
	var f audio.Frame
	n := (len(pcm) + audio.FrameSamples - 1) / audio.FrameSamples
	for i := 0; i < n+audio.SampleRate/audio.FrameSamples; i++ {
		clear(f[:])
		if i*audio.FrameSamples < len(pcm) {
			copy(f[:], pcm[i*audio.FrameSamples:])
		}
		if e, ok := d.Frame(&f, t0.Add(time.Duration(i)*audio.FrameDuration)); ok {
			out = append(out, e)
		}
	}
	return out
}

// digitString returns the digits of events.
func digitString(events []Event) string {
	b := make([]byte, len(events))
	for i, e := range events {
		b[i] = e.Digit
	}
	return string(b)
}

// newRand returns a deterministic generator for test t.
func newRand(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	return rand.New(rand.NewPCG(seed, 0x5eed))
}
