package audio

import (
	"testing"

	"github.com/zaf/g711"
)

func TestCodecByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Codec
	}{{"PCMU", PCMU}, {"pcmu", PCMU}, {"PCMA", PCMA}, {"pcMa", PCMA}} {
		c, ok := CodecByName(tc.name)
		if !ok || c != tc.want {
			t.Errorf("CodecByName(%q) = %v, %v", tc.name, c, ok)
		}
	}
	for _, name := range []string{"", "G722", "PCM", "telephone-event"} {
		if c, ok := CodecByName(name); ok {
			t.Errorf("CodecByName(%q) = %v", name, c.Name())
		}
	}
}

func TestCodecProperties(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		if c.ClockRate() != 8000 || c.PayloadBytes() != 160 {
			t.Errorf("%s: clock %d, payload %d", c.Name(), c.ClockRate(), c.PayloadBytes())
		}
	}
	if PCMU.Name() != "PCMU" || PCMA.Name() != "PCMA" {
		t.Error("names")
	}
}

// TestCodecMatchesG711 checks every code against the G.711 tables of
// zaf/g711, both ways.
func TestCodecMatchesG711(t *testing.T) {
	for _, tc := range []struct {
		c   Codec
		dec func(uint8) int16
		enc func(int16) uint8
	}{{PCMU, g711.DecodeUlawFrame, g711.EncodeUlawFrame}, {PCMA, g711.DecodeAlawFrame, g711.EncodeAlawFrame}} {
		payload := make([]byte, 256)
		for i := range payload {
			payload[i] = byte(i)
		}
		var f Frame
		if n := tc.c.Decode(payload, &f); n != FrameSamples {
			t.Fatalf("%s: Decode of 256 bytes = %d", tc.c.Name(), n)
		}
		for i := range f {
			if f[i] != tc.dec(byte(i)) {
				t.Fatalf("%s: code %d decodes to %d", tc.c.Name(), i, f[i])
			}
		}
		for i := range f {
			f[i] = int16(i*409 - 32768)
		}
		out := tc.c.Encode(&f, nil)
		for i := range f {
			if out[i] != tc.enc(f[i]) {
				t.Fatalf("%s: %d encodes to %d", tc.c.Name(), f[i], out[i])
			}
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	var in Frame
	copy(in[:], sine(1000, SampleRate, FrameSamples, 16000))
	for _, c := range []Codec{PCMU, PCMA} {
		var out Frame
		c.Decode(c.Encode(&in, nil), &out)
		for i := range in {
			// G.711 quantisation: at most 1/32 of the magnitude (plus
			// the smallest step).
			d := int(in[i]) - int(out[i])
			lim := int(abs16(in[i]))/32 + 16
			if d > lim || d < -lim {
				t.Fatalf("%s: sample %d: %d → %d", c.Name(), i, in[i], out[i])
			}
		}
	}
}

func abs16(v int16) int32 {
	if v < 0 {
		return -int32(v)
	}
	return int32(v)
}

func TestCodecSilence(t *testing.T) {
	var zero Frame
	for c, code := range map[Codec]byte{PCMU: 0xFF, PCMA: 0xD5} {
		out := c.Encode(&zero, nil)
		for _, b := range out {
			if b != code {
				t.Fatalf("%s: silence encodes to %#x, want %#x", c.Name(), b, code)
			}
		}
		// A-law has no zero code: its quietest level is ±8 (G.711
		// table 1), far below hearing.
		var f Frame
		c.Decode(out, &f)
		for _, v := range f {
			if v < -8 || v > 8 {
				t.Fatalf("%s: silence decodes to %d", c.Name(), v)
			}
		}
	}
}

func TestCodecDecodeShortPayload(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		var f Frame
		for i := range f {
			f[i] = 1234
		}
		payload := make([]byte, 100)
		for i := range payload {
			payload[i] = 0x80 // a loud code in both laws
		}
		if n := c.Decode(payload, &f); n != 100 {
			t.Fatalf("%s: Decode = %d, want 100", c.Name(), n)
		}
		for i := 100; i < FrameSamples; i++ {
			if f[i] != 0 {
				t.Fatalf("%s: sample %d = %d after a short payload, want silence", c.Name(), i, f[i])
			}
		}
		if n := c.Decode(nil, &f); n != 0 || f != (Frame{}) {
			t.Fatalf("%s: empty payload: %d", c.Name(), n)
		}
	}
}

func TestCodecEncodeReusesBuffer(t *testing.T) {
	var f Frame
	buf := make([]byte, 3, 200)
	for _, c := range []Codec{PCMU, PCMA} {
		out := c.Encode(&f, buf)
		if len(out) != FrameSamples || &out[0] != &buf[0] {
			t.Fatalf("%s: Encode did not reuse out", c.Name())
		}
		if n := testing.AllocsPerRun(100, func() { c.Encode(&f, buf) }); n != 0 {
			t.Fatalf("%s: Encode allocates %v", c.Name(), n)
		}
		if n := testing.AllocsPerRun(100, func() { c.Decode(out, &f) }); n != 0 {
			t.Fatalf("%s: Decode allocates %v", c.Name(), n)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name(), func(b *testing.B) {
			var f Frame
			copy(f[:], sine(1000, SampleRate, FrameSamples, 8000))
			payload := c.Encode(&f, nil)
			b.ReportAllocs()
			for b.Loop() {
				c.Decode(payload, &f)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name(), func(b *testing.B) {
			var f Frame
			copy(f[:], sine(1000, SampleRate, FrameSamples, 8000))
			out := make([]byte, 0, FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				out = c.Encode(&f, out)
			}
		})
	}
}
