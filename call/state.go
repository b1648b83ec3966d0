package call

// State is where a call is in its life (see Call.Transition for the moves
// allowed between states).
type State uint8

// States.
const (
	StateUnknown    State = iota // zero value: not yet created
	StateCreated                 // first packet or message seen, nothing sent back yet
	StateRinging                 // the called party is alerted (SIP 180)
	StateEarlyMedia              // audio flows before answer (SIP 183 with SDP)
	StateAnswered                // connected (SIP 200 / chat accepted)
	StateHeld                    // answered, media on hold (RFC 3264 §8.4 sendonly/inactive)
	StateEnded                   // over; final
)

var stateNames = []string{"unknown", "created", "ringing", "early_media", "answered", "held", "ended"}

// String returns the snake_case name ("early_media").
func (s State) String() string { return enumString(s, "state", stateNames) }

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return enumMarshal(s, "state", stateNames) }

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (s *State) UnmarshalText(b []byte) (err error) {
	*s, err = enumParse[State](b, "state", stateNames)
	return err
}

// transitions[from] is the set of states a call may move to from `from`.
// A state never moves to itself: repeating a state (a second 180) is the
// caller's to ignore, and publishing no second event keeps streams clean.
var transitions = [...][]State{
	StateUnknown:    {StateCreated},
	StateCreated:    {StateRinging, StateEarlyMedia, StateAnswered, StateEnded},
	StateRinging:    {StateEarlyMedia, StateAnswered, StateEnded},
	StateEarlyMedia: {StateRinging, StateAnswered, StateEnded}, // 183 then 180 happens on real trunks
	StateAnswered:   {StateHeld, StateEnded},
	StateHeld:       {StateAnswered, StateEnded}, // Held → Answered is a resume
	StateEnded:      nil,
}

// CanTransition reports whether a call in state from may move to state to.
func CanTransition(from, to State) bool {
	if int(from) >= len(transitions) {
		return false
	}
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}
