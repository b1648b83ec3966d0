package siptest

import (
	"math"

	"github.com/switchd/switchd/media/dtmf"
)

// SampleRate is the clock rate of G.711 audio (RFC 3551 §4.5.14): 8000
// samples per second, one byte per sample on the wire.
const SampleRate = 8000

// SamplesPerPacket is the number of samples in one 20 ms packet (the
// default ptime of RFC 3551 §4.5).
const SamplesPerPacket = SampleRate / 50

// ToneDetected and ToneAbsent are the levels (see ToneLevel) above which a
// tone counts as present and below which it counts as absent. A pure tone
// through G.711 scores above 0.95; a different tone, or silence, near 0.
const (
	ToneDetected = 0.5
	ToneAbsent   = 0.05
)

// Tone generates a continuous sine wave, phase-continuous across calls to
// Fill, so that the packets of a stream join into one unbroken tone.
type Tone struct {
	Freq      float64 // Hz; 0 generates silence
	Freq2     float64 // a second frequency mixed in (a DTMF pair); 0 none
	Amplitude float64 // peak of each frequency, in 16-bit linear units; 0 means DefaultAmplitude
	phase     float64 // radians, in [0, 2π)
	phase2    float64
}

// DefaultAmplitude is about −12 dBFS: loud enough to stand far above G.711
// quantisation noise, far from clipping.
const DefaultAmplitude = 8000

// Fill writes the next len(buf) samples of the tone into buf.
func (t *Tone) Fill(buf []int16) {
	amp := t.Amplitude
	if amp == 0 {
		amp = DefaultAmplitude
	}
	if t.Freq <= 0 {
		clear(buf)
		return
	}
	step := 2 * math.Pi * t.Freq / SampleRate
	step2 := 2 * math.Pi * t.Freq2 / SampleRate
	for i := range buf {
		v := amp * math.Sin(t.phase)
		if t.Freq2 > 0 {
			v += amp * math.Sin(t.phase2)
			t.phase2 = math.Mod(t.phase2+step2, 2*math.Pi)
		}
		buf[i] = int16(math.Round(v))
		t.phase += step
		if t.phase >= 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}

// DTMFTone is the ITU-T Q.23 frequency pair of a key ('0'-'9', '*', '#',
// 'A'-'D'), each at amplitude amp (0: DefaultAmplitude/2); ok is false for
// other bytes.
func DTMFTone(key byte, amp float64) (Tone, bool) {
	low, high, ok := dtmf.Freqs(key)
	if !ok {
		return Tone{}, false
	}
	if amp == 0 {
		amp = DefaultAmplitude / 2
	}
	return Tone{Freq: low, Freq2: high, Amplitude: amp}, true
}

// Goertzel returns the power of samples at freq (Hz) with the Goertzel
// algorithm: the squared magnitude of the DFT of samples at that frequency
// (which need not fall on a DFT bin).
func Goertzel(samples []int16, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// ToneLevel is the share of the energy of samples that lies at freq, from
// 0 (none) to about 1 (a pure tone at freq): the Goertzel power normalised
// by Parseval's theorem, 2·|X(f)|² / (N·Σx²). Silence scores 0. Windows of
// a whole number of periods (1 s for any integer frequency) score best.
func ToneLevel(samples []int16, freq float64) float64 {
	var energy float64
	for _, x := range samples {
		energy += float64(x) * float64(x)
	}
	if energy == 0 || len(samples) == 0 {
		return 0
	}
	return 2 * Goertzel(samples, freq) / (float64(len(samples)) * energy)
}

// RMS is the root mean square of samples (0 for none).
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var energy float64
	for _, x := range samples {
		energy += float64(x) * float64(x)
	}
	return math.Sqrt(energy / float64(len(samples)))
}
