package tts

import (
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// Prompts used by the engine tests and benchmarks.
const (
	// benchPrompt renders to about 2.7–3 s with espeak-ng and flite kal.
	benchPrompt = "Welcome. Please press one for sales."
	// englishPrompt is a longer English sentence.
	englishPrompt = "Thank you for calling. Please hold while we connect you to the next available agent."
	// mandarinPrompt: "Welcome, please press one to look up your order."
	mandarinPrompt = "欢迎致电，请按一查询订单"
)

// requireEspeak fails the test, naming the Debian package, when the
// espeak-ng program is not installed.
func requireEspeak(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		tb.Fatalf("espeak-ng is not installed (%v): install the Debian package espeak-ng (apt-get install espeak-ng)", err)
	}
}

// The ends of a clip: checkSpeech looks for near silence in 5 ms windows
// within the first and last 50 ms.
const (
	edgeWindow = audio.SampleRate / 200 // 5 ms
	edgeSpan   = audio.SampleRate / 20  // 50 ms
)

// speechStats are what checkSpeech measures, for logs.
type speechStats struct {
	seconds           float64
	level, head, tail float64 // dBm0: whole clip, quietest 5 ms near each end
}

func measure(c *audio.Clip) speechStats {
	s := speechStats{seconds: c.Duration().Seconds(), level: audio.LevelDBm0(c.Samples)}
	s.head, s.tail = math.Inf(1), math.Inf(1)
	n := len(c.Samples)
	for off := 0; off+edgeWindow <= min(edgeSpan, n); off += edgeWindow {
		s.head = min(s.head, audio.LevelDBm0(c.Samples[off:off+edgeWindow]))
		s.tail = min(s.tail, audio.LevelDBm0(c.Samples[n-off-edgeWindow:n-off]))
	}
	return s
}

// checkSpeech checks that clip plausibly holds speech of minSec–maxSec:
// 8 kHz mono from a source at sourceRate, loud enough to be speech
// (above −35 dBm0; silence is −Inf), with near silence (a 5 ms window
// below −30 dBm0 and at least 15 dB under the speech) within 50 ms of
// each end, and no click at the first or last sample. A clip cut
// mid-word fails; one whose first word starts at once ("Welcome" with
// flite kal, a soft "h" 5 ms into espeak-ng's Mandarin) passes.
func checkSpeech(t *testing.T, clip *audio.Clip, sourceRate int, minSec, maxSec float64) speechStats {
	t.Helper()
	if clip == nil || len(clip.Samples) < 2*edgeSpan {
		t.Fatalf("clip %v: too short", clip)
	}
	s := measure(clip)
	t.Logf("%.2f s (source %d Hz × %d), level %.1f dBm0, quietest 5 ms near start/end %.1f / %.1f dBm0",
		s.seconds, clip.SourceRate, clip.SourceChannels, s.level, s.head, s.tail)
	for _, p := range speechProblems(clip, s, sourceRate, minSec, maxSec) {
		t.Error(p)
	}
	return s
}

// speechProblems returns what checkSpeech objects to.
func speechProblems(clip *audio.Clip, s speechStats, sourceRate int, minSec, maxSec float64) []string {
	var p []string
	if clip.SourceRate != sourceRate || clip.SourceChannels != 1 {
		p = append(p, fmt.Sprintf("source %d Hz × %d channels, want %d Hz mono", clip.SourceRate, clip.SourceChannels, sourceRate))
	}
	if s.seconds < minSec || s.seconds > maxSec {
		p = append(p, fmt.Sprintf("duration %.2f s, want %.2f–%.2f s", s.seconds, minSec, maxSec))
	}
	if s.level < -35 {
		p = append(p, fmt.Sprintf("level %.1f dBm0: no speech energy", s.level))
	}
	for _, e := range []struct {
		name  string
		level float64
	}{{"start", s.head}, {"end", s.tail}} {
		if e.level > -30 || s.level-e.level < 15 {
			p = append(p, fmt.Sprintf("%s: quietest %.1f dBm0 (speech %.1f dBm0): not near silence", e.name, e.level, s.level))
		}
	}
	const click = 1000 // ≈ 3 % of full scale
	if first, last := clip.Samples[0], clip.Samples[len(clip.Samples)-1]; max(abs(first), abs(last)) > click {
		p = append(p, fmt.Sprintf("first/last sample %d / %d: a click", first, last))
	}
	return p
}

// TestCheckSpeechRejects checks the checker: speech cut mid-word, or no
// speech at all, is refused.
func TestCheckSpeechRejects(t *testing.T) {
	requireEspeak(t)
	clip, err := NewEspeak(EspeakOptions{}).Synthesize(t.Context(), Request{Text: englishPrompt})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := perWord(englishPrompt)
	if p := speechProblems(clip, measure(clip), 22050, lo, hi); len(p) != 0 {
		t.Fatalf("whole clip refused: %v", p)
	}
	// Cut in the middle of the loudest 50 ms of the first and of the last
	// second: mid-word.
	n := len(clip.Samples)
	loudest := func(from, to int) int {
		best, at := math.Inf(-1), from
		for off := from; off+edgeSpan <= to; off += edgeWindow {
			if l := audio.LevelDBm0(clip.Samples[off : off+edgeSpan]); l > best {
				best, at = l, off+edgeSpan/2
			}
		}
		return at
	}
	for name, c := range map[string]*audio.Clip{
		"cut start": {Samples: clip.Samples[loudest(0, audio.SampleRate):], SourceRate: 22050, SourceChannels: 1},
		"cut end":   {Samples: clip.Samples[:loudest(n-audio.SampleRate, n)], SourceRate: 22050, SourceChannels: 1},
		"silence":   {Samples: make([]int16, n), SourceRate: 22050, SourceChannels: 1},
	} {
		if p := speechProblems(c, measure(c), 22050, lo, hi); len(p) == 0 {
			t.Errorf("%s: accepted (%+v)", name, measure(c))
		} else {
			t.Logf("%s: %v", name, p)
		}
	}
}

func abs(v int16) int32 { return max(int32(v), -int32(v)) }

// perWord is the duration range checkSpeech allows for text of n words.
func perWord(text string) (minSec, maxSec float64) {
	n := float64(len(strings.Fields(text)))
	return 0.2 * n, 0.6 * n
}
