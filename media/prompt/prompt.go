// Package prompt is what a leg plays to its party: playlists of WAV files,
// synthesised text, call-progress tones and silence, and music on hold.
//
// A Player produces one 20 ms audio.Frame per call of Next; the leg's media
// clock calls it (the Player knows nothing of time). Everything slow —
// reading WAV files, text-to-speech, listing the music folder — happens in
// Start and StartMOH or on the music loader's goroutine, never in Next, so
// Next never blocks and does not allocate.
package prompt

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// Speaker turns text into speech. It is declared here, by its consumer; the
// wiring adapts the tts package to it.
type Speaker interface {
	// Speak synthesises text in a language (BCP 47, "" for the default)
	// with a voice ("" for the default) as 8 kHz mono audio.
	Speak(ctx context.Context, text, lang, voice string) (*audio.Clip, error)
}

// Tone names understood in Item.Tone; the tones themselves come from the
// Player's region (audio.Tones).
const (
	ToneRingback   = "ringback"
	ToneBusy       = "busy"
	ToneCongestion = "congestion"
	ToneBeep       = "beep"
)

// Item is one thing to play. Exactly one of File, Text, Tone/ToneSpec and
// Silence is set.
type Item struct {
	// File is the path of a WAV file of any PCM rate and channel count
	// (audio.LoadWAV converts it to 8 kHz mono).
	File string
	// Text is spoken by the Player's Speaker in Language with Voice (both
	// optional).
	Text, Language, Voice string
	// Tone is a call-progress tone of the Player's region: ToneRingback,
	// ToneBusy, ToneCongestion or ToneBeep. With ToneSpec set it is only a
	// label for errors.
	Tone string
	// ToneSpec is a custom tone, played instead of a named one.
	ToneSpec *audio.ToneSpec
	// Silence is a pause of this length.
	Silence time.Duration
	// Duration is how long a tone plays, rounded up to whole 20 ms frames.
	// It is required, except for a beep (or any ToneSpec with Once), which
	// plays one cadence cycle when Duration is 0. Other kinds of item
	// ignore it.
	Duration time.Duration
}

// Prompt is a playlist of items, played in order.
type Prompt struct {
	Items []Item
	// BargeIn lets Player.BargeIn (the caller pressed a digit) stop the
	// prompt; Player.Stop stops any prompt.
	BargeIn bool
	// Loop plays the items again and again until the prompt is stopped.
	Loop bool
}

// kind is what an item is.
type kind uint8

const (
	kindUnknown kind = iota
	kindFile
	kindText
	kindTone
	kindSilence
)

// itemKind returns what it is, or kindUnknown if it sets none or more than
// one of File, Text, Tone/ToneSpec and Silence.
func itemKind(it Item) kind {
	k, n := kindUnknown, 0
	if it.File != "" {
		k, n = kindFile, n+1
	}
	if it.Text != "" {
		k, n = kindText, n+1
	}
	if it.Tone != "" || it.ToneSpec != nil {
		k, n = kindTone, n+1
	}
	if it.Silence > 0 {
		k, n = kindSilence, n+1
	}
	if n != 1 {
		return kindUnknown
	}
	return k
}

// describe names an item in errors and logs.
func describe(it Item) string {
	switch itemKind(it) {
	case kindFile:
		return fmt.Sprintf("file %q", it.File)
	case kindText:
		t := it.Text
		if r := []rune(t); len(r) > 40 {
			t = string(r[:40]) + "…"
		}
		return fmt.Sprintf("text %q", t)
	case kindTone:
		if it.Tone != "" {
			return "tone " + it.Tone
		}
		return "custom tone"
	case kindSilence:
		return "silence " + it.Silence.String()
	}
	return "empty item"
}

// framesFor returns how many 20 ms frames d lasts, rounded up.
func framesFor(d time.Duration) int {
	return int((d + audio.FrameDuration - 1) / audio.FrameDuration)
}

// namedTone returns the spec of a tone name in a region's set.
func namedTone(set audio.ToneSet, name string) (audio.ToneSpec, error) {
	switch strings.ToLower(name) {
	case ToneRingback:
		return set.Ringback, nil
	case ToneBusy:
		return set.Busy, nil
	case ToneCongestion:
		return set.Congestion, nil
	case ToneBeep:
		return set.Beep, nil
	}
	return audio.ToneSpec{}, fmt.Errorf("%w %q", ErrUnknownTone, name)
}

// toneFrames returns how many frames a tone item plays.
func toneFrames(it Item, spec audio.ToneSpec) (int, error) {
	d := it.Duration
	if d < 0 {
		return 0, fmt.Errorf("%w: negative duration %v", ErrToneDuration, d)
	}
	if d == 0 && (spec.Once || it.ToneSpec == nil && strings.EqualFold(it.Tone, ToneBeep)) {
		for _, c := range spec.Cadence {
			d += max(c, 0)
		}
	}
	if d == 0 {
		return 0, ErrToneDuration
	}
	return framesFor(d), nil
}
