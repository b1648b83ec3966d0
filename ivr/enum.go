package ivr

import (
	"github.com/switchd/switchd/internal/enum"
)

// The enumerations of this package (OutcomeKind, TargetKind, NodeKind) are
// small unsigned integers whose zero value means unknown, with one
// snake_case name each (as in package call).

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

// OutcomeKind is what the switch should do with a call when its flow ends.
type OutcomeKind uint8

// Outcome kinds.
const (
	OutcomeUnknown  OutcomeKind = iota // zero value
	OutcomeHangup                      // hang up with Outcome.Cause
	OutcomeTransfer                    // transfer to Outcome.Target (an extension or an external number)
	OutcomeEnqueue                     // put the call in Outcome.Queue
)

var outcomeKindNames = []string{"unknown", "hangup", "transfer", "enqueue"}

// String returns the name ("transfer").
func (k OutcomeKind) String() string { return enumString(k, "outcome kind", outcomeKindNames) }

// MarshalText implements encoding.TextMarshaler.
func (k OutcomeKind) MarshalText() ([]byte, error) {
	return enumMarshal(k, "outcome kind", outcomeKindNames)
}

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (k *OutcomeKind) UnmarshalText(b []byte) (err error) {
	*k, err = enumParse[OutcomeKind](b, "outcome kind", outcomeKindNames)
	return err
}

// TargetKind says what a transfer's target is.
type TargetKind uint8

// Target kinds.
const (
	TargetUnknown   TargetKind = iota // zero value
	TargetExtension                   // an extension of this switch
	TargetExternal                    // an external number, dialled through the dial rules (or Outcome.Trunk)
)

var targetKindNames = []string{"unknown", "extension", "external"}

// String returns the name ("extension").
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

// NodeKind is the type of a flow node, as written in its type: key.
type NodeKind uint8

// Node kinds.
const (
	NodeUnknown   NodeKind = iota // zero value
	NodePlay                      // say or play prompts, then go on
	NodeMenu                      // prompt, read one DTMF option, branch on it
	NodeCollect                   // prompt, read digits into a variable
	NodeSet                       // set variables
	NodeBranch                    // branch on conditions
	NodeHours                     // branch on a weekly schedule and holidays
	NodeHTTP                      // call a webhook, map JSON fields into variables
	NodeEnqueue                   // end: put the call in a queue
	NodeTransfer                  // end: transfer to an extension or a number; or go on in another flow
	NodeVoicemail                 // record a message and store it
	NodeHangup                    // end: hang up
	NodeGoto                      // go to another node
)

var nodeKindNames = []string{
	"unknown", "play", "menu", "collect", "set", "branch", "hours", "http",
	"enqueue", "transfer", "voicemail", "hangup", "goto",
}

// String returns the name, as written in a flow ("menu").
func (k NodeKind) String() string { return enumString(k, "node type", nodeKindNames) }

// MarshalText implements encoding.TextMarshaler.
func (k NodeKind) MarshalText() ([]byte, error) { return enumMarshal(k, "node type", nodeKindNames) }

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (k *NodeKind) UnmarshalText(b []byte) (err error) {
	*k, err = enumParse[NodeKind](b, "node type", nodeKindNames)
	return err
}
