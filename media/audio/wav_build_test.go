package audio

import (
	"encoding/binary"
	"math"

	"github.com/zaf/g711"
)

// Builders of WAV files for the golden tests and the fuzz corpus.

// le is shorthand for little-endian encoding.
var le = binary.LittleEndian

// chunk returns a RIFF chunk: id, size, body and the pad byte of an odd
// size.
func chunk(id string, body []byte) []byte {
	return chunkSized(id, uint32(len(body)), body)
}

// chunkSized is chunk with the size field set to size whatever the body.
func chunkSized(id string, size uint32, body []byte) []byte {
	b := append([]byte(id), le.AppendUint32(nil, size)...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// riff returns a RIFF file of form WAVE holding chunks.
func riff(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), le.AppendUint32(nil, uint32(4+len(body)))...), append([]byte("WAVE"), body...)...)
}

// fmtBody returns a 16-byte WAVEFORMAT body.
func fmtBody(tag uint16, channels, rate, bits int) []byte {
	b := le.AppendUint16(nil, tag)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	return le.AppendUint16(b, uint16(bits))
}

// fmtExtensible returns a WAVEFORMATEXTENSIBLE body with subformat sub.
func fmtExtensible(sub uint16, channels, rate, bits, valid int) []byte {
	b := fmtBody(waveExtensible, channels, rate, bits)
	b = le.AppendUint16(b, 22)
	b = le.AppendUint16(b, uint16(valid))
	b = le.AppendUint32(b, 0) // channel mask: unspecified
	b = le.AppendUint16(b, sub)
	return append(b, extensibleGUIDTail[:]...)
}

// tone returns n frames of channels interleaved sines (440 Hz, then
// 880 Hz on the second channel) at rate, peak amp (1 = full scale).
func tone(rate, channels, n int, amp float64) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, channels)
		for c := range channels {
			out[i][c] = amp * math.Sin(2*math.Pi*440*float64(c+1)*float64(i)/float64(rate))
		}
	}
	return out
}

// encode returns frames as samples of the given format.
func encode(frames [][]float64, tag uint16, bits int) []byte {
	var b []byte
	for _, f := range frames {
		for _, v := range f {
			switch {
			case tag == waveFloat && bits == 32:
				b = le.AppendUint32(b, math.Float32bits(float32(v)))
			case tag == waveFloat:
				b = le.AppendUint64(b, math.Float64bits(v))
			case tag == waveMuLaw:
				b = append(b, g711.EncodeUlawFrame(int16(v*32767)))
			case tag == waveALaw:
				b = append(b, g711.EncodeAlawFrame(int16(v*32767)))
			case bits == 8:
				b = append(b, byte(int(math.Round(v*127))+128))
			case bits == 16:
				b = le.AppendUint16(b, uint16(int16(math.Round(v*32767))))
			case bits == 24:
				x := uint32(int32(math.Round(v * 8388607)))
				b = append(b, byte(x), byte(x>>8), byte(x>>16))
			case bits == 32:
				b = le.AppendUint32(b, uint32(int32(math.Round(v*2147483647))))
			}
		}
	}
	return b
}

// simple returns a canonical WAV file of format tag with a 440 Hz tone.
func simple(tag uint16, channels, rate, bits int, d float64) []byte {
	data := encode(tone(rate, channels, int(d*float64(rate)), 0.5), tag, bits)
	return riff(chunk("fmt ", fmtBody(tag, channels, rate, bits)), chunk("data", data))
}
