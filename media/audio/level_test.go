package audio

import (
	"math"
	"testing"
)

func TestLevelDBm0Reference(t *testing.T) {
	for _, tc := range []struct {
		amp, want float64
	}{
		{32767, 3.17},
		{32767 * math.Pow(10, -3.17/20), 0}, // 0 dBm0: peak ≈ 22780
		{32767 * math.Pow(10, -16.17/20), -13},
	} {
		// 8000 samples of 1 kHz: a whole number of periods.
		if l := LevelDBm0(sine(1000, SampleRate, 8000, tc.amp)); math.Abs(l-tc.want) > 0.01 {
			t.Errorf("sine of peak %.0f: %.3f dBm0, want %.2f", tc.amp, l, tc.want)
		}
	}
	if l := LevelDBm0(nil); !math.IsInf(l, -1) {
		t.Errorf("LevelDBm0(nil) = %v", l)
	}
	if l := LevelDBm0(make([]int16, 160)); !math.IsInf(l, -1) {
		t.Errorf("LevelDBm0(silence) = %v", l)
	}
}

func TestGoertzel(t *testing.T) {
	s := sine(1000, SampleRate, 800, 10000)
	if p := Goertzel(s, 1000); math.Abs(p-10000*10000/2)/(10000*10000/2) > 0.01 {
		t.Errorf("Goertzel at the tone = %.0f, want %.0f", p, 10000.0*10000/2)
	}
	if p := Goertzel(s, 1500); p > 1 {
		t.Errorf("Goertzel off the tone = %.3f", p)
	}
	// Off-bin frequencies work too: 697 Hz (DTMF row 1) over 205 samples.
	s = sine(697, SampleRate, 205, 8000)
	if l := PowerDBm0(Goertzel(s, 697)) - PowerDBm0(8000*8000/2); math.Abs(l) > 0.5 {
		t.Errorf("697 Hz off by %.2f dB", l)
	}
	if p := Goertzel(nil, 1000); p != 0 {
		t.Errorf("Goertzel(nil) = %v", p)
	}
}
