//go:build flite

package tts

/*
#cgo LDFLAGS: -lflite_cmu_us_kal -lflite_cmu_us_kal16 -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb -lflite_usenglish -lflite_cmulex -lflite -lm
#include <stdlib.h>
#include <setjmp.h>
#include <flite/flite.h>

cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);

// switchd_register returns the voice with the given index (see
// fliteVoices in flite.go).
static cst_voice *switchd_register(int i) {
	switch (i) {
	case 0: return register_cmu_us_kal(NULL);
	case 1: return register_cmu_us_kal16(NULL);
	case 2: return register_cmu_us_slt(NULL);
	case 3: return register_cmu_us_rms(NULL);
	case 4: return register_cmu_us_awb(NULL);
	}
	return NULL;
}

// switchd_tts renders text. flite reports internal errors through
// cst_error(), which exits the process unless cst_errjmp is set; catch
// it and return NULL instead (what flite allocated before is leaked).
static cst_wave *switchd_tts(const char *text, cst_voice *v) {
	jmp_buf env;
	jmp_buf *old = cst_errjmp;
	cst_wave *w;
	cst_errjmp = &env;
	if (setjmp(env) != 0) {
		cst_errjmp = old;
		return NULL;
	}
	w = flite_text_to_wave(text, v);
	cst_errjmp = old;
	return w;
}
*/
import "C"

import (
	"context"
	"fmt"
	"strings"
	"unsafe"

	"github.com/switchd/switchd/media/audio"
)

// FliteName is the Name of the flite engine.
const FliteName = "flite"

// FliteDefaultVoice is the voice used when a Request names none: CMU
// "kal", a US English male diphone voice recorded at 8 kHz, so its audio
// needs no resampling.
const FliteDefaultVoice = "kal"

// fliteVoices are the voices linked in, by the index switchd_register
// takes. kal is 8 kHz; the others are 16 kHz and are resampled.
var fliteVoices = map[string]C.int{"kal": 0, "kal16": 1, "slt": 2, "rms": 3, "awb": 4}

// fliteLock serialises every call into libflite: its voices, lexicon and
// error handling (cst_errjmp) are process globals and it does not promise
// thread safety. A channel rather than a mutex, so that waiting honours
// the request's context.
var fliteLock = make(chan struct{}, 1)

// fliteState is owned by whoever holds fliteLock.
var fliteState struct {
	inited bool
	voices map[string]*C.cst_voice
}

// Flite synthesises US English in-process with libflite (CMU Flite,
// BSD-style licence) and the voices kal (default), kal16, slt, rms and
// awb. Requests are serialised; kal renders a 2.7 s prompt in a few
// milliseconds, so one engine serves many calls. Built only with
// -tags flite (cgo; Debian flite1-dev to build, libflite1 to run).
type Flite struct{}

var _ Synthesizer = (*Flite)(nil)

// NewFlite returns the flite engine and loads its default voice.
func NewFlite() (Synthesizer, error) {
	f := &Flite{}
	if err := withFlite(context.Background(), func() error {
		_, err := fliteVoice(FliteDefaultVoice)
		return err
	}); err != nil {
		return nil, err
	}
	return f, nil
}

// Name returns FliteName.
func (f *Flite) Name() string { return FliteName }

// Supports reports whether lang is English ("en", "en-us", "en-gb" …);
// flite's voices are US English.
func (f *Flite) Supports(lang string) bool {
	return baseLanguage(CanonicalLanguage(lang)) == "en"
}

// HasVoice reports whether voice is one of the linked flite voices.
func (f *Flite) HasVoice(voice string) bool {
	_, ok := fliteVoices[strings.ToLower(strings.TrimSpace(voice))]
	return ok
}

// Synthesize renders r.Text with r.Voice (default kal) as 8 kHz mono.
// The render itself cannot be interrupted; ctx is honoured while waiting
// for the engine and checked again afterwards.
func (f *Flite) Synthesize(ctx context.Context, r Request) (*audio.Clip, error) {
	if !f.Supports(r.Language) {
		return nil, fmt.Errorf("%w: %q (flite speaks English only)", ErrUnsupportedLanguage, CanonicalLanguage(r.Language))
	}
	text, err := cleanText(r.Text)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(strings.TrimSpace(r.Voice))
	if name == "" {
		name = FliteDefaultVoice
	}
	if !f.HasVoice(name) {
		return nil, fmt.Errorf("%w: %q (flite has kal, kal16, slt, rms, awb)", ErrUnknownVoice, r.Voice)
	}

	var samples []int16
	var rate, channels int
	err = withFlite(ctx, func() error {
		v, err := fliteVoice(name)
		if err != nil {
			return err
		}
		ctext := C.CString(text)
		defer C.free(unsafe.Pointer(ctext))
		w := C.switchd_tts(ctext, v)
		if w == nil {
			return fmt.Errorf("%w: flite could not render the text", ErrEngineFailed)
		}
		defer C.delete_wave(w)
		rate, channels = int(w.sample_rate), int(w.num_channels)
		n := int(w.num_samples) * channels
		if n > 0 {
			samples = make([]int16, n)
			copy(samples, unsafe.Slice((*int16)(unsafe.Pointer(w.samples)), n))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tts: flite: %w", err)
	}
	if rate <= 0 || channels != 1 {
		return nil, fmt.Errorf("%w: flite returned %d Hz, %d channels", ErrEngineFailed, rate, channels)
	}
	clip := &audio.Clip{Samples: samples, SourceRate: rate, SourceChannels: channels}
	if rate != audio.SampleRate {
		clip.Samples = audio.Resample(samples, rate, audio.SampleRate)
	}
	return clip, nil
}

// withFlite runs fn holding fliteLock, initialising libflite first.
func withFlite(ctx context.Context, fn func() error) error {
	select {
	case fliteLock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("tts: flite: %w", ctx.Err())
	}
	defer func() { <-fliteLock }()
	if !fliteState.inited {
		C.flite_init()
		fliteState.voices = map[string]*C.cst_voice{}
		fliteState.inited = true
	}
	return fn()
}

// fliteVoice returns a registered voice; the caller holds fliteLock.
func fliteVoice(name string) (*C.cst_voice, error) {
	if v := fliteState.voices[name]; v != nil {
		return v, nil
	}
	i, ok := fliteVoices[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownVoice, name)
	}
	v := C.switchd_register(i)
	if v == nil {
		return nil, fmt.Errorf("%w: flite voice %q did not load", ErrEngineUnavailable, name)
	}
	fliteState.voices[name] = v
	return v, nil
}
