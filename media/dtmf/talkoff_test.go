package dtmf

import (
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// talkOffLength is how much speech and how much music the talk-off tests
// run through the detector: ten minutes each.
const talkOffLength = 10 * time.Minute

// TestTalkOffSpeech: no digit in ten minutes of speech (seven flite
// voices, male and female, at several pitches and speeds), at a normal
// active level of −18 dBm0 and 10 dB hotter (clipping on peaks).
func TestTalkOffSpeech(t *testing.T) {
	speech := speechCorpus(t, talkOffLength.Seconds(), -18)
	if got := time.Duration(len(speech)) * time.Second / audio.SampleRate; got < talkOffLength {
		t.Fatalf("%v of speech, want %v", got, talkOffLength)
	}
	for _, gain := range []float64{0, 10} {
		pcm := speech
		if gain != 0 {
			pcm = scaleToLevel(speech, -18+gain)
		}
		if events := detectAll(NewInBand(), pcm); len(events) != 0 {
			t.Errorf("speech at %+g dB: %d digits detected: %v", gain, len(events), events)
		}
	}
}

// TestTalkOffMusic: no digit in ten minutes of synthesised songs
// (chords, melodies, bass, drums; harmonic-rich instruments with
// envelopes and vibrato; notes held on DTMF-like pairs) at −16 dBm0 and
// 8 dB hotter, nor in the DTMF-like pairs of the score played alone on
// their instruments.
func TestTalkOffMusic(t *testing.T) {
	sc := compose(1, talkOffLength.Seconds())
	music := sc.render(talkOffLength.Seconds(), nil)
	for _, gain := range []float64{0, 8} {
		pcm := music
		if gain != 0 {
			pcm = scaleToLevel(music, -16+gain)
		}
		if events := detectAll(NewInBand(), pcm); len(events) != 0 {
			t.Errorf("music at %+g dB: %d digits detected: %v", gain, len(events), events)
		}
	}
	pairs := sc.render(talkOffLength.Seconds(), func(n *note) bool { return n.pair })
	if events := detectAll(NewInBand(), pairs); len(events) != 0 {
		t.Errorf("the DTMF-like pairs alone: %d digits detected: %v", len(events), events)
	}
}

// TestTalkOffMusicHasDTMFPairs checks that the score does hold the
// DTMF-like pairs the talk-off test claims: played alone on pure sines,
// they must trigger the detector, so it is the detector's checks, not
// the score, that keep the music silent.
func TestTalkOffMusicHasDTMFPairs(t *testing.T) {
	sc := compose(1, talkOffLength.Seconds())
	sine := instrument{partials: []float64{1}, attack: 0.01, decay: 0.01, sustain: 1, release: 0.02}
	var n int
	for i := range sc.notes {
		if sc.notes[i].pair {
			sc.notes[i].inst = &sine
			n++
		}
	}
	events := detectAll(NewInBand(), sc.render(talkOffLength.Seconds(), func(n *note) bool { return n.pair }))
	t.Logf("%d DTMF-like pairs in the score; on pure sines %d are digits: %q", n/2, len(events), digitString(events))
	if len(events) < n/2/4 {
		t.Fatalf("only %d of %d pairs on pure sines are digits", len(events), n/2)
	}
}
