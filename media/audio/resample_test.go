package audio

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// middle drops the first and last tenth of s, away from the edges where
// the filter sees the silence around the signal.
func middle(s []int16) []int16 { return s[len(s)/10 : len(s)-len(s)/10] }

func TestResampleKeepsToneFrequencyAndLevel(t *testing.T) {
	for _, from := range []int{11025, 16000, 22050, 44100, 48000, 47999, 96000, 8000, 6000} {
		t.Run(fmt.Sprint(from), func(t *testing.T) {
			in := sine(1000, from, from, 10000)
			out := Resample(in, from, SampleRate)
			if want := int(math.Ceil(float64(len(in)) * SampleRate / float64(from))); len(out) != want {
				t.Fatalf("len = %d, want %d", len(out), want)
			}
			if f := zeroCrossFreq(middle(out), SampleRate); math.Abs(f-1000) > 1 {
				t.Errorf("frequency %.3f Hz, want 1000 ± 1", f)
			}
			if d := rmsDB(middle(out)) - rmsDB(middle(in)); math.Abs(d) > 0.5 {
				t.Errorf("level changed by %.3f dB, want within 0.5", d)
			}
		})
	}
}

func TestResampleUpsample(t *testing.T) {
	in := sine(1000, SampleRate, SampleRate, 10000)
	for _, to := range []int{16000, 44100, 48000} {
		out := Resample(in, SampleRate, to)
		if f := zeroCrossFreq(middle(out), to); math.Abs(f-1000) > 1 {
			t.Errorf("8000→%d: frequency %.3f Hz", to, f)
		}
		if d := rmsDB(middle(out)) - rmsDB(middle(in)); math.Abs(d) > 0.5 {
			t.Errorf("8000→%d: level changed by %.3f dB", to, d)
		}
	}
}

func TestResampleAntiAliasing(t *testing.T) {
	for _, tc := range []struct {
		from int
		freq float64
	}{{48000, 5000}, {44100, 5000}, {16000, 4500}, {48000, 12000}, {22050, 4100}, {47999, 5000}} {
		in := sine(tc.freq, tc.from, tc.from, 20000)
		out := Resample(in, tc.from, SampleRate)
		att := rmsDB(middle(in)) - rmsDB(middle(out))
		if att < 40 {
			t.Errorf("%g Hz at %d: attenuated %.1f dB, want ≥ 40", tc.freq, tc.from, att)
		}
		t.Logf("%g Hz at %d: attenuated %.1f dB", tc.freq, tc.from, att)
	}
}

func TestResamplePassband(t *testing.T) {
	// 300–3400 Hz, the telephone band, passes within 0.5 dB.
	for _, f := range []float64{300, 2000, 3000, 3400} {
		in := sine(f, 48000, 48000, 10000)
		out := Resample(in, 48000, SampleRate)
		if d := rmsDB(middle(out)) - rmsDB(middle(in)); math.Abs(d) > 0.5 {
			t.Errorf("%g Hz: level changed by %.3f dB", f, d)
		}
	}
}

func TestResampleIdentityBitExact(t *testing.T) {
	in := sine(440, SampleRate, 4000, 12000)
	out := Resample(in, SampleRate, SampleRate)
	if !slices.Equal(in, out) {
		t.Fatal("8000 → 8000 changed the samples")
	}
	if len(in) > 0 && &out[0] == &in[0] {
		t.Fatal("Resample returned its input, want a copy")
	}
}

func TestResampleDC(t *testing.T) {
	in := make([]int16, 4410)
	for i := range in {
		in[i] = 1000
	}
	out := Resample(in, 44100, SampleRate)
	for i, v := range middle(out) {
		if v != 1000 {
			t.Fatalf("sample %d = %d, want 1000", i, v)
		}
	}
}

// TestResamplerStreaming checks that feeding a stream in pieces of any
// size gives exactly the output of one Resample call.
func TestResamplerStreaming(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, from := range []int{8000, 11025, 16000, 44100, 48000, 47999} {
		in := make([]int16, from/2)
		for i := range in {
			in[i] = int16(rng.IntN(20000) - 10000)
		}
		want := Resample(in, from, SampleRate)
		r := NewResampler(from, SampleRate)
		for range 2 { // the second round checks that Flush resets
			var got []int16
			for rest := in; len(rest) > 0; {
				n := min(len(rest), rng.IntN(500))
				got = r.Process(rest[:n], got)
				rest = rest[n:]
			}
			got = r.Flush(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%d: streamed output differs from Resample (len %d vs %d)", from, len(got), len(want))
			}
		}
	}
}

func TestResamplerSteadyStateNoAlloc(t *testing.T) {
	r := NewResampler(48000, SampleRate)
	in := sine(1000, 48000, 960, 10000)
	out := make([]int16, 0, 400)
	r.Process(in, out[:0])
	if n := testing.AllocsPerRun(100, func() { out = r.Process(in, out[:0]) }); n != 0 {
		t.Errorf("Process allocates %v times per 20 ms", n)
	}
}

func TestResampleEmpty(t *testing.T) {
	if out := Resample(nil, 44100, SampleRate); len(out) != 0 {
		t.Fatalf("len = %d", len(out))
	}
}

func TestNewResamplerPanicsOnBadRate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewResampler(0, SampleRate)
}

// BenchmarkResample48k measures converting one second of 48 kHz audio to
// 8 kHz in 20 ms pieces, as a stream.
func BenchmarkResample48k(b *testing.B) {
	benchResample(b, 48000)
}

// BenchmarkResample44k1 is BenchmarkResample48k for 44.1 kHz.
func BenchmarkResample44k1(b *testing.B) {
	benchResample(b, 44100)
}

func benchResample(b *testing.B, from int) {
	in := sine(1000, from, from, 10000)
	r := NewResampler(from, SampleRate)
	out := make([]int16, 0, 512)
	step := from / 50
	b.ReportAllocs()
	b.SetBytes(int64(len(in) * 2))
	for b.Loop() {
		for i := 0; i < len(in); i += step {
			out = r.Process(in[i:i+step], out[:0])
		}
	}
}
