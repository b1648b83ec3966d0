package dtmf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxInfoBody is the largest SIP INFO body ParseInfo reads; a DTMF body
// is a few dozen bytes.
const MaxInfoBody = 1024

// maxInfoDuration bounds the Duration line: longer values are taken as
// garbage and ignored.
const maxInfoDuration = time.Hour

// The content types of DTMF in SIP INFO (RFC 6086 leaves the info
// packages to others; these two are the de facto ones).
const (
	// ContentTypeDTMFRelay is the body of lines "Signal=5" and
	// "Duration=160" (milliseconds) sent by most phones and gateways.
	ContentTypeDTMFRelay = "application/dtmf-relay"
	// ContentTypeDTMF is a body holding the digit alone.
	ContentTypeDTMF = "application/dtmf"
)

// ParseInfo reads the digit carried by a SIP INFO request: contentType is
// its Content-Type header (parameters ignored), body its body, at its
// arrival time (the Event's At).
//
// application/dtmf-relay: lines "Key=value", separated by CRLF or LF,
// keys case-insensitive, spaces around keys and values ignored, unknown
// keys ignored. Signal is required: a digit ('0'–'9', '*', '#', 'A'–'D',
// lower case too) or, as some gateways send, the RFC 4733 event code 10
// to 15 for '*', '#', 'A'–'D'. Duration, in milliseconds, is optional;
// a missing or unreadable one is 0.
//
// application/dtmf: the digit alone, surrounding white space ignored
// (no event codes: "12" is not a digit); a body that holds "Signal="
// lines is read as dtmf-relay (phones that mislabel it exist).
//
// Errors wrap ErrContentType, or ErrInfoBody (also ErrDigit when the
// signal is not a digit, ErrNotDigitEvent for a hook flash or another
// event).
func ParseInfo(contentType string, body []byte, at time.Time) (Event, error) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt != ContentTypeDTMFRelay && mt != ContentTypeDTMF {
		return Event{}, fmt.Errorf("%w: %q", ErrContentType, mt)
	}
	if len(body) > MaxInfoBody {
		return Event{}, fmt.Errorf("%w: body of %d bytes", ErrInfoBody, len(body))
	}
	if mt == ContentTypeDTMF && bytes.IndexByte(body, '=') < 0 {
		digit, err := parseSignal(string(bytes.TrimSpace(body)), false)
		if err != nil {
			return Event{}, err
		}
		return Event{Digit: digit, Source: SourceSIPInfo, At: at}, nil
	}
	return parseRelay(body, at)
}

// parseRelay reads an application/dtmf-relay body.
func parseRelay(body []byte, at time.Time) (Event, error) {
	var signal, duration string
	var haveSignal bool
	for line := range strings.Lines(string(body)) {
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "signal":
			if haveSignal && value != signal {
				return Event{}, fmt.Errorf("%w: two Signal lines, %q and %q", ErrInfoBody, signal, value)
			}
			signal, haveSignal = value, true
		case "duration":
			duration = value
		}
	}
	if !haveSignal {
		return Event{}, fmt.Errorf("%w: no Signal line", ErrInfoBody)
	}
	digit, err := parseSignal(signal, true)
	if err != nil {
		return Event{}, err
	}
	e := Event{Digit: digit, Source: SourceSIPInfo, At: at}
	if ms, err := strconv.ParseUint(duration, 10, 32); err == nil && time.Duration(ms)*time.Millisecond <= maxInfoDuration {
		e.Duration = time.Duration(ms) * time.Millisecond
	}
	return e, nil
}

// parseSignal reads a signal: a digit or, with codes, an event code
// 10–15 (0–9 are the digits themselves).
func parseSignal(s string, codes bool) (byte, error) {
	if len(s) == 1 {
		if code, ok := EventCode(s[0]); ok {
			d, _ := DigitOf(code)
			return d, nil
		}
		if s[0] == '!' { // hook flash, as some gateways write it
			return 0, fmt.Errorf("%w: signal %q: %w", ErrInfoBody, s, ErrNotDigitEvent)
		}
	}
	if code, err := strconv.ParseUint(s, 10, 8); err == nil && codes && len(s) <= 3 {
		if d, ok := DigitOf(uint8(code)); ok {
			return d, nil
		}
		return 0, fmt.Errorf("%w: signal %q: %w", ErrInfoBody, s, ErrNotDigitEvent)
	}
	if s == "" {
		return 0, fmt.Errorf("%w: empty signal", ErrInfoBody)
	}
	return 0, fmt.Errorf("%w: signal %q: %w", ErrInfoBody, s, ErrDigit)
}
