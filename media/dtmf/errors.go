package dtmf

import "errors"

// Sentinel errors of the dtmf package; callers test them with errors.Is.
var (
	// ErrDigit means a character is not a DTMF digit ('0'–'9', '*', '#',
	// 'A'–'D').
	ErrDigit = errors.New("dtmf: not a DTMF digit")
	// ErrShortPayload means a telephone-event payload is shorter than the
	// 4 bytes of one event block (RFC 4733 §2.3).
	ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")
	// ErrNotDigitEvent means a telephone-event code is not one of the 16
	// DTMF digits (RFC 4733 §3.2): a hook flash (16) or another event.
	ErrNotDigitEvent = errors.New("dtmf: telephone-event is not a DTMF digit")
	// ErrContentType means a SIP INFO body is neither
	// application/dtmf-relay nor application/dtmf.
	ErrContentType = errors.New("dtmf: not a DTMF INFO content type")
	// ErrInfoBody means a SIP INFO body of a DTMF content type holds no
	// digit that can be read.
	ErrInfoBody = errors.New("dtmf: malformed DTMF INFO body")
)
