package call

import (
	"context"
	"time"
)

// LegID identifies one leg (one party's connection) of a call: a SIP
// dialog, a WebRTC peer connection or a chat session. A call has one ID and
// one or more legs.
type LegID string

// Leg is one party of a call, whatever its medium. The access packages (sip,
// rtc, chat) implement it; ivr, acd and the wiring use only this interface.
type Leg interface {
	// ID identifies the leg.
	ID() LegID
	// Medium is the leg's medium.
	Medium() Medium
	// Context is cancelled when the leg ends, whoever ends it; work done
	// for the leg (prompts, recordings) is bound to it.
	Context() context.Context
	// Cause is why the leg ended; CauseUnknown while it is up.
	Cause() Cause
	// Hangup ends the leg with cause (a BYE, a CANCEL or a final response
	// of cause.SIPStatus() on SIP; closing the session on chat). It does
	// not wait for the far end and may be called more than once: only the
	// first cause counts.
	Hangup(cause Cause)
}

// Prompter is what IVR flows and queues talk to a party through. A voice
// leg plays audio and reads DTMF; a chat leg sends text and reads the reply.
type Prompter interface {
	// Prompt presents p and returns when it has been played or sent, or
	// when ctx or the leg ends (returning the context's error).
	Prompt(ctx context.Context, p Prompt) error
	// Collect presents spec.Prompt (if any) and reads the party's input: DTMF
	// digits on a voice leg, the reply text on a chat leg. It returns
	// ErrNoInput if nothing came before spec.Timeout.
	Collect(ctx context.Context, spec CollectSpec) (string, error)
}

// Prompt is something said to a party. A voice leg plays Audio when it is
// set and can synthesise Text otherwise; a chat leg sends Text.
type Prompt struct {
	// Text is what is said, in Language.
	Text string `json:"text,omitempty"`
	// Audio names a recorded prompt: a file relative to the prompts
	// directory, without extension ("welcome", "queue/position"); the
	// media layer picks the file for Language and the leg's codec.
	Audio string `json:"audio,omitempty"`
	// Language is a BCP 47 tag ("en-GB"); "" means the switch's default.
	Language string `json:"language,omitempty"`
	// Interruptible lets input (a DTMF digit, a chat message) cut the
	// prompt short (barge-in); Collect's prompt always is.
	Interruptible bool `json:"interruptible,omitempty"`
}

// IsZero reports whether the prompt says nothing.
func (p Prompt) IsZero() bool { return p.Text == "" && p.Audio == "" }

// CollectSpec describes input to gather. MaxDigits, InterDigitTimeout and
// Terminator apply to DTMF; a chat leg returns the whole reply text.
type CollectSpec struct {
	// Prompt is presented first (interruptible); zero for none.
	Prompt Prompt
	// MaxDigits ends collection once this many digits arrived; 0 means
	// until the terminator or a timeout.
	MaxDigits int
	// Timeout is how long to wait for the first input after the prompt.
	// 0 means DefaultCollectTimeout.
	Timeout time.Duration
	// InterDigitTimeout ends collection when no further digit arrives in
	// time; 0 means DefaultInterDigitTimeout.
	InterDigitTimeout time.Duration
	// Terminator is the key that ends input early ("#"); it is not part of
	// the result. "" means none.
	Terminator string
}

// Defaults for CollectSpec's zero fields.
const (
	DefaultCollectTimeout    = 5 * time.Second
	DefaultInterDigitTimeout = 3 * time.Second
)

// WithDefaults returns s with zero timeouts replaced by the defaults.
func (s CollectSpec) WithDefaults() CollectSpec {
	if s.Timeout <= 0 {
		s.Timeout = DefaultCollectTimeout
	}
	if s.InterDigitTimeout <= 0 {
		s.InterDigitTimeout = DefaultInterDigitTimeout
	}
	return s
}
