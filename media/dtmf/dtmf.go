// Package dtmf detects and generates DTMF digits on a voice leg, in the
// three ways a phone can send them:
//
//   - RFC 4733 telephone-event RTP packets: Receiver4733 turns the packets
//     of one stream into digits, Sender4733 builds the packets of a digit;
//   - in-band tones in the audio (ITU-T Q.23 frequencies, Q.24 receiver
//     limits): InBand runs over decoded audio.Frames;
//   - SIP INFO bodies (application/dtmf-relay, application/dtmf):
//     ParseInfo.
//
// Every source yields the same Event. A Merger combines the sources of
// one leg, so that a key press sent both as RFC 4733 and in-band is
// reported once.
//
// Nothing here does I/O or keeps a clock: callers pass the arrival time
// of what they feed in, and call the Tick step of a receiver themselves.
package dtmf

import (
	"fmt"
	"time"
)

// Event is one digit as detected, from whatever source.
type Event struct {
	// Digit is '0'–'9', '*', '#' or 'A'–'D'.
	Digit byte
	// Duration is how long the key was held, as far as the source tells:
	// RFC 4733 the duration field, in-band the length of the tone, SIP
	// INFO the Duration line (0 when absent).
	Duration time.Duration
	// Source says where the digit came from.
	Source Source
	// At is when the key press began, on the receiver's clock: the
	// arrival of the first packet minus the duration it reports (RFC
	// 4733), the start of the first audio block holding the tone
	// (in-band), or the arrival of the INFO request (SIP INFO).
	At time.Time
}

// String returns e.g. "5 (rfc4733, 100ms)".
func (e Event) String() string {
	return fmt.Sprintf("%c (%s, %v)", e.Digit, e.Source, e.Duration)
}

// Source is where a digit was detected. The zero value is unknown.
type Source uint8

// The sources of digits.
const (
	SourceUnknown Source = iota
	// SourceRFC4733 is an RTP telephone-event (RFC 4733).
	SourceRFC4733
	// SourceInBand is a tone pair in the audio (ITU-T Q.23).
	SourceInBand
	// SourceSIPInfo is a SIP INFO request (application/dtmf-relay or
	// application/dtmf body).
	SourceSIPInfo
)

// String returns "rfc4733", "inband", "sip-info" or "unknown".
func (s Source) String() string {
	switch s {
	case SourceRFC4733:
		return "rfc4733"
	case SourceInBand:
		return "inband"
	case SourceSIPInfo:
		return "sip-info"
	default:
		return "unknown"
	}
}

// digits maps RFC 4733 event codes 0–15 to digits (RFC 4733 §3.2,
// table 1; the IANA audio/telephone-event registry).
const digits = "0123456789*#ABCD"

// DigitOf returns the digit of an RFC 4733 event code; ok is false for
// codes above 15 (hook flash and the non-DTMF events of RFC 4734).
func DigitOf(code uint8) (digit byte, ok bool) {
	if int(code) >= len(digits) {
		return 0, false
	}
	return digits[code], true
}

// EventCode returns the RFC 4733 event code of a digit ('0'–'9', '*',
// '#', 'A'–'D', also 'a'–'d'); ok is false for anything else.
func EventCode(digit byte) (code uint8, ok bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', true
	case digit == '*':
		return 10, true
	case digit == '#':
		return 11, true
	case digit >= 'A' && digit <= 'D':
		return digit - 'A' + 12, true
	case digit >= 'a' && digit <= 'd':
		return digit - 'a' + 12, true
	}
	return 0, false
}
