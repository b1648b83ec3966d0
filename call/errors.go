package call

import "errors"

// Errors returned by package call.
var (
	// ErrIllegalTransition is returned by Call.Transition for a state change
	// the call state machine does not allow (see Call.Transition).
	ErrIllegalTransition = errors.New("call: illegal state transition")
	// ErrInvalidValue is returned when text does not name a value of an
	// enumeration (Medium, Direction, State, Cause, Side) or an ID.
	ErrInvalidValue = errors.New("call: invalid value")
	// ErrGap is matched (errors.Is) by every *GapError: the subscriber
	// missed events and must subscribe again from GapError.Resume.
	ErrGap = errors.New("call: event gap")
	// ErrBusClosed ends a subscription when its Bus is closed, and is
	// returned by Subscribe on a closed Bus.
	ErrBusClosed = errors.New("call: event bus closed")
	// ErrNoInput is returned by Prompter.Collect when the caller gave no
	// input before the timeout.
	ErrNoInput = errors.New("call: no input")
)
