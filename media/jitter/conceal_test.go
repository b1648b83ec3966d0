package jitter

import (
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// TestConceal: the repeated frame fades linearly over ConcealFrames
// frames, continuously across them, then is silence.
func TestConceal(t *testing.T) {
	var prev audio.Frame
	for i := range prev {
		prev[i] = 10000
	}
	var out audio.Frame
	last := int16(10001)
	for n := 1; n <= ConcealFrames; n++ {
		Conceal(&prev, &out, n)
		if n == 1 && out[0] != 10000 {
			t.Fatalf("first sample %d, want the previous frame's", out[0])
		}
		for i, s := range out {
			if s > last || last-s > 20 {
				t.Fatalf("frame %d sample %d: %d after %d: not a smooth fade", n, i, s, last)
			}
			last = s
		}
	}
	if last > 20 {
		t.Fatalf("fade ends at %d", last)
	}
	Conceal(&prev, &out, ConcealFrames+1)
	if out != (audio.Frame{}) {
		t.Fatal("not silent after the fade")
	}
	// In place, and n < 1 taken as the first loss.
	cp := prev
	Conceal(&cp, &cp, 0)
	if cp[0] != 10000 || cp[159] >= 10000 {
		t.Fatalf("in place: %d … %d", cp[0], cp[159])
	}
}

// TestForCodec: the Config of a G.711 codec.
func TestForCodec(t *testing.T) {
	c := ForCodec(audio.PCMU, 40*time.Millisecond, 200*time.Millisecond)
	if c.ClockRate != 8000 || c.FrameSamples != 160 || c.BytesPerFrame != 160 {
		t.Fatalf("%+v", c)
	}
}
