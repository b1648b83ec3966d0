package acd

import "errors"

// Errors returned by package acd, wrapped with %w and a detail.
var (
	// ErrInvalidValue is returned when text does not name a value of an
	// enumeration of this package (Strategy, AgentState, TargetKind).
	ErrInvalidValue = errors.New("acd: invalid value")
	// ErrInvalidConfig is returned (wrapped, naming the first problem) by
	// New and Reload for a configuration with errors.
	ErrInvalidConfig = errors.New("acd: invalid configuration")
	// ErrNoQueue is returned for a queue the engine does not have (or one
	// removed by a reload, which takes no new contacts).
	ErrNoQueue = errors.New("acd: no such queue")
	// ErrNoContact is returned for a contact the engine does not hold.
	ErrNoContact = errors.New("acd: no such contact")
	// ErrDuplicateContact is returned by Enqueue for a contact already held.
	ErrDuplicateContact = errors.New("acd: contact already queued")
	// ErrContactState is returned when an operation does not apply to the
	// contact as it is (ContactEnded for a contact still waiting, Move for
	// one already answered).
	ErrContactState = errors.New("acd: operation does not apply to the contact's state")
	// ErrInvalidContact is returned by Enqueue for a contact without ID or
	// with an unknown medium.
	ErrInvalidContact = errors.New("acd: invalid contact")
	// ErrQueueFull is returned by Enqueue when the queue holds max_waiting
	// contacts and has no overflow target.
	ErrQueueFull = errors.New("acd: queue full")
	// ErrQueueEmpty is returned by Enqueue when no agent of the queue is
	// present, join_empty is false and the queue has no overflow target.
	ErrQueueEmpty = errors.New("acd: no agent present in queue")
	// ErrNoAgent is returned for an agent the engine does not know.
	ErrNoAgent = errors.New("acd: no such agent")
	// ErrInvalidAgent is returned by PutAgent for an agent profile with
	// problems (empty ID, proficiency outside 1–5, negative capacity).
	ErrInvalidAgent = errors.New("acd: invalid agent")
	// ErrAgentState is returned for an agent state change the state
	// machine does not allow (see AgentState).
	ErrAgentState = errors.New("acd: illegal agent state transition")
	// ErrNoOffer is returned by OfferAccepted, OfferRejected and
	// OfferTimedOut when the agent has no offer of that contact ringing
	// (it was withdrawn, expired, or another agent took the contact).
	ErrNoOffer = errors.New("acd: no such offer")
	// ErrStopped is returned by the Engine's operations once Run has
	// returned (or before it started, when the context ends first).
	ErrStopped = errors.New("acd: engine stopped")
	// ErrRunning is returned by a second concurrent call of Run.
	ErrRunning = errors.New("acd: engine already running")
)
