package ivr

import "errors"

// Errors returned by package ivr (in Outcome.Err, or wrapped).
var (
	// ErrStepLimit ends a run that visited Env.MaxSteps nodes; the call is
	// hung up with call.CauseFailure.
	ErrStepLimit = errors.New("ivr: step limit reached")
	// ErrNoFlow is returned when Run names a flow the Set does not hold (or
	// the Set is nil: no valid flows were ever loaded).
	ErrNoFlow = errors.New("ivr: no such flow")
	// ErrUnknownNode is returned when a run reaches a node that does not
	// exist; validation prevents it, so it means a bug.
	ErrUnknownNode = errors.New("ivr: unknown node")
	// ErrInvalidValue is returned when text does not name a value of an
	// enumeration of this package (OutcomeKind, TargetKind, NodeKind).
	ErrInvalidValue = errors.New("ivr: invalid value")
	// ErrInvalidFlows is returned (wrapped, naming the first problem) when
	// a set of flows has errors and is not installed.
	ErrInvalidFlows = errors.New("ivr: invalid flows")
	// ErrHTTPStatus is the failure of an http node whose webhook answered
	// with a status other than 2xx.
	ErrHTTPStatus = errors.New("ivr: webhook status not 2xx")
	// ErrNoVoicemailStore is the failure of a voicemail node when Env has
	// no Voicemail function.
	ErrNoVoicemailStore = errors.New("ivr: no voicemail store")
)
