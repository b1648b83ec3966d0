package call

// Direction is which way a call goes relative to the switch's users.
type Direction uint8

// Directions.
const (
	DirectionUnknown  Direction = iota // zero value
	DirectionInbound                   // from a trunk or a web visitor to the contact centre
	DirectionOutbound                  // from a user of the switch to a trunk
	DirectionInternal                  // between two users of the switch
)

var directionNames = []string{"unknown", "inbound", "outbound", "internal"}

// String returns the snake_case name ("inbound").
func (d Direction) String() string { return enumString(d, "direction", directionNames) }

// MarshalText implements encoding.TextMarshaler.
func (d Direction) MarshalText() ([]byte, error) {
	return enumMarshal(d, "direction", directionNames)
}

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (d *Direction) UnmarshalText(b []byte) (err error) {
	*d, err = enumParse[Direction](b, "direction", directionNames)
	return err
}
