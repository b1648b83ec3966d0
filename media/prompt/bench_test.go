package prompt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// legs and frameRate size the CPU estimate: 500 legs each asking for 50
// frames a second.
const (
	legs      = 500
	frameRate = int(time.Second / audio.FrameDuration)
)

// reportLegs adds the share of one core that legs Players would take at
// the measured cost per frame.
func reportLegs(b *testing.B) {
	nsPerFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(nsPerFrame*legs*float64(frameRate)/1e9*100, fmt.Sprintf("%%core/%dlegs", legs))
}

func benchPrompt(b *testing.B, pr Prompt) {
	p := NewPlayer(Config{Region: "us"})
	if err := p.Start(context.Background(), pr); err != nil {
		b.Fatal(err)
	}
	defer p.Stop()
	var f audio.Frame
	b.ReportAllocs()
	for b.Loop() {
		p.Next(&f)
	}
	reportLegs(b)
}

// BenchmarkNextWAV is Next over a 10 s WAV clip.
func BenchmarkNextWAV(b *testing.B) {
	file := wavFile(b, b.TempDir(), "a.wav", sine(10*audio.SampleRate, 440, 8000))
	benchPrompt(b, Prompt{Loop: true, Items: []Item{{File: file}}})
}

// BenchmarkNextTone is Next over ringback (two frequencies, cadenced).
func BenchmarkNextTone(b *testing.B) {
	benchPrompt(b, Prompt{Loop: true, Items: []Item{{Tone: "ringback", Duration: time.Minute}}})
}

// BenchmarkNextMOH is Next over music on hold.
func BenchmarkNextMOH(b *testing.B) {
	dir := b.TempDir()
	wavFile(b, dir, "a.wav", sine(10*audio.SampleRate, 440, 8000))
	wavFile(b, dir, "b.wav", sine(10*audio.SampleRate, 660, 8000))
	p := NewPlayer(Config{ClipCache: NewClipCache(1 << 20)})
	if err := p.StartMOH(dir); err != nil {
		b.Fatal(err)
	}
	defer p.Stop()
	var f audio.Frame
	b.ReportAllocs()
	for b.Loop() {
		p.Next(&f)
	}
	reportLegs(b)
}

// BenchmarkNext500Legs is one frame for each of 500 Players playing a
// shared cached clip (ns/op is per frame), closer to a busy switch's cache
// behaviour than one Player in a loop.
func BenchmarkNext500Legs(b *testing.B) {
	dir := b.TempDir()
	file := wavFile(b, dir, "a.wav", sine(10*audio.SampleRate, 440, 8000))
	cache := NewClipCache(1 << 20)
	ps := make([]*Player, legs)
	for i := range ps {
		ps[i] = NewPlayer(Config{ClipCache: cache})
		items := []Item{{File: file}}
		if i%2 == 1 {
			items = []Item{{Tone: "busy", Duration: time.Minute}}
		}
		if err := ps[i].Start(context.Background(), Prompt{Loop: true, Items: items}); err != nil {
			b.Fatal(err)
		}
	}
	var f audio.Frame
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ps[i].Next(&f)
		if i++; i == legs {
			i = 0
		}
	}
	reportLegs(b)
}
