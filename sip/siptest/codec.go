package siptest

import (
	"strings"

	"github.com/zaf/g711"
)

// Codec is a G.711 speech codec the phone can send and receive.
type Codec struct {
	Name        string // rtpmap encoding name: "PCMU" or "PCMA"
	PayloadType uint8  // static payload type (RFC 3551 §6)
}

// The codecs of RFC 3551 §4.5.14 the phone speaks.
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0}
	PCMA = Codec{Name: "PCMA", PayloadType: 8}
)

// telephoneEventPT is the payload type the phone offers for RFC 4733 events.
const telephoneEventPT = 101

// String returns the rtpmap value, "PCMU/8000".
func (c Codec) String() string { return c.Name + "/8000" }

// codecByPT returns the G.711 codec of a static payload type.
func codecByPT(pt uint8) (Codec, bool) {
	switch pt {
	case PCMU.PayloadType:
		return PCMU, true
	case PCMA.PayloadType:
		return PCMA, true
	}
	return Codec{}, false
}

// codecByName returns the G.711 codec of an rtpmap encoding name.
func codecByName(name string) (Codec, bool) {
	switch {
	case strings.EqualFold(name, PCMU.Name):
		return PCMU, true
	case strings.EqualFold(name, PCMA.Name):
		return PCMA, true
	}
	return Codec{}, false
}

// encode appends the G.711 encoding of samples to dst.
func (c Codec) encode(dst []byte, samples []int16) []byte {
	for _, s := range samples {
		if c.PayloadType == PCMA.PayloadType {
			dst = append(dst, g711.EncodeAlawFrame(s))
		} else {
			dst = append(dst, g711.EncodeUlawFrame(s))
		}
	}
	return dst
}

// decode appends the linear samples of a G.711 payload to dst.
func (c Codec) decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		if c.PayloadType == PCMA.PayloadType {
			dst = append(dst, g711.DecodeAlawFrame(b))
		} else {
			dst = append(dst, g711.DecodeUlawFrame(b))
		}
	}
	return dst
}
