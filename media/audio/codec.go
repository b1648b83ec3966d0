package audio

import "strings"

// Codec converts between RTP payloads and Frames. Implementations are
// stateless and safe for concurrent use.
type Codec interface {
	// Name is the encoding name as in SDP a=rtpmap (RFC 4566 §6), e.g.
	// "PCMU", "PCMA".
	Name() string
	// ClockRate is the RTP timestamp rate in Hz (RFC 3551 §4.5). It is
	// 8000 for G.711; wideband codecs may differ from SampleRate (G.722
	// runs at 16 kHz but keeps an 8000 Hz RTP clock, RFC 3551 §4.5.2).
	ClockRate() int
	// PayloadBytes is the size of the payload carrying one 20 ms Frame.
	PayloadBytes() int
	// Decode decodes payload into out and returns the number of samples
	// decoded from payload. A short payload leaves the rest of out
	// silent; bytes beyond one frame are ignored. It never allocates.
	Decode(payload []byte, out *Frame) int
	// Encode encodes in into out[:0] and returns the payload. It
	// allocates only when cap(out) < PayloadBytes().
	Encode(in *Frame, out []byte) []byte
}

// CodecByName returns the Codec with the SDP encoding name name, compared
// case-insensitively (RFC 4855 §3): "PCMU" or "PCMA".
func CodecByName(name string) (Codec, bool) {
	for _, c := range codecs {
		if strings.EqualFold(c.Name(), name) {
			return c, true
		}
	}
	return nil, false
}

// codecs lists the codecs CodecByName knows.
var codecs = [...]Codec{PCMU, PCMA}
