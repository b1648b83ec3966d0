package audio

import "github.com/zaf/g711"

// G.711 (ITU-T G.711, 11/88) carries one 8-bit sample per 125 µs, so one
// Frame is FrameSamples payload bytes (RFC 3551 §4.5.14).
var (
	// PCMU is G.711 μ-law, RTP static payload type 0 (RFC 3551 table 4).
	PCMU Codec = ulaw{}
	// PCMA is G.711 A-law, RTP static payload type 8 (RFC 3551 table 4).
	PCMA Codec = alaw{}
)

// Silence in each law: the code of linear 0.
const (
	ulawSilence = 0xFF
	alawSilence = 0xD5
)

// ulaw is PCMU.
type ulaw struct{}

var _ Codec = ulaw{}

// Name returns "PCMU".
func (ulaw) Name() string { return "PCMU" }

// ClockRate returns 8000.
func (ulaw) ClockRate() int { return SampleRate }

// PayloadBytes returns FrameSamples.
func (ulaw) PayloadBytes() int { return FrameSamples }

// Decode expands μ-law payload into out.
func (ulaw) Decode(payload []byte, out *Frame) int {
	n := min(len(payload), FrameSamples)
	for i, b := range payload[:n] {
		out[i] = g711.DecodeUlawFrame(b)
	}
	clear(out[n:])
	return n
}

// Encode compresses in to μ-law.
func (ulaw) Encode(in *Frame, out []byte) []byte {
	out = payloadBuf(out)
	for i, s := range in {
		out[i] = g711.EncodeUlawFrame(s)
	}
	return out
}

// alaw is PCMA.
type alaw struct{}

var _ Codec = alaw{}

// Name returns "PCMA".
func (alaw) Name() string { return "PCMA" }

// ClockRate returns 8000.
func (alaw) ClockRate() int { return SampleRate }

// PayloadBytes returns FrameSamples.
func (alaw) PayloadBytes() int { return FrameSamples }

// Decode expands A-law payload into out.
func (alaw) Decode(payload []byte, out *Frame) int {
	n := min(len(payload), FrameSamples)
	for i, b := range payload[:n] {
		out[i] = g711.DecodeAlawFrame(b)
	}
	clear(out[n:])
	return n
}

// Encode compresses in to A-law.
func (alaw) Encode(in *Frame, out []byte) []byte {
	out = payloadBuf(out)
	for i, s := range in {
		out[i] = g711.EncodeAlawFrame(s)
	}
	return out
}

// payloadBuf returns out resized to one G.711 frame, reusing its array
// when it is large enough.
func payloadBuf(out []byte) []byte {
	if cap(out) < FrameSamples {
		return make([]byte, FrameSamples)
	}
	return out[:FrameSamples]
}
