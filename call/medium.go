package call

// Medium is how a contact reaches the switch. A web chat is a pseudo-call
// with Medium Chat; IVR and ACD treat both alike.
type Medium uint8

// Media.
const (
	MediumUnknown Medium = iota // zero value
	MediumVoice                 // SIP or WebRTC audio
	MediumChat                  // web chat session
)

var mediumNames = []string{"unknown", "voice", "chat"}

// String returns the snake_case name ("voice").
func (m Medium) String() string { return enumString(m, "medium", mediumNames) }

// MarshalText implements encoding.TextMarshaler.
func (m Medium) MarshalText() ([]byte, error) { return enumMarshal(m, "medium", mediumNames) }

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (m *Medium) UnmarshalText(b []byte) (err error) {
	*m, err = enumParse[Medium](b, "medium", mediumNames)
	return err
}
