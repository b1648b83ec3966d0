package routing

import "errors"

// Errors returned by package routing.
var (
	// ErrUnknownDID is returned by Table.Inbound when no DID entry matches
	// the called number on that trunk (SIP: 404 Not Found).
	ErrUnknownDID = errors.New("routing: unknown DID")
	// ErrNoRoute is returned by Table.Outbound when no dial rule matches the
	// dialled number (SIP: 404 Not Found).
	ErrNoRoute = errors.New("routing: no route")
	// ErrForbidden is returned (wrapped, naming the class required) by
	// Table.Outbound when the extension's class is too low (SIP: 403).
	ErrForbidden = errors.New("routing: forbidden")
	// ErrInvalidValue is returned when text does not name a value of an
	// enumeration of this package (Class, NumberFormat, CalledNumber, DestKind).
	ErrInvalidValue = errors.New("routing: invalid value")
	// ErrInvalidConfig is returned (wrapped, listing the problems) by New
	// for a Config that does not validate.
	ErrInvalidConfig = errors.New("routing: invalid configuration")
)
