package dtmf

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

const allDigits = "123A456B789C*0#D"

// tonePower returns the mean square of the tone pair of level dBm0 per
// tone (no twist).
func tonePower(level float64) float64 {
	a := amplitude(level)
	return a * a // two sines of a²/2
}

// TestInBandLevels: every digit, 100 ms on, at 20 dB SNR (white noise
// over the whole band), from −3 to −30 dBm0 per tone, with a random phase
// and alignment and a frequency error within ±1.5 % (Q.24's accept band
// is ±1.5 % + 2 Hz).
func TestInBandLevels(t *testing.T) {
	rng := newRand(t, 1)
	for _, level := range []float64{-3, -6, -10, -15, -20, -25, -30} {
		for _, freqErr := range []float64{-0.015, 0, 0.015} {
			t.Run(fmt.Sprintf("%gdBm0/%+g%%", level, freqErr*100), func(t *testing.T) {
				x := make([]float64, samplesOf(time.Duration(len(allDigits))*200*time.Millisecond+time.Second))
				offset := time.Duration(rng.IntN(160)) * sampleTime
				for i := range len(allDigits) {
					addTone(x, toneSpec{digit: allDigits[i], level: level, freqErr: freqErr,
						start: offset + time.Duration(i)*200*time.Millisecond + 100*time.Millisecond, dur: 100 * time.Millisecond}, rng)
				}
				addNoise(x, tonePower(level)/100, rng)
				events := detectAll(NewInBand(), toPCM(x))
				if got := digitString(events); got != allDigits {
					t.Fatalf("digits %q, want %q", got, allDigits)
				}
				for i, e := range events {
					want := t0.Add(offset + time.Duration(i)*200*time.Millisecond + 100*time.Millisecond)
					if d := e.At.Sub(want); d < -2*blockSize*sampleTime || d > 2*blockSize*sampleTime {
						t.Errorf("%c: At %v after the tone's start, want within two blocks", e.Digit, d)
					}
					if e.Duration < 70*time.Millisecond || e.Duration > 110*time.Millisecond {
						t.Errorf("%c: duration %v, want about 100ms", e.Digit, e.Duration)
					}
					if e.Source != SourceInBand {
						t.Errorf("%c: source %v", e.Digit, e.Source)
					}
				}
			})
		}
	}
}

// TestInBandTooQuiet: tones below MinToneLevel are not digits.
func TestInBandTooQuiet(t *testing.T) {
	rng := newRand(t, 2)
	for _, level := range []float64{-40, -45} {
		x := make([]float64, samplesOf(time.Second))
		addTone(x, toneSpec{digit: '5', level: level, start: 100 * time.Millisecond, dur: 200 * time.Millisecond}, rng)
		addNoise(x, tonePower(level)/100, rng)
		if events := detectAll(NewInBand(), toPCM(x)); len(events) != 0 {
			t.Errorf("%g dBm0: detected %q", level, digitString(events))
		}
	}
}

// TestInBandFrequencyError: tones 5 % off are rejected (Q.24 rejects
// beyond ±3.5 %), by the relative peak check of the neighbouring filter.
func TestInBandFrequencyError(t *testing.T) {
	rng := newRand(t, 3)
	for _, e := range []float64{-0.05, 0.05} {
		x := make([]float64, samplesOf(time.Second))
		for _, d := range []byte("159#AD") {
			addTone(x, toneSpec{digit: d, level: -10, freqErr: e, start: 100 * time.Millisecond, dur: 150 * time.Millisecond}, rng)
			if events := detectAll(NewInBand(), toPCM(x)); len(events) != 0 {
				t.Errorf("%c %+g%%: detected %q", d, e*100, digitString(events))
			}
			clear(x)
		}
	}
}

// TestInBandTwist: Q.24 twist limits, normal (row stronger) up to 8 dB,
// reverse (column stronger) up to 4 dB, for every digit.
func TestInBandTwist(t *testing.T) {
	rng := newRand(t, 4)
	cases := []struct {
		twist  float64
		accept bool
	}{
		{0, true}, {4, true}, {7, true}, {-2, true}, {-3, true},
		{10, false}, {12, false}, {-6, false}, {-8, false},
	}
	for _, c := range cases {
		for _, level := range []float64{-8, -20} {
			x := make([]float64, samplesOf(time.Duration(len(allDigits))*200*time.Millisecond+time.Second))
			for i := range len(allDigits) {
				addTone(x, toneSpec{digit: allDigits[i], level: level, twist: c.twist,
					start: time.Duration(i)*200*time.Millisecond + 100*time.Millisecond, dur: 100 * time.Millisecond}, rng)
			}
			addNoise(x, tonePower(level)/1000, rng)
			got := digitString(detectAll(NewInBand(), toPCM(x)))
			want := ""
			if c.accept {
				want = allDigits
			}
			if got != want {
				t.Errorf("twist %+g dB at %g dBm0: digits %q, want %q", c.twist, level, got, want)
			}
		}
	}
}

// TestInBandDurations: Q.24 timing. A 40 ms tone is a digit whatever its
// alignment with the analysis blocks, a 20 ms one never is; a 40 ms pause
// separates two digits (even the same one), a 10 ms interruption does not;
// a digit that follows another without any pause is ignored.
func TestInBandDurations(t *testing.T) {
	rng := newRand(t, 5)
	run := func(tones ...toneSpec) string {
		x := make([]float64, samplesOf(time.Second))
		for _, ts := range tones {
			addTone(x, ts, rng)
		}
		addNoise(x, tonePower(-15)/1000, rng)
		return digitString(detectAll(NewInBand(), toPCM(x)))
	}
	ms := time.Millisecond
	for off := range blockSize {
		start := 100*ms + time.Duration(off)*sampleTime
		if got := run(toneSpec{digit: '7', level: -15, start: start, dur: 40 * ms}); got != "7" {
			t.Errorf("40 ms tone at offset %d: %q, want \"7\"", off, got)
		}
		if got := run(toneSpec{digit: '7', level: -15, start: start, dur: 20 * ms}); got != "" {
			t.Errorf("20 ms tone at offset %d: %q, want none", off, got)
		}
		if got := run(toneSpec{digit: '1', level: -15, start: start, dur: 50 * ms},
			toneSpec{digit: '1', level: -15, start: start + 90*ms, dur: 50 * ms}); got != "11" {
			t.Errorf("1, 40 ms pause, 1 at offset %d: %q, want \"11\"", off, got)
		}
		if got := run(toneSpec{digit: '1', level: -15, start: start, dur: 60 * ms},
			toneSpec{digit: '1', level: -15, start: start + 70*ms, dur: 60 * ms}); got != "1" {
			t.Errorf("1 with a 10 ms interruption at offset %d: %q, want \"1\"", off, got)
		}
		if got := run(toneSpec{digit: '4', level: -15, start: start, dur: 50 * ms},
			toneSpec{digit: '9', level: -15, start: start + 90*ms, dur: 50 * ms}); got != "49" {
			t.Errorf("4, 40 ms pause, 9 at offset %d: %q, want \"49\"", off, got)
		}
		if got := run(toneSpec{digit: '4', level: -15, start: start, dur: 60 * ms},
			toneSpec{digit: '9', level: -15, start: start + 60*ms, dur: 60 * ms}); got != "4" {
			t.Errorf("4 then 9 without a pause at offset %d: %q, want \"4\"", off, got)
		}
	}
}

// TestInBandLongPress: a 5 s tone is one digit of about 5 s.
func TestInBandLongPress(t *testing.T) {
	rng := newRand(t, 6)
	x := make([]float64, samplesOf(6*time.Second))
	addTone(x, toneSpec{digit: '#', level: -12, start: 300 * time.Millisecond, dur: 5 * time.Second}, rng)
	addNoise(x, tonePower(-12)/100, rng)
	events := detectAll(NewInBand(), toPCM(x))
	if len(events) != 1 || events[0].Digit != '#' || math.Abs(events[0].Duration.Seconds()-5) > 0.03 {
		t.Fatalf("events %v, want one # of 5s", events)
	}
}

// TestInBandReset: Reset drops a tone under way.
func TestInBandReset(t *testing.T) {
	rng := newRand(t, 7)
	x := make([]float64, samplesOf(time.Second))
	addTone(x, toneSpec{digit: '2', level: -12, dur: 200 * time.Millisecond}, rng)
	pcm := toPCM(x)
	d := NewInBand()
	detectAll(d, pcm[:samplesOf(100*time.Millisecond)])
	d.Reset()
	if events := detectAll(d, make([]int16, 800)); len(events) != 0 {
		t.Fatalf("after Reset: %v", events)
	}
}

// TestInBandHarmonics: a tone pair whose tones carry second harmonics
// (a voice, an instrument) is no digit, nor is one harmonic-rich note
// whose second harmonic falls on a column frequency (830 Hz and
// 1660 Hz look like C: 852 + 1633 Hz, 7 dB of twist); the same pairs
// without harmonics are digits.
func TestInBandHarmonics(t *testing.T) {
	rng := newRand(t, 8)
	type partial struct{ freq, level float64 }
	run := func(parts ...partial) string {
		x := make([]float64, samplesOf(time.Second))
		for _, p := range parts {
			a := amplitude(p.level)
			ph := rng.Float64() * 2 * math.Pi
			for i := samplesOf(100 * time.Millisecond); i < samplesOf(400*time.Millisecond); i++ {
				x[i] += a * math.Sin(2*math.Pi*p.freq*float64(i)/8000+ph)
			}
		}
		addNoise(x, tonePower(-15)/1000, rng)
		return digitString(detectAll(NewInBand(), toPCM(x)))
	}
	cases := []struct {
		name  string
		parts []partial
		want  string
	}{
		{"2 pure", []partial{{697, -10}, {1336, -10}}, "2"},
		{"2 with the row's harmonic at −6 dB", []partial{{697, -10}, {1394, -16}, {1336, -10}}, ""},
		{"2 with the column's harmonic at −8 dB", []partial{{697, -10}, {1336, -10}, {2672, -18}}, ""},
		{"2 with harmonics at −20 dB (still a digit)", []partial{{697, -10}, {1394, -30}, {1336, -10}, {2672, -30}}, "2"},
		{"9 with the row's harmonic at −7 dB", []partial{{852, -10}, {1704, -17}, {1477, -10}}, ""},
		{"one note of 830 Hz, second harmonic −7 dB", []partial{{830.6, -10}, {1661.2, -17}}, ""},
		{"one note of 830 Hz, pure, plus a tone at 1661 Hz: harmonic pair", []partial{{830.6, -10}, {1661.2, -12}}, ""},
		{"C pure", []partial{{852, -10}, {1633, -12}}, "C"},
		{"one note of 697 Hz with its harmonics", []partial{{697, -10}, {1394, -14}, {2091, -18}, {2788, -22}}, ""},
	}
	for _, c := range cases {
		if got := run(c.parts...); got != c.want {
			t.Errorf("%s: digits %q, want %q", c.name, got, c.want)
		}
	}
}

// TestGoertzelScale: the filter bank's powers are on the scale of
// audio.Goertzel and audio.LevelDBm0 (a sine of level L dBm0 measures
// L dBm0).
func TestGoertzelScale(t *testing.T) {
	bank := newDTMFBank()
	for i, f := range append(rowFreqs[:], colFreqs[:]...) {
		var x [blockSize]float64
		pcm := make([]int16, blockSize)
		for n := range x {
			x[n] = math.Round(amplitude(-13) * math.Sin(2*math.Pi*f*float64(n)/8000+0.3))
			pcm[n] = int16(x[n])
		}
		p, ms := bank.run(x[:])
		ref := audio.Goertzel(pcm, f)
		if math.Abs(p[i]-ref) > 1e-6*ref {
			t.Errorf("%g Hz: power %g, audio.Goertzel %g", f, p[i], ref)
		}
		if lvl := audio.PowerDBm0(p[i]); math.Abs(lvl+13) > 0.5 {
			t.Errorf("%g Hz: %.2f dBm0, want −13", f, lvl)
		}
		if lvl := audio.PowerDBm0(ms); math.Abs(lvl+13) > 0.2 {
			t.Errorf("%g Hz: mean square %.2f dBm0, want −13", f, lvl)
		}
	}
}

// TestRefineFreq: the frequency estimate of a tone within ±1.8 % of a
// DTMF frequency (Q.23) is within 0.3 %.
func TestRefineFreq(t *testing.T) {
	d := NewInBand()
	for i, f := range append(rowFreqs[:], colFreqs[:]...) {
		for e := -0.018; e <= 0.0181; e += 0.003 {
			var x [blockSize]float64
			for n := range x {
				x[n] = 5000 * math.Sin(2*math.Pi*f*(1+e)*float64(n)/8000+1)
			}
			p, _ := d.bank.run(x[:])
			q := goertzel4(x[:], [4]float64{d.offset[i][0], d.offset[i][1]})
			got, ok := refineFreq(f, q[0], p[i], q[1])
			if !ok || math.Abs(got/(f*(1+e))-1) > 0.003 {
				t.Errorf("%g Hz %+.1f%%: estimate %.1f (%v), want %.1f", f, e*100, got, ok, f*(1+e))
			}
		}
	}
}
