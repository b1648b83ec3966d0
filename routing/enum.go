package routing

import "github.com/switchd/switchd/internal/enum"

// The enumerations of this package (Class, NumberFormat, CalledNumber,
// DestKind) are small unsigned integers whose zero value means unknown, with
// one snake_case name each (as in package call).

func enumString[T ~uint8](v T, kind string, names []string) string {
	return enum.String(v, kind, names)
}

// enumParse accepts a value's name; "" means unknown (the zero value).
func enumParse[T ~uint8](s, kind string, names []string) (T, error) {
	return enum.Parse[T](s, kind, names, ErrInvalidValue)
}

// Class is a permission class of an extension, ordered: an extension may
// dial numbers whose required class is ≤ its own. An extension of class
// ClassUnknown may dial only emergency rules.
type Class uint8

// Classes, lowest first.
const (
	ClassUnknown       Class = iota // zero value: not set
	ClassInternal                   // extensions and services of this switch only
	ClassNational                   // plus numbers of the home country
	ClassInternational              // plus every number
	ClassEmergency                  // only as a dial rule's class: allowed to every extension
)

var classNames = []string{"unknown", "internal", "national", "international", "emergency"}

// String returns the name ("national").
func (c Class) String() string { return enumString(c, "class", classNames) }

// MarshalText implements encoding.TextMarshaler.
func (c Class) MarshalText() ([]byte, error) {
	return enum.Marshal(c, "class", classNames, ErrInvalidValue)
}

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (c *Class) UnmarshalText(b []byte) (err error) {
	*c, err = ParseClass(string(b))
	return err
}

// ParseClass returns the class named s ("international"); "" (and
// "unknown") is ClassUnknown.
func ParseClass(s string) (Class, error) { return enumParse[Class](s, "class", classNames) }

// NumberFormat is how a number is written in the Request-URI sent to a
// trunk. The zero value is treated as NumberFormatE164.
type NumberFormat uint8

// Number formats.
const (
	NumberFormatUnknown       NumberFormat = iota // zero value: not set (E.164 is used)
	NumberFormatE164                              // +CC N ("+862155550100")
	NumberFormatInternational                     // international_prefix CC N ("00862155550100")
	NumberFormatNational                          // national_prefix N ("02155550100")
)

var numberFormatNames = []string{"unknown", "e164", "international", "national"}

// String returns the name used in YAML ("e164").
func (f NumberFormat) String() string { return enumString(f, "number format", numberFormatNames) }

// ParseNumberFormat returns the format named s ("national"); "" is
// NumberFormatUnknown.
func ParseNumberFormat(s string) (NumberFormat, error) {
	return enumParse[NumberFormat](s, "number format", numberFormatNames)
}

// CalledNumber is where the called number (the DID) of an inbound call is
// read from.
type CalledNumber uint8

// Called-number sources.
const (
	CalledUnknown    CalledNumber = iota // zero value: not set (the Request-URI is used)
	CalledRequestURI                     // the user part of the Request-URI
	CalledTo                             // the user part of the To header's URI
)

var calledNumberNames = []string{"unknown", "request_uri", "to"}

// String returns the name used in YAML ("request_uri").
func (c CalledNumber) String() string { return enumString(c, "called number", calledNumberNames) }

// ParseCalledNumber returns the source named s ("to"); "" is CalledUnknown.
func ParseCalledNumber(s string) (CalledNumber, error) {
	return enumParse[CalledNumber](s, "called number", calledNumberNames)
}

// DestKind is the kind of an inbound destination.
type DestKind uint8

// Destination kinds.
const (
	DestUnknown    DestKind = iota // zero value
	DestExtension                  // ring an extension
	DestIVR                        // run an IVR flow
	DestQueue                      // enqueue in an ACD queue
	DestHangup                     // refuse the call with a cause
	DestConference                 // join a conference room
)

var destKindNames = []string{"unknown", "extension", "ivr", "queue", "hangup", "conference"}

// String returns the YAML key of the kind ("queue").
func (k DestKind) String() string { return enumString(k, "destination", destKindNames) }
