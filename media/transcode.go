package media

import (
	"fmt"

	"github.com/zaf/g711"
)

// transcoding is a payload conversion the relay does in place, byte by
// byte: G.711 μ-law and A-law are both 8-bit samples at 8000 Hz
// (RFC 3551 §4.5.14), so a packet keeps its length, timestamps and
// sequence numbers and only its payload bytes and payload type change.
// The conversion is the direct table lookup of G.711 (ITU-T G.711 tables
// 3/4 via zaf/g711), no detour through linear PCM.
type transcoding uint8

const (
	noTranscoding transcoding = iota
	ulawToAlaw
	alawToUlaw
)

// String names the conversion.
func (t transcoding) String() string {
	switch t {
	case noTranscoding:
		return "none"
	case ulawToAlaw:
		return "PCMU→PCMA"
	case alawToUlaw:
		return "PCMA→PCMU"
	}
	return "unknown"
}

// apply converts payload in place.
func (t transcoding) apply(payload []byte) {
	switch t {
	case ulawToAlaw:
		for i, b := range payload {
			payload[i] = g711.Ulaw2AlawFrame(b)
		}
	case alawToUlaw:
		for i, b := range payload {
			payload[i] = g711.Alaw2UlawFrame(b)
		}
	}
}

// transcodingFor returns the conversion from one format to another:
// none for the same format, PCMU↔PCMA, else ErrCodec.
func transcodingFor(from, to Codec) (transcoding, error) {
	switch {
	case from.SameFormat(to):
		return noTranscoding, nil
	case from.isPCMU() && to.isPCMA():
		return ulawToAlaw, nil
	case from.isPCMA() && to.isPCMU():
		return alawToUlaw, nil
	}
	return noTranscoding, fmt.Errorf("%w: %s to %s", ErrCodec, from, to)
}
