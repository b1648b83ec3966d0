package mixer

import "errors"

// Sentinel errors of the mixer package; callers test them with errors.Is.
var (
	// ErrClosed is returned by Join and Run on a closed Mixer.
	ErrClosed = errors.New("mixer: closed")
	// ErrRunning means Run was called while another Run is in progress.
	ErrRunning = errors.New("mixer: already running")
	// ErrNotMember means a participant given to a Mixer method is not
	// (or no longer) one of its participants, or is the participant
	// itself where another one is needed (a supervisor's agent).
	ErrNotMember = errors.New("mixer: not a participant of this mixer")
	// ErrMode means a supervisor mode is not Listen, Whisper or Barge, or
	// Whisper was asked without an agent to whisper to.
	ErrMode = errors.New("mixer: bad supervisor mode")
)
