package audio

import "errors"

// Sentinel errors of package audio; callers test them with errors.Is.
var (
	// ErrBadWAV means a WAV file could not be read: it is not RIFF/WAVE,
	// is truncated or inconsistent, or holds a format this package does not
	// decode. The wrapping error names what is wrong.
	ErrBadWAV = errors.New("audio: bad WAV file")
	// ErrWAVTooLarge means a WAVWriter was asked to write past the 4 GiB
	// limit of a RIFF chunk size field.
	ErrWAVTooLarge = errors.New("audio: WAV file too large")
	// ErrClosed is returned by a WAVWriter used after Close.
	ErrClosed = errors.New("audio: closed")
	// ErrBadArgument means a constructor or method got a value outside
	// its documented range (a sample rate, a channel count).
	ErrBadArgument = errors.New("audio: bad argument")
)
