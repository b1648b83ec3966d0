package tts

import "errors"

// Sentinel errors. Engines and the Router wrap them with %w, so callers
// test them with errors.Is.
var (
	// ErrEngineUnavailable means an engine cannot run here: flite was not
	// compiled in (built without -tags flite) or the espeak-ng binary is
	// missing or cannot be executed.
	ErrEngineUnavailable = errors.New("tts: engine unavailable")
	// ErrUnsupportedLanguage means no engine speaks the requested language.
	ErrUnsupportedLanguage = errors.New("tts: unsupported language")
	// ErrUnknownVoice means the requested voice is not one the engine (or,
	// through the Router, any engine for the language) knows.
	ErrUnknownVoice = errors.New("tts: unknown voice")
	// ErrEmptyText means the request has nothing to say.
	ErrEmptyText = errors.New("tts: empty text")
	// ErrTextTooLong means the text exceeds MaxTextBytes.
	ErrTextTooLong = errors.New("tts: text too long")
	// ErrOutputTooLarge means an engine produced more audio than allowed
	// (EspeakOptions.MaxOutputBytes).
	ErrOutputTooLarge = errors.New("tts: engine output too large")
	// ErrEngineFailed means an engine ran but did not produce usable audio.
	ErrEngineFailed = errors.New("tts: engine failed")
)
