// Package tts renders prompt text as speech in switchd's internal audio
// format (8 kHz mono 16-bit, audio.Clip), offline.
//
// Two engines: Flite (CMU flite in-process through cgo, US English, built
// only with -tags flite) and Espeak (the espeak-ng program run per
// request, ~130 languages including Mandarin "cmn"; GPL, so never
// linked). A Router picks one per request — flite for English when it is
// built in, espeak-ng for everything else and as fallback — and a Cache
// keeps rendered prompts on disk, so each is synthesised once.
//
//	s, err := tts.New(tts.Options{CacheDir: "/var/cache/switchd/tts", Logger: log})
//	clip, err := s.Synthesize(ctx, tts.Request{Text: "欢迎致电", Language: "zh"})
package tts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// Request is one prompt to speak.
type Request struct {
	// Text to speak, UTF-8, at most MaxTextBytes.
	Text string
	// Language is a BCP-47-ish tag: "en", "en-US", "de", "cmn"
	// (Mandarin); "zh", "zh-CN" mean "cmn" (see CanonicalLanguage).
	// "" means DefaultLanguage.
	Language string
	// Voice is an engine voice name ("kal", "slt" for flite; "en-us+f3",
	// "de" for espeak-ng); "" is the engine's default for the language.
	// Through a Router, "engine:voice" or a bare engine name
	// ("espeak-ng:en-us", "espeak", "flite:slt") picks the engine.
	Voice string
}

// Synthesizer renders speech as 8 kHz mono 16-bit PCM. Implementations
// are safe for concurrent use.
type Synthesizer interface {
	// Synthesize renders r. Errors wrap the package's sentinel errors or
	// the context's.
	Synthesize(ctx context.Context, r Request) (*audio.Clip, error)
	// Name identifies the engine ("flite", "espeak-ng"); it is part of
	// cache keys.
	Name() string
	// Supports reports whether the engine speaks lang (any form
	// CanonicalLanguage accepts).
	Supports(lang string) bool
}

// voiceChecker is implemented by engines that can tell whether they know
// a voice; the Router uses it to place requests that name a voice
// without naming an engine.
type voiceChecker interface {
	HasVoice(voice string) bool
}

// checker is implemented by engines that can say why they are unusable
// (Espeak.Check); the Router adds that to ErrUnsupportedLanguage.
type checker interface {
	Check(ctx context.Context) error
}

// Options configures New.
type Options struct {
	// CacheDir is where rendered prompts are kept (see Cache); "" means
	// no disk cache.
	CacheDir string
	// Timeout bounds one request, fallbacks included. Default
	// DefaultTimeout.
	Timeout time.Duration
	// Logger; default discards.
	Logger *slog.Logger
	// Engines, in order of preference, replaces the default engines:
	// flite (if built with -tags flite) then espeak-ng from PATH.
	Engines []Synthesizer
}

// Router is a Synthesizer that sends each request to the first engine,
// in order of preference, that supports its language (and voice), and
// falls back to the next on failure.
type Router struct {
	engines []routed
	names   []string
	timeout time.Duration
	log     *slog.Logger
}

// routed is an engine and what requests for it go through (itself, or a
// Cache of it).
type routed struct {
	engine Synthesizer
	synth  Synthesizer
}

var _ Synthesizer = (*Router)(nil)

// New returns a Router over opts.Engines, or over the default engines:
// flite when built in, then espeak-ng. With a CacheDir, each engine is
// wrapped in a Cache. An engine that is not available is left out (flite
// without the build tag) or fails per request (a missing espeak-ng
// binary, reported as ErrEngineUnavailable).
func New(opts Options) (*Router, error) {
	r := &Router{timeout: opts.Timeout, log: opts.Logger}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	engines := opts.Engines
	if engines == nil {
		if f, err := NewFlite(); err == nil {
			engines = append(engines, f)
		} else {
			r.log.Info("tts_engine_unavailable", "engine", FliteName, "err", err)
		}
		engines = append(engines, NewEspeak(EspeakOptions{Timeout: r.timeout, Logger: r.log}))
	}
	if len(engines) == 0 {
		return nil, errors.New("tts: no engines")
	}
	for _, e := range engines {
		rt := routed{engine: e, synth: e}
		if opts.CacheDir != "" {
			c, err := NewCache(e, opts.CacheDir, r.log)
			if err != nil {
				return nil, err
			}
			rt.synth = c
		}
		r.engines = append(r.engines, rt)
		r.names = append(r.names, e.Name())
	}
	return r, nil
}

// Name returns "router".
func (r *Router) Name() string { return "router" }

// Engines returns the names of the engines, in order of preference.
func (r *Router) Engines() []string { return append([]string(nil), r.names...) }

// Supports reports whether any engine supports lang.
func (r *Router) Supports(lang string) bool {
	lang = CanonicalLanguage(lang)
	for _, e := range r.engines {
		if e.engine.Supports(lang) {
			return true
		}
	}
	return false
}

// Synthesize renders req with the first suitable engine, falling back to
// the next suitable one if it fails. The engines (and cache keys) see the
// text trimmed, the language canonical and the voice without its engine
// prefix. No suitable engine is ErrUnsupportedLanguage (or
// ErrUnknownVoice when the language is spoken but not with that voice).
func (r *Router) Synthesize(ctx context.Context, req Request) (*audio.Clip, error) {
	text, err := cleanText(req.Text)
	if err != nil {
		return nil, err
	}
	lang := CanonicalLanguage(req.Language)
	pinned, voice := splitVoice(req.Voice, r.names)
	cands, err := r.candidates(ctx, lang, pinned, voice)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req = Request{Text: text, Language: lang, Voice: voice}
	var errs []error
	for i, e := range cands {
		clip, err := e.synth.Synthesize(ctx, req)
		if err == nil {
			return clip, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break // out of time: another engine will not help
		}
		if i+1 < len(cands) {
			r.log.Warn("tts_engine_failed", "engine", e.engine.Name(), "language", lang,
				"fallback", cands[i+1].engine.Name(), "err", err)
		}
	}
	return nil, errors.Join(errs...)
}

// candidates returns the engines that may render lang with voice, in
// order of preference.
func (r *Router) candidates(ctx context.Context, lang, pinned, voice string) ([]routed, error) {
	var cands []routed
	spoken := false
	for _, e := range r.engines {
		if pinned != "" && e.engine.Name() != pinned {
			continue
		}
		if !e.engine.Supports(lang) {
			continue
		}
		spoken = true
		if pinned == "" && voice != "" {
			if vc, ok := e.engine.(voiceChecker); ok && !vc.HasVoice(voice) {
				continue
			}
		}
		cands = append(cands, e)
	}
	if len(cands) > 0 {
		return cands, nil
	}
	if spoken {
		return nil, fmt.Errorf("%w: %q for language %q (engines: %s)", ErrUnknownVoice, voice, lang, strings.Join(r.names, ", "))
	}
	scope := strings.Join(r.names, ", ")
	if pinned != "" {
		scope = pinned
	}
	errs := []error{fmt.Errorf("%w: %q (engines: %s)", ErrUnsupportedLanguage, lang, scope)}
	for _, e := range r.engines {
		if c, ok := e.engine.(checker); ok && (pinned == "" || e.engine.Name() == pinned) {
			if err := c.Check(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return nil, errors.Join(errs...)
}
