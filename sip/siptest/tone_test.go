package siptest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// through encodes pcm with codec and decodes it again, as a call does.
func through(c Codec, pcm []int16) []int16 {
	return c.decode(nil, c.encode(nil, pcm))
}

// tonePCM generates d seconds of a tone, in 20 ms packets as the phone does.
func tonePCM(freq float64, seconds float64) []int16 {
	t := Tone{Freq: freq}
	out := make([]int16, 0, int(seconds*SampleRate))
	buf := make([]int16, SamplesPerPacket)
	for len(out) < int(seconds*SampleRate) {
		t.Fill(buf)
		out = append(out, buf...)
	}
	return out
}

func TestToneLevelPureTone(t *testing.T) {
	for _, f := range []float64{300, 1000, 1500, 3400} {
		pcm := tonePCM(f, 1)
		if got := ToneLevel(pcm, f); got < 0.99 || got > 1.01 {
			t.Errorf("%v Hz: level %.4f, want ≈1", f, got)
		}
	}
}

func TestToneLevelThroughG711(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		for _, tc := range []struct{ send, other float64 }{{1000, 1500}, {1500, 1000}} {
			pcm := through(c, tonePCM(tc.send, 1))
			if got := ToneLevel(pcm, tc.send); got < 0.95 {
				t.Errorf("%s %v Hz: level %.4f, want ≥ 0.95", c.Name, tc.send, got)
			}
			if got := ToneLevel(pcm, tc.other); got > 0.001 {
				t.Errorf("%s %v Hz sent: level at %v Hz %.5f, want ≈0", c.Name, tc.send, tc.other, got)
			}
		}
	}
}

// TestToneLevelTranscoded runs a tone through µ-law, then the direct
// µ-law→A-law table of G.711 (as switchd transcodes), then A-law decoding.
func TestToneLevelTranscoded(t *testing.T) {
	pcm := tonePCM(1000, 1)
	mu := PCMU.encode(nil, pcm)
	var alaw []byte
	for _, b := range mu {
		alaw = append(alaw, ulawToAlaw(b))
	}
	got := PCMA.decode(nil, alaw)
	if l := ToneLevel(got, 1000); l < 0.95 {
		t.Errorf("transcoded level %.4f, want ≥ 0.95", l)
	}
	if l := ToneLevel(got, 1500); l > 0.001 {
		t.Errorf("transcoded level at 1500 Hz %.5f, want ≈0", l)
	}
}

func ulawToAlaw(b byte) byte { return PCMA.encode(nil, PCMU.decode(nil, []byte{b}))[0] }

func TestToneLevelMixture(t *testing.T) {
	a, b := tonePCM(1000, 1), tonePCM(1500, 1)
	mix := make([]int16, len(a))
	for i := range a {
		mix[i] = a[i]/2 + b[i]/2
	}
	for _, f := range []float64{1000, 1500} {
		if got := ToneLevel(mix, f); math.Abs(got-0.5) > 0.02 {
			t.Errorf("equal mixture: level at %v Hz %.4f, want ≈0.5", f, got)
		}
	}
}

func TestToneLevelSilenceAndNoise(t *testing.T) {
	if got := ToneLevel(make([]int16, SampleRate), 1000); got != 0 {
		t.Errorf("silence: level %v, want 0", got)
	}
	if got := ToneLevel(nil, 1000); got != 0 {
		t.Errorf("no samples: level %v, want 0", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, SampleRate)
	for i := range noise {
		noise[i] = int16(r.IntN(16000) - 8000)
	}
	if got := ToneLevel(noise, 1000); got > ToneAbsent {
		t.Errorf("white noise: level at 1000 Hz %.4f, want < %v", got, ToneAbsent)
	}
}

// TestToneFillPhaseContinuous checks that packets join into one tone: a
// phase jump at each 20 ms boundary would spread energy off the frequency.
func TestToneFillPhaseContinuous(t *testing.T) {
	whole := make([]int16, SampleRate)
	(&Tone{Freq: 1234}).Fill(whole)
	packets := tonePCM(1234, 1)
	for i := range whole {
		if d := int(whole[i]) - int(packets[i]); d < -1 || d > 1 {
			t.Fatalf("sample %d: %d in one go, %d in packets", i, whole[i], packets[i])
		}
	}
}

func TestToneAmplitude(t *testing.T) {
	pcm := tonePCM(1000, 1)
	if got, want := RMS(pcm), DefaultAmplitude/math.Sqrt2; math.Abs(got-want) > 2 {
		t.Errorf("RMS %.1f, want %.1f", got, want)
	}
	silent := tonePCM(0, 0.1)
	if RMS(silent) != 0 {
		t.Errorf("0 Hz tone is not silent")
	}
}

func TestGoertzelOffBin(t *testing.T) {
	// 1003.5 Hz does not fall on a bin of a 4000-sample DFT; Goertzel at
	// that exact frequency still finds nearly all the energy.
	pcm := tonePCM(1003.5, 0.5)
	if got := ToneLevel(pcm, 1003.5); got < 0.98 {
		t.Errorf("off-bin level %.4f, want ≥ 0.98", got)
	}
	if got := ToneLevel(pcm, 1100); got > 0.01 {
		t.Errorf("off-bin tone leaks %.4f to 1100 Hz", got)
	}
}
