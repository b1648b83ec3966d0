package call

// Side is the party that ended a call.
type Side uint8

// Sides.
const (
	SideUnknown Side = iota // zero value; also: the call has not ended
	SideCaller              // the calling party hung up (or cancelled)
	SideCallee              // the called party hung up, rejected or never answered
	SideSwitch              // the switch ended it (timeout, shutdown, failure)
)

var sideNames = []string{"unknown", "caller", "callee", "switch"}

// String returns the snake_case name ("caller").
func (s Side) String() string { return enumString(s, "side", sideNames) }

// MarshalText implements encoding.TextMarshaler.
func (s Side) MarshalText() ([]byte, error) { return enumMarshal(s, "side", sideNames) }

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (s *Side) UnmarshalText(b []byte) (err error) {
	*s, err = enumParse[Side](b, "side", sideNames)
	return err
}
