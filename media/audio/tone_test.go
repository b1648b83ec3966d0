package audio

import (
	"math"
	"testing"
	"time"
)

// render returns the first d of g.
func render(g *ToneGen, d time.Duration) []int16 {
	n := int(d / FrameDuration)
	out := make([]int16, 0, n*FrameSamples)
	var f Frame
	for range n {
		g.Next(&f)
		out = append(out, f[:]...)
	}
	return out
}

// runs classifies blocks of 5 ms as on or off and returns the lengths of
// alternating runs, starting with on, in milliseconds.
func runs(s []int16) []int {
	const block = SampleRate * 5 / 1000
	var out []int
	on := true
	cur := 0
	for i := 0; i+block <= len(s); i += block {
		b := LevelDBm0(s[i:i+block]) > -40
		if b != on {
			out = append(out, cur)
			cur = 0
			on = b
		}
		cur += 5
	}
	return append(out, cur)
}

func TestToneCadences(t *testing.T) {
	for _, region := range []string{"us", "uk", "cn", "eu"} {
		set, ok := Tones(region)
		if !ok {
			t.Fatalf("Tones(%q) not found", region)
		}
		for name, spec := range map[string]ToneSpec{"ringback": set.Ringback, "busy": set.Busy, "congestion": set.Congestion} {
			var cycle time.Duration
			var want []int
			for _, d := range spec.Cadence {
				cycle += d
				want = append(want, int(d/time.Millisecond))
			}
			// Two cycles: the cadence repeats.
			want = append(want, want...)
			got := runs(render(NewTone(spec), 2*cycle))
			if len(got) != len(want) {
				t.Errorf("%s %s: runs %v, want %v", region, name, got, want)
				continue
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s %s: runs %v, want %v", region, name, got, want)
					break
				}
			}
		}
	}
}

func TestToneFrequenciesAndLevel(t *testing.T) {
	for _, region := range []string{"us", "uk", "cn", "eu"} {
		set, _ := Tones(region)
		for name, spec := range map[string]ToneSpec{"ringback": set.Ringback, "busy": set.Busy, "beep": set.Beep} {
			// 200 ms from the middle of the first on period's steady state
			// (every first on period here is at least 350 ms).
			s := render(NewTone(spec), 300*time.Millisecond)[800:2400]
			for _, f := range spec.Freqs {
				if l := PowerDBm0(Goertzel(s, f)); math.Abs(l-spec.Level) > 0.2 {
					t.Errorf("%s %s: %g Hz at %.2f dBm0, want %g", region, name, f, l, spec.Level)
				}
			}
			if l := PowerDBm0(Goertzel(s, 1700)); l > spec.Level-40 {
				t.Errorf("%s %s: 1700 Hz at %.1f dBm0", region, name, l)
			}
			want := spec.Level + 10*math.Log10(float64(len(spec.Freqs)))
			if l := LevelDBm0(s); math.Abs(l-want) > 0.2 {
				t.Errorf("%s %s: total level %.2f dBm0, want %.2f", region, name, l, want)
			}
		}
	}
}

// TestToneNoClicks checks that the tone is continuous across frame
// boundaries and that the cadence gates it smoothly: no step between two
// samples is larger than the largest a sum of the sines can make.
func TestToneNoClicks(t *testing.T) {
	for _, spec := range []ToneSpec{
		{Freqs: []float64{1000}, Level: 0},
		{Freqs: []float64{440, 480}, Level: -3},
		{Freqs: []float64{1000}, Level: -13, Cadence: []time.Duration{55 * time.Millisecond, 33 * time.Millisecond}},
	} {
		s := render(NewTone(spec), 2*time.Second)
		var limit float64
		for _, f := range spec.Freqs {
			limit += amplitudeDBm0(spec.Level) * 2 * math.Pi * f / SampleRate
		}
		limit = limit*1.05 + 2
		for i := 1; i < len(s); i++ {
			if d := math.Abs(float64(s[i]) - float64(s[i-1])); d > limit {
				t.Fatalf("%v: step of %.0f at sample %d (frame boundary: %v), limit %.0f", spec.Freqs, d, i, i%FrameSamples == 0, limit)
			}
		}
	}
}

func TestToneContinuousStaysStable(t *testing.T) {
	// An hour of oscillator rotation drifts neither in level nor phase.
	g := NewTone(ToneSpec{Freqs: []float64{1000}, Level: -13})
	var f Frame
	for range 3600 * 50 {
		g.Next(&f)
	}
	s := render(g, time.Second)
	if l := LevelDBm0(s); math.Abs(l+13) > 0.05 {
		t.Fatalf("level after an hour %.3f dBm0", l)
	}
	if fr := zeroCrossFreq(s, SampleRate); math.Abs(fr-1000) > 0.1 {
		t.Fatalf("frequency after an hour %.3f Hz", fr)
	}
}

func TestBeepOnce(t *testing.T) {
	set, _ := Tones("us")
	g := NewTone(set.Beep)
	if d := set.Beep.Duration(); d != 400*time.Millisecond {
		t.Fatalf("Duration = %v", d)
	}
	var f Frame
	for i := range 20 {
		if g.Done() {
			t.Fatalf("done after %d frames", i)
		}
		g.Next(&f)
		if f == (Frame{}) {
			t.Fatalf("frame %d silent", i)
		}
	}
	if !g.Done() {
		t.Fatal("not done after 400 ms")
	}
	for range 10 {
		g.Next(&f)
		if f != (Frame{}) {
			t.Fatal("sound after the beep")
		}
	}
	g.Reset()
	if g.Done() {
		t.Fatal("done after Reset")
	}
	g.Next(&f)
	if f == (Frame{}) {
		t.Fatal("silent after Reset")
	}
}

func TestToneEdgeCases(t *testing.T) {
	var f Frame
	for _, spec := range []ToneSpec{
		{},
		{Freqs: []float64{0, -5, 4000, 9000, math.NaN()}},
		{Freqs: []float64{1000}, Cadence: []time.Duration{0, 0}},
		{Freqs: []float64{1000}, Cadence: []time.Duration{-time.Second, time.Second}},
	} {
		g := NewTone(spec)
		for range 100 {
			f[0] = 1
			g.Next(&f)
			if f != (Frame{}) {
				t.Fatalf("%+v: not silent", spec)
			}
		}
	}
	// An on period shorter than two ramps still sounds.
	g := NewTone(ToneSpec{Freqs: []float64{1000}, Cadence: []time.Duration{time.Millisecond, time.Millisecond}})
	g.Next(&f)
	if f == (Frame{}) {
		t.Fatal("1 ms bursts are silent")
	}
	// Loud dual tones saturate rather than wrap.
	g = NewTone(ToneSpec{Freqs: []float64{500, 500}, Level: 3.17})
	s := render(g, time.Second)
	var peak, trough int16
	for i, v := range s {
		ideal := math.Sin(2 * math.Pi * 500 * float64(i) / SampleRate)
		if float64(v)*ideal < 0 {
			t.Fatalf("wrapped at %d: %d", i, v)
		}
		peak, trough = max(peak, v), min(trough, v)
	}
	if peak != math.MaxInt16 || trough != math.MinInt16 {
		t.Fatalf("peaks %d, %d: not saturated", peak, trough)
	}
}

func TestTonesRegions(t *testing.T) {
	eu, ok := Tones("eu")
	if !ok || eu.Ringback.Freqs[0] != 425 {
		t.Fatal("eu")
	}
	if _, ok := Tones(""); !ok {
		t.Error(`Tones("") not ok`)
	}
	if s, ok := Tones("xx"); ok || s.Busy.Freqs[0] != 425 {
		t.Error("unknown region should fall back to eu with false")
	}
	us, _ := Tones("US")
	if us.Ringback.Freqs[0] != 440 || us.Ringback.Freqs[1] != 480 || us.Busy.Cadence[0] != 500*time.Millisecond {
		t.Errorf("us: %+v", us)
	}
	uk, _ := Tones("uk")
	if len(uk.Ringback.Cadence) != 4 || uk.Busy.Cadence[0] != 375*time.Millisecond {
		t.Errorf("uk: %+v", uk)
	}
	cn, _ := Tones("cn")
	if cn.Busy.Freqs[0] != 450 || cn.Busy.Cadence[0] != 350*time.Millisecond {
		t.Errorf("cn: %+v", cn)
	}
}

func BenchmarkToneNext(b *testing.B) {
	for name, spec := range map[string]ToneSpec{
		"single": {Freqs: []float64{425}, Level: -13, Cadence: []time.Duration{time.Second, 4 * time.Second}},
		"dual":   {Freqs: []float64{440, 480}, Level: -19},
	} {
		b.Run(name, func(b *testing.B) {
			g := NewTone(spec)
			var f Frame
			b.ReportAllocs()
			for b.Loop() {
				g.Next(&f)
			}
		})
	}
}
