package prompt

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchd/switchd/media/audio"
)

// segment is a prepared item: a run of frames Next can fill without I/O.
type segment struct {
	frames int            // ≥ 1
	clip   *audio.Clip    // file or text; nil for tone and silence
	tone   *audio.ToneGen // tone; nil otherwise
}

// fill writes frame pos of the segment into out.
func (s *segment) fill(pos int, out *audio.Frame) {
	switch {
	case s.clip != nil:
		s.clip.Frame(pos, out)
	case s.tone != nil:
		if pos == 0 {
			s.tone.Reset() // a looping prompt starts its tones over
		}
		s.tone.Next(out)
	default:
		clear(out[:])
	}
}

// prepare turns items into segments: files are loaded, texts synthesised
// (play true) or refused (play false, for PromptDuration), tones looked up.
// Items that last no time are left out.
func (p *Player) prepare(ctx context.Context, items []Item, play bool) ([]segment, error) {
	segs := make([]segment, 0, len(items))
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("prompt: prepare: %w", context.Cause(ctx))
		}
		s, err := p.prepareItem(ctx, it, play)
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil, fmt.Errorf("prompt: prepare: %w", err)
			}
			return nil, &ItemError{Index: i, What: describe(it), Err: err}
		}
		if s.frames > 0 {
			segs = append(segs, s)
		}
	}
	return segs, nil
}

// prepareItem prepares one item.
func (p *Player) prepareItem(ctx context.Context, it Item, play bool) (segment, error) {
	switch itemKind(it) {
	case kindFile:
		clip, err := p.loadWAV(it.File)
		if err != nil {
			return segment{}, err
		}
		return segment{frames: clip.Frames(), clip: clip}, nil
	case kindText:
		if !play {
			return segment{}, ErrDurationUnknown
		}
		if p.speaker == nil {
			return segment{}, ErrNoSpeaker
		}
		clip, err := p.speaker.Speak(ctx, it.Text, it.Language, it.Voice)
		if err != nil {
			return segment{}, fmt.Errorf("speak: %w", err)
		}
		if clip == nil {
			return segment{}, nil
		}
		return segment{frames: clip.Frames(), clip: clip}, nil
	case kindTone:
		spec, err := p.toneSpec(it)
		if err != nil {
			return segment{}, err
		}
		n, err := toneFrames(it, spec)
		if err != nil {
			return segment{}, err
		}
		s := segment{frames: n}
		if play {
			s.tone = audio.NewTone(spec)
		}
		return s, nil
	case kindSilence:
		return segment{frames: framesFor(it.Silence)}, nil
	}
	return segment{}, ErrItemKind
}

// toneSpec returns the custom spec of a tone item or looks its name up in
// the Player's region.
func (p *Player) toneSpec(it Item) (audio.ToneSpec, error) {
	if it.ToneSpec != nil {
		return *it.ToneSpec, nil
	}
	return namedTone(p.tones, it.Tone)
}

// loadWAV loads a WAV file through the cache, if any.
func (p *Player) loadWAV(path string) (*audio.Clip, error) {
	if p.cache != nil {
		return p.cache.Load(path)
	}
	return audio.LoadWAV(path)
}
