package sdp

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package; match them with errors.Is.
var (
	// ErrMalformed is wrapped by every Parse error (a *ParseError). A SIP
	// edge answers such an offer with 400 Bad Request.
	ErrMalformed = errors.New("sdp: malformed session description")
	// ErrNoAudio means an offer has no audio stream switchd can take: none,
	// all disabled, or none over plain RTP/AVP. Answer 488 Not Acceptable
	// Here (RFC 3261 §21.4.26, RFC 3264 §6).
	ErrNoAudio = errors.New("sdp: no usable audio stream")
	// ErrNoCommonCodec means the offered audio codecs and ours do not
	// intersect. Answer 488 Not Acceptable Here.
	ErrNoCommonCodec = errors.New("sdp: no common audio codec")
	// ErrNoAddress means a stream has no c= line that applies to it, or its
	// address is a host name rather than an IP (Session.RTPAddr).
	ErrNoAddress = errors.New("sdp: stream has no IP connection address")
)

// ParseError describes why Parse rejected its input. It wraps ErrMalformed.
type ParseError struct {
	Line   int    // 1-based line number; 0 when the error is about the whole description
	Text   string // the offending line (shortened), "" when Line is 0
	Reason string // what is wrong
}

// maxErrText bounds how much of a bad line goes into an error (and so into logs).
const maxErrText = 80

// Error formats the error as `sdp: line N "text": reason`, or
// `sdp: reason` when no single line is at fault.
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "sdp: " + e.Reason
	}
	return fmt.Sprintf("sdp: line %d %q: %s", e.Line, e.Text, e.Reason)
}

// Unwrap returns ErrMalformed.
func (e *ParseError) Unwrap() error { return ErrMalformed }

func lineErr(n int, line, format string, args ...any) *ParseError {
	if len(line) > maxErrText {
		line = line[:maxErrText] + "…"
	}
	return &ParseError{Line: n, Text: line, Reason: fmt.Sprintf(format, args...)}
}

func descErr(format string, args ...any) *ParseError {
	return &ParseError{Reason: fmt.Sprintf(format, args...)}
}
