package tts

import (
	"testing"
	"time"
)

// benchSynth renders benchPrompt (≈ 2.7–3 s of audio) b.N times with s
// and reports the audio length and how many seconds of audio are
// rendered per wall-clock second (the real-time factor's inverse).
func benchSynth(b *testing.B, s Synthesizer, r Request) {
	clip, err := s.Synthesize(b.Context(), r)
	if err != nil {
		b.Fatal(err)
	}
	audioSec := clip.Duration().Seconds()
	start := time.Now()
	for b.Loop() {
		if _, err := s.Synthesize(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(audioSec, "audio-s/op")
	b.ReportMetric(audioSec*float64(b.N)/wall, "audio-s/s")
}

func BenchmarkEspeak(b *testing.B) {
	requireEspeak(b)
	benchSynth(b, NewEspeak(EspeakOptions{}), Request{Text: benchPrompt, Language: "en-us"})
}

func BenchmarkEspeakMandarin(b *testing.B) {
	requireEspeak(b)
	benchSynth(b, NewEspeak(EspeakOptions{}), Request{Text: mandarinPrompt, Language: "cmn"})
}

// BenchmarkCacheHit is a prompt served from the disk cache.
func BenchmarkCacheHit(b *testing.B) {
	c, err := NewCache(&fakeEngine{name: "fake", langs: []string{"en"}}, b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSynth(b, c, Request{Text: "Welcome. Please press one for sales.", Language: "en"})
}
