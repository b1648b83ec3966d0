package media

import (
	"fmt"
	"strings"
)

// Codec is one RTP payload format as negotiated in SDP (RFC 4566 §6
// a=rtpmap): its encoding name, the payload type it travels under on one
// leg, and its RTP clock rate. The B2BUA builds these from each leg's
// negotiated SDP; PCMU and PCMA are the static types of RFC 3551 §6.
type Codec struct {
	// Name is the encoding name ("PCMU", "PCMA", "telephone-event"),
	// compared case-insensitively (RFC 4855 §3).
	Name string
	// PayloadType is the RTP payload type on the wire, 0–127.
	PayloadType uint8
	// ClockRate is the RTP timestamp rate in Hz.
	ClockRate uint32
}

// The codecs switchd relays and converts between. PCMU and PCMA are static
// payload types (RFC 3551 §4.5.14, table 4); telephone-event is dynamic
// (RFC 4733 §2.1), see TelephoneEvent.
var (
	// PCMU is G.711 μ-law, static payload type 0, 8000 Hz.
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	// PCMA is G.711 A-law, static payload type 8, 8000 Hz.
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

// telephoneEvent is the RFC 4733 encoding name of DTMF and other events.
const telephoneEvent = "telephone-event"

// TelephoneEvent returns the RFC 4733 telephone-event format (DTMF digits
// as RTP events, §3) at 8000 Hz under the dynamic payload type pt
// negotiated on a leg (commonly 101).
func TelephoneEvent(pt uint8) Codec {
	return Codec{Name: telephoneEvent, PayloadType: pt, ClockRate: 8000}
}

// String formats the codec the way SDP does, with its payload type:
// "PCMU/8000 (pt 0)".
func (c Codec) String() string {
	return fmt.Sprintf("%s/%d (pt %d)", c.Name, c.ClockRate, c.PayloadType)
}

// SameFormat reports whether c and o are the same payload format (name
// and clock rate), whatever payload types they use.
func (c Codec) SameFormat(o Codec) bool {
	return strings.EqualFold(c.Name, o.Name) && c.ClockRate == o.ClockRate
}

// IsTelephoneEvent reports whether c is the RFC 4733 event format.
func (c Codec) IsTelephoneEvent() bool { return strings.EqualFold(c.Name, telephoneEvent) }

func (c Codec) isPCMU() bool { return c.SameFormat(PCMU) }
func (c Codec) isPCMA() bool { return c.SameFormat(PCMA) }

// clockTable maps the payload types of one leg to clock rates, for the
// jitter of received RTP (RFC 3550 §A.8) and the RTP timestamp of our
// sender reports (§6.4.1). Rate 0: unknown, or not a sampled medium
// (telephone-event timestamps mark the start of an event, RFC 4733 §2.5.1.2,
// so they are left out of the jitter).
type clockTable [128]uint32

// staticClocks holds the static audio payload types of RFC 3551 table 4.
var staticClocks = clockTable{
	0: 8000, 3: 8000, 4: 8000, 5: 8000, 6: 16000, 7: 8000, 8: 8000,
	9:  8000, // G.722's RTP clock is 8000 Hz for historical reasons (RFC 3551 §4.5.2)
	10: 44100, 11: 44100, 12: 8000, 13: 8000, 15: 8000, 16: 11025, 17: 22050, 18: 8000,
}

// withCodecs returns the static table plus the negotiated codecs. The
// result is often t itself (PCMU, PCMA and telephone-event change
// nothing), and is shared through the engine (internSet).
func (t *clockTable) withCodecs(codecs []Codec) *clockTable {
	n := *t
	for _, c := range codecs {
		if c.PayloadType > 127 {
			continue
		}
		if c.IsTelephoneEvent() {
			n[c.PayloadType] = 0
		} else {
			n[c.PayloadType] = c.ClockRate
		}
	}
	if n == *t {
		return t
	}
	return &n
}
