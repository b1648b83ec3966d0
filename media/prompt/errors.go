package prompt

import (
	"errors"
	"fmt"
)

// Sentinel errors of the prompt package; callers test them with errors.Is.
var (
	// ErrPromptItem means one item of a prompt could not be prepared (a
	// missing or unreadable file, a failed synthesis, an unknown tone). The
	// error is an *ItemError that names the item.
	ErrPromptItem = errors.New("prompt: bad item")
	// ErrEmptyPrompt means a prompt has no item, or loops over items that
	// last no time at all.
	ErrEmptyPrompt = errors.New("prompt: nothing to play")
	// ErrItemKind means an item sets none or more than one of File, Text,
	// Tone/ToneSpec and Silence.
	ErrItemKind = errors.New("prompt: item must set exactly one of file, text, tone or silence")
	// ErrNoSpeaker means a text item was given to a Player without a
	// Speaker.
	ErrNoSpeaker = errors.New("prompt: no text-to-speech configured")
	// ErrUnknownTone means a tone name is not one of ringback, busy,
	// congestion and beep.
	ErrUnknownTone = errors.New("prompt: unknown tone")
	// ErrToneDuration means a tone item has no Duration (only a beep, or a
	// ToneSpec with Once, may omit it: it then plays one cadence cycle).
	ErrToneDuration = errors.New("prompt: tone needs a duration")
	// ErrDurationUnknown is returned by PromptDuration for text items,
	// whose length is known only after synthesis.
	ErrDurationUnknown = errors.New("prompt: duration unknown before synthesis")
	// ErrReplaced is the Result.Err of a prompt cut short because another
	// prompt (or music on hold) was started on the same Player.
	ErrReplaced = errors.New("prompt: replaced by another prompt")
	// ErrStopped is returned by Start or StartMOH when Stop or another
	// Start was called while it prepared its items: nothing is played.
	ErrStopped = errors.New("prompt: stopped before it started")
	// ErrMOH means the music-on-hold folder cannot be read.
	ErrMOH = errors.New("prompt: music on hold folder")
)

// ItemError is the error of an item that could not be prepared. It matches
// ErrPromptItem with errors.Is and unwraps to the cause.
type ItemError struct {
	Index int    // position of the item in Prompt.Items, from 0
	What  string // the item in short: file path, text, tone name
	Err   error  // the cause
}

// Error reports the item index, what it was and why it failed.
func (e *ItemError) Error() string {
	return fmt.Sprintf("prompt: item %d (%s): %v", e.Index, e.What, e.Err)
}

// Unwrap returns the cause.
func (e *ItemError) Unwrap() error { return e.Err }

// Is makes every ItemError match ErrPromptItem.
func (e *ItemError) Is(target error) bool { return target == ErrPromptItem }
