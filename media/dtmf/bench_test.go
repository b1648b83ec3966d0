package dtmf

import (
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// benchFrames returns n frames of noise at −30 dBm0 (silence on a line)
// or, with digit, of that digit's tone pair at −10 dBm0 in noise (the
// worst case: every block gets the full analysis).
func benchFrames(b *testing.B, n int, digit byte) []audio.Frame {
	rng := newRand(b, 99)
	x := make([]float64, n*audio.FrameSamples)
	if digit != 0 {
		addTone(x, toneSpec{digit: digit, level: -10, dur: time.Hour}, rng)
	}
	addNoise(x, tonePower(-33), rng)
	pcm := toPCM(x)
	frames := make([]audio.Frame, n)
	for i := range frames {
		copy(frames[i][:], pcm[i*audio.FrameSamples:])
	}
	return frames
}

// BenchmarkInBandFrame is the cost of in-band detection per 20 ms frame.
func BenchmarkInBandFrame(b *testing.B) {
	for _, c := range []struct {
		name  string
		digit byte
	}{{"noise", 0}, {"tone", '5'}} {
		b.Run(c.name, func(b *testing.B) {
			frames := benchFrames(b, 256, c.digit)
			d := NewInBand()
			now := t0
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				d.Frame(&frames[i&255], now)
				i++
				now = now.Add(audio.FrameDuration)
			}
		})
	}
	b.Run("speech", func(b *testing.B) {
		pcm := speechCorpus(b, talkOffLength.Seconds(), -18)
		frames := make([]audio.Frame, len(pcm)/audio.FrameSamples)
		for i := range frames {
			copy(frames[i][:], pcm[i*audio.FrameSamples:])
		}
		d := NewInBand()
		now := t0
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			d.Frame(&frames[i%len(frames)], now)
			i++
			now = now.Add(audio.FrameDuration)
		}
	})
}

// BenchmarkReceiver4733Packet is the cost of one telephone-event packet:
// digits of 100 ms (start, 3 updates, end ×3) one after the other.
func BenchmarkReceiver4733Packet(b *testing.B) {
	s := NewSender4733(101, 1)
	burst, err := s.Digit('5', 100*time.Millisecond, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	r := NewReceiver4733()
	n := len(burst.Packets)
	var ts uint32
	now := t0
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		p := &burst.Packets[i%n]
		if i%n == 0 {
			ts += 2000
		}
		r.Packet(ts, p.Header.Marker, p.Payload[:], now)
		i++
		now = now.Add(20 * time.Millisecond)
	}
	if r.Stats().Digits == 0 {
		b.Fatal("no digits")
	}
}

// BenchmarkSender4733Digit is the cost of building a 100 ms digit.
func BenchmarkSender4733Digit(b *testing.B) {
	s := NewSender4733(101, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Digit('5', 100*time.Millisecond, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}
