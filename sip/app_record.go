package sip

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/prompt"
	"github.com/switchd/switchd/media/tap"
)

// Recording is a message recorded on an app leg.
type Recording struct {
	Path     string        // WAV, 8 kHz mono 16-bit
	Duration time.Duration // of the audio kept
}

// Silence that ends a recording: this long below silenceRMS, once the
// party has spoken.
const (
	recordSilence = 4 * time.Second
	silenceRMS    = 150
)

// Record plays a beep and records what the party says into a WAV file in
// PromptConfig.RecordDir, until maxDur, '#', silence after speech, or ctx
// or the leg ending. The file is written as the audio comes, so a hangup
// keeps what was said.
func (l *AppLeg) Record(ctx context.Context, maxDur time.Duration) (Recording, error) {
	if l.cfg.RecordDir == "" {
		return Recording{}, fmt.Errorf("sip: no directory for recordings")
	}
	if err := os.MkdirAll(l.cfg.RecordDir, 0o750); err != nil {
		return Recording{}, fmt.Errorf("sip: recordings: %w", err)
	}
	ctx, cancel := mergeCancel(ctx, l.ctx)
	defer cancel()
	if _, err := l.Play(ctx, prompt.Prompt{Items: []prompt.Item{{Tone: prompt.ToneBeep}}}); err != nil && ctx.Err() != nil {
		return Recording{}, err
	}
	for len(l.digits) > 0 { // keys pressed during the greeting do not end the message
		<-l.digits
	}
	path := filepath.Join(l.cfg.RecordDir, fmt.Sprintf("%s-%d.wav", l.c.id, time.Now().UnixMilli()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return Recording{}, fmt.Errorf("sip: recording: %w", err)
	}
	w, err := audio.NewWAVWriter(f, audio.SampleRate, 1)
	if err != nil {
		f.Close()
		return Recording{}, err
	}
	sub := l.tap.Subscribe(100, tap.In)
	defer sub.Close()
	limit := time.NewTimer(maxDur)
	defer limit.Stop()
	var frames, quiet int
	spoke := false
	maxQuiet := int(recordSilence / audio.FrameDuration)
loop:
	for {
		select {
		case fr, ok := <-sub.C():
			if !ok {
				break loop
			}
			if err := w.Write(fr.Audio[:]); err != nil {
				break loop
			}
			frames++
			if rms(&fr.Audio) < silenceRMS {
				quiet++
			} else {
				quiet, spoke = 0, true
			}
			if spoke && quiet >= maxQuiet {
				break loop
			}
		case e := <-l.digits:
			if e.Digit == '#' {
				break loop
			}
		case <-limit.C:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return Recording{}, err
	}
	if err := f.Close(); err != nil {
		return Recording{}, fmt.Errorf("sip: recording: %w", err)
	}
	return Recording{Path: path, Duration: time.Duration(frames) * audio.FrameDuration}, nil
}

func rms(f *audio.Frame) float64 {
	var e float64
	for _, x := range f {
		e += float64(x) * float64(x)
	}
	return math.Sqrt(e / float64(len(f)))
}
