package sdp

// Direction is a stream's direction attribute (RFC 8866 §6.7, RFC 3264
// §5.1), seen from the side that wrote the description: SendOnly means that
// side sends and does not want to receive.
type Direction uint8

// Direction values; the zero value means unknown or unset.
const (
	DirectionUnknown Direction = iota
	SendRecv
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name ("sendrecv", …) or "unknown".
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return "unknown"
	}
}

// ParseDirection maps an attribute name to its Direction, or
// DirectionUnknown.
func ParseDirection(s string) Direction {
	switch s {
	case "sendrecv":
		return SendRecv
	case "sendonly":
		return SendOnly
	case "recvonly":
		return RecvOnly
	case "inactive":
		return Inactive
	}
	return DirectionUnknown
}

// Sends reports whether the writer sends media (sendrecv or sendonly;
// unknown counts as the default sendrecv).
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly || d == DirectionUnknown }

// Receives reports whether the writer wants to receive media (sendrecv or
// recvonly; unknown counts as the default sendrecv).
func (d Direction) Receives() bool {
	return d == SendRecv || d == RecvOnly || d == DirectionUnknown
}

// directionOf builds a Direction from its two halves.
func directionOf(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	default:
		return Inactive
	}
}

// Attribute returns the a= line for d; unknown is written as sendrecv.
func (d Direction) Attribute() Attribute {
	if d == DirectionUnknown {
		d = SendRecv
	}
	return Attribute{Key: d.String()}
}

// Direction returns the direction declared for m: its own attribute, else
// the session-level one, else sendrecv (RFC 8866 §6.7, RFC 3264 §5.1). It
// ignores the old-style hold address; see EffectiveDirection.
func (s *Session) Direction(m *Media) Direction {
	if d := directionAttr(m.Attributes); d != DirectionUnknown {
		return d
	}
	if d := directionAttr(s.Attributes); d != DirectionUnknown {
		return d
	}
	return SendRecv
}

func directionAttr(as []Attribute) Direction {
	for _, a := range as {
		if d := ParseDirection(a.Key); d != DirectionUnknown {
			return d
		}
	}
	return DirectionUnknown
}

// EffectiveDirection is Direction corrected for an old-style hold: when the
// stream's connection address is 0.0.0.0 (RFC 2543), RFC 3264 §8.4 says
// nothing is to be sent to the writer, so its receiving half is dropped
// (sendrecv becomes sendonly, recvonly becomes inactive).
func (s *Session) EffectiveDirection(m *Media) Direction {
	d := s.Direction(m)
	if c := s.ConnectionFor(m); c != nil && c.IsHold() {
		return directionOf(d.Sends(), false)
	}
	return d
}

// Hold reports whether the writer of s puts stream m on hold: its
// EffectiveDirection is sendonly or inactive, so it wants no media from us
// (RFC 3264 §8.4, RFC 6337 §5.3).
func (s *Session) Hold(m *Media) bool { return !s.EffectiveDirection(m).Receives() }

// AnswerDirection is the direction to answer an offered one with, given the
// direction we want (RFC 3264 §6.1): we may send only if the offerer
// receives and receive only if it sends. So sendonly is answered recvonly,
// recvonly sendonly, inactive inactive, and sendrecv with what we want.
// Unknown is taken as sendrecv on both sides. Pass the offer's
// EffectiveDirection so an old-style hold is honoured.
func AnswerDirection(offered, want Direction) Direction {
	return directionOf(want.Sends() && offered.Receives(), want.Receives() && offered.Sends())
}
