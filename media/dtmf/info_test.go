package dtmf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoErrors are the sentinels an INFO parse error may wrap.
var infoErrors = []error{ErrContentType, ErrInfoBody, ErrDigit, ErrNotDigitEvent}

// TestParseInfoGolden parses the INFO requests of testdata/info: a line
// "content-type: <value>" and a line "body: <Go-quoted string>".
func TestParseInfoGolden(t *testing.T) {
	runGolden(t, "info", func(t *testing.T, input string) string {
		var ct, body string
		for line := range strings.Lines(input) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
			switch k {
			case "content-type":
				ct = strings.TrimSpace(v)
			case "body":
				b, err := strconv.Unquote(strings.TrimSpace(v))
				if err != nil {
					t.Fatalf("body: %v", err)
				}
				body = b
			}
		}
		return formatInfo(ParseInfo(ct, []byte(body), t0))
	})
}

// formatInfo prints a ParseInfo result.
func formatInfo(e Event, err error) string {
	if err != nil {
		var is []string
		for _, s := range infoErrors {
			if errors.Is(err, s) {
				is = append(is, strings.TrimPrefix(s.Error(), "dtmf: "))
			}
		}
		return fmt.Sprintf("error: %v\nis: %s\n", err, strings.Join(is, "; "))
	}
	return fmt.Sprintf("digit=%c duration=%v source=%v at=%v\n", e.Digit, e.Duration, e.Source, e.At.Sub(t0))
}

// FuzzParseInfo: any input gives a digit or an error wrapping a
// sentinel, never a panic; a digit is a valid one, its duration within
// bounds, and it survives a round trip through a dtmf-relay body.
func FuzzParseInfo(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"},
		{"application/dtmf-relay", "signal= #\nduration = 250"},
		{"Application/DTMF-Relay; charset=utf-8", "Signal=11\r\n"},
		{"application/dtmf", "5"},
		{"application/dtmf", " * \r\n"},
		{"application/dtmf", "Signal=A\r\nDuration=100"},
		{"application/dtmf-relay", "Signal=!\r\n"},
		{"application/dtmf-relay", "Signal=1\r\nSignal=2\r\n"},
		{"text/plain", "5"},
		{"application/dtmf-relay", ""},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		e, err := ParseInfo(ct, body, t0)
		if err != nil {
			for _, s := range infoErrors {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if _, ok := EventCode(e.Digit); !ok || e.Digit >= 'a' {
			t.Fatalf("digit %q", e.Digit)
		}
		if e.Duration < 0 || e.Duration > maxInfoDuration || e.Source != SourceSIPInfo || !e.At.Equal(t0) {
			t.Fatalf("event %+v", e)
		}
		body2 := fmt.Sprintf("Signal=%c\r\nDuration=%d\r\n", e.Digit, e.Duration.Milliseconds())
		e2, err := ParseInfo(ContentTypeDTMFRelay, []byte(body2), t0)
		if err != nil || e2 != e {
			t.Fatalf("round trip of %+v: %+v, %v", e, e2, err)
		}
	})
}

// TestParseInfoLimits: bodies above MaxInfoBody are refused.
func TestParseInfoLimits(t *testing.T) {
	body := "Signal=5\r\n" + strings.Repeat("X-Padding=1\r\n", MaxInfoBody/13+1)
	if _, err := ParseInfo(ContentTypeDTMFRelay, []byte(body), time.Time{}); !errors.Is(err, ErrInfoBody) {
		t.Fatalf("body of %d bytes: %v", len(body), err)
	}
}
