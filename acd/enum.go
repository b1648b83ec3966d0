package acd

import (
	"fmt"

	"github.com/switchd/switchd/internal/enum"
	"gopkg.in/yaml.v3"
)

// The enumerations of this package (Strategy, AgentState, TargetKind) are
// small unsigned integers whose zero value means unknown, with one name
// each (as in package call). Strategy names are written as the queue files
// write them ("ring-all"); the others are snake_case.

func enumString[T ~uint8](v T, kind string, names []string) string {
	return enum.String(v, kind, names)
}

func enumMarshal[T ~uint8](v T, kind string, names []string) ([]byte, error) {
	return enum.Marshal(v, kind, names, ErrInvalidValue)
}

// enumParse accepts a value's name; "" means unknown (the zero value).
func enumParse[T ~uint8](text []byte, kind string, names []string) (T, error) {
	return enum.Parse[T](string(text), kind, names, ErrInvalidValue)
}

// enumYAML decodes a scalar name for a queue file. A bad value is reported
// as a *yaml.TypeError carrying its line, so config.Decode goes on and
// reports every problem of the file at once.
func enumYAML[T ~uint8](n *yaml.Node, kind string, names []string) (T, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, lineError(n, fmt.Sprintf("a %s must be a name", kind))
	}
	v, err := enumParse[T]([]byte(n.Value), kind, names[1:len(names):len(names)])
	if err != nil || n.Value == "" {
		return 0, lineError(n, fmt.Sprintf("%q is not a %s (one of %s)", n.Value, kind, oneOf(names[1:])))
	}
	return v + 1, nil
}

func oneOf(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

func lineError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}

// Strategy is how a queue chooses among the agents eligible for a contact.
// Whatever the strategy, only the eligible agents with the lowest penalty in
// the queue are considered, and agents who already missed this contact only
// when no other agent is eligible.
type Strategy uint8

// Strategies.
const (
	StrategyUnknown        Strategy = iota // zero value; a queue without strategy uses longest-idle
	StrategyRingAll                        // offer to every eligible agent at once; the first to accept takes it
	StrategyLongestIdle                    // the agent idle the longest (since their last contact or wrap-up ended, or login)
	StrategyRoundRobin                     // the next eligible agent after the last one chosen, in agent ID order
	StrategyFewestContacts                 // the agent who answered the fewest contacts of this queue since login
	StrategyLeastTalkTime                  // the agent with the least talk time in this queue since login
	StrategyLinear                         // always the first eligible agent in agent ID order
	StrategyRandom                         // any eligible agent, uniformly
	StrategySkills                         // the highest total proficiency in the required skills, then longest idle
)

var strategyNames = []string{
	"unknown", "ring-all", "longest-idle", "round-robin", "fewest-contacts",
	"least-talk-time", "linear", "random", "skills",
}

// String returns the name as queue files write it ("longest-idle").
func (s Strategy) String() string { return enumString(s, "strategy", strategyNames) }

// MarshalText implements encoding.TextMarshaler.
func (s Strategy) MarshalText() ([]byte, error) { return enumMarshal(s, "strategy", strategyNames) }

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (s *Strategy) UnmarshalText(b []byte) (err error) {
	*s, err = enumParse[Strategy](b, "strategy", strategyNames)
	return err
}

// UnmarshalYAML reads a strategy name, reporting a bad one with its line.
func (s *Strategy) UnmarshalYAML(n *yaml.Node) (err error) {
	*s, err = enumYAML[Strategy](n, "strategy", strategyNames)
	return err
}

// MarshalYAML writes the name.
func (s Strategy) MarshalYAML() (any, error) { return s.String(), nil }

// TargetKind is what a queue overflows to.
type TargetKind uint8

// Target kinds.
const (
	TargetUnknown   TargetKind = iota // zero value: no target (the wiring hangs up with cause congestion)
	TargetQueue                       // another queue of this engine; the engine moves the contact itself
	TargetFlow                        // an IVR flow
	TargetVoicemail                   // a voicemail box
	TargetExtension                   // an extension
)

var targetKindNames = []string{"unknown", "queue", "flow", "voicemail", "extension"}

// String returns the name ("voicemail").
func (k TargetKind) String() string { return enumString(k, "target kind", targetKindNames) }

// MarshalText implements encoding.TextMarshaler.
func (k TargetKind) MarshalText() ([]byte, error) {
	return enumMarshal(k, "target kind", targetKindNames)
}

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (k *TargetKind) UnmarshalText(b []byte) (err error) {
	*k, err = enumParse[TargetKind](b, "target kind", targetKindNames)
	return err
}

// UnmarshalYAML reads a kind name, reporting a bad one with its line.
func (k *TargetKind) UnmarshalYAML(n *yaml.Node) (err error) {
	*k, err = enumYAML[TargetKind](n, "target kind", targetKindNames)
	return err
}

// MarshalYAML writes the name.
func (k TargetKind) MarshalYAML() (any, error) { return k.String(), nil }

// AgentState is an agent's state for queue purposes. It is derived from
// what the agent holds, in this order of precedence:
//
//	logged_out  not logged in
//	busy        on a queue contact, or on a non-queue call of their own
//	reserved    an offer is ringing and they hold no contact
//	wrap_up     after-contact work, timed (EndWrapUp ends it early)
//	not_ready   paused with a Reason (break, lunch, training, missed_offer…)
//	available   logged in and free
//
// The operations move between them (others fail with ErrAgentState):
//
//	Login          logged_out → available
//	Logout         any but logged_out → logged_out (ringing offers withdrawn)
//	SetNotReady    any but logged_out → not_ready (after the contacts held end)
//	SetAvailable   not_ready or wrap_up → available
//	EndWrapUp      wrap_up → available (or not_ready if a pause is pending)
//	offer          available → reserved;  accepted: reserved → busy
//	missed offer   reserved → available, or not_ready (missed_offer) after RONA misses
//	ContactEnded   busy → wrap_up (or available when no wrap-up time)
//
// With capacity above one (chats) an agent keeps receiving offers of that
// medium while busy or reserved, up to their capacity.
type AgentState uint8

// Agent states.
const (
	AgentStateUnknown AgentState = iota // zero value
	AgentLoggedOut
	AgentAvailable
	AgentReserved
	AgentBusy
	AgentWrapUp
	AgentNotReady
)

var agentStateNames = []string{"unknown", "logged_out", "available", "reserved", "busy", "wrap_up", "not_ready"}

// String returns the snake_case name ("wrap_up").
func (s AgentState) String() string { return enumString(s, "agent state", agentStateNames) }

// MarshalText implements encoding.TextMarshaler.
func (s AgentState) MarshalText() ([]byte, error) {
	return enumMarshal(s, "agent state", agentStateNames)
}

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (s *AgentState) UnmarshalText(b []byte) (err error) {
	*s, err = enumParse[AgentState](b, "agent state", agentStateNames)
	return err
}

// Reason is why an agent is not ready. Sites add their own codes, so it is
// an open set of snake_case strings; these are the ones the engine knows.
type Reason string

// Well-known not-ready reasons.
const (
	ReasonUnspecified Reason = "unspecified"  // SetNotReady with ""
	ReasonBreak       Reason = "break"        //
	ReasonLunch       Reason = "lunch"        //
	ReasonTraining    Reason = "training"     //
	ReasonMissedOffer Reason = "missed_offer" // set by the engine after RONA misses
)
