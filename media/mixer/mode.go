package mixer

// Mode is how a supervisor takes part in an agent's call. The zero value
// is unknown: a participant that supervises nobody is an ordinary
// conference participant (it hears everyone and everyone hears it).
//
// A supervisor always hears every other participant; the mode says who
// hears the supervisor. Modes can be switched at any time during the
// session (Participant.Supervise); the change is faded over one frame.
type Mode uint8

// The supervisor modes.
const (
	// Listen (silent monitoring): nobody hears the supervisor.
	Listen Mode = iota + 1
	// Whisper (coaching): only the supervised agent hears the supervisor;
	// the customer does not.
	Whisper
	// Barge (three-way): everyone hears the supervisor.
	Barge
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Listen:
		return "listen"
	case Whisper:
		return "whisper"
	case Barge:
		return "barge"
	}
	return "unknown"
}

// valid reports whether m is one of the modes.
func (m Mode) valid() bool { return m >= Listen && m <= Barge }

// heardBy reports whether listener hears a speaker that is a supervisor in
// mode m of agent (m zero: not a supervisor, heard by everyone).
func (m Mode) heardBy(listener, agent *Participant) bool {
	switch m {
	case Listen:
		return false
	case Whisper:
		return listener == agent
	}
	return true
}
