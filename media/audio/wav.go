package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/zaf/g711"
)

// WAV files: the RIFF container (Microsoft/IBM "Multimedia Programming
// Interface and Data Specifications 1.0", 1991) holding a "WAVE" form
// with a "fmt " chunk (WAVEFORMATEX, or WAVEFORMATEXTENSIBLE from
// Microsoft's "Multiple channel audio data and WAVE files", 2001) and a
// "data" chunk. RF64 (EBU Tech 3306) files are read too when their data
// chunk size is the 0xFFFFFFFF placeholder.

// The sample rates ReadWAV accepts. The lower bound also bounds the
// output of a file: at most SampleRate/MinWAVRate samples per input
// sample.
const (
	MinWAVRate = 1000   // Hz
	MaxWAVRate = 384000 // Hz
)

// maxFmtChunk bounds the fmt chunk ReadWAV reads into memory; a real one
// is 16, 18 or 40 bytes.
const maxFmtChunk = 1024

// wavFormat is a fmt chunk, validated.
type wavFormat struct {
	tag      uint16 // WAVE_FORMAT_PCM, …; for EXTENSIBLE, the subformat's
	channels int
	rate     int
	bytes    int // bytes per sample of one channel (the container)
	block    int // bytes per sample frame: channels × bytes
}

// WAVE format tags (RFC 2361 appendix A, mmreg.h).
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveALaw       = 0x0006
	waveMuLaw      = 0x0007
	waveExtensible = 0xFFFE
)

// waveFormatNames names some format tags that turn up, for errors.
var waveFormatNames = map[uint16]string{
	0x0002: "Microsoft ADPCM",
	0x0011: "IMA ADPCM",
	0x0022: "DSP Group TrueSpeech",
	0x0031: "GSM 6.10",
	0x0040: "G.721 ADPCM",
	0x0042: "G.723.1",
	0x0045: "G.726 ADPCM",
	0x0050: "MPEG",
	0x0055: "MPEG Layer 3",
	0x0064: "G.726 ADPCM",
	0x0065: "G.722 ADPCM",
	0x0160: "WMA",
	0x0161: "WMA",
	0x1610: "AAC",
	0xF1AC: "FLAC",
}

// formatName is "PCM", "float", …, for errors and summaries.
func formatName(tag uint16) string {
	switch tag {
	case wavePCM:
		return "PCM"
	case waveFloat:
		return "IEEE float"
	case waveALaw:
		return "A-law"
	case waveMuLaw:
		return "μ-law"
	}
	if n, ok := waveFormatNames[tag]; ok {
		return n
	}
	return "unknown"
}

// extensibleGUIDTail is bytes 2–15 of the KSDATAFORMAT_SUBTYPE_* GUIDs
// whose first two bytes are a format tag
// (xxxxxxxx-0000-0010-8000-00aa00389b71).
var extensibleGUIDTail = [14]byte{0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71}

// LoadWAV reads the WAV file at path (see ReadWAV).
func LoadWAV(path string) (*Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ReadWAV reads a WAV file and returns its audio resampled to SampleRate
// and mixed down to mono. It decodes PCM (format 1) of 8-bit unsigned or
// 16-, 24- or 32-bit signed samples, IEEE float (format 3) of 32 or 64
// bits, G.711 A-law (6) and μ-law (7), and WAVE_FORMAT_EXTENSIBLE with
// any of these as subformat, mono or stereo (averaged), at MinWAVRate to
// MaxWAVRate. Chunks other than fmt and data are skipped. A data chunk
// size of 0, 0xFFFFFFFF or another placeholder of 0x7FFFF000 or more (a
// file written to a pipe, or whose writer died before patching the
// header) means the rest of the input, whose incomplete last sample
// frame is dropped.
//
// ReadWAV reads r as a stream: memory use follows what r actually holds,
// never the sizes the header claims. Errors wrap ErrBadWAV, or are r's
// own read errors.
func ReadWAV(r io.Reader) (*Clip, error) {
	br := bufio.NewReader(r)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, wavReadErr(err, "RIFF header")
	}
	switch string(hdr[0:4]) {
	case "RIFF", "RF64":
	default:
		return nil, fmt.Errorf("%w: not a RIFF file (starts %q)", ErrBadWAV, hdr[0:4])
	}
	if string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: RIFF form %q, not WAVE", ErrBadWAV, hdr[8:12])
	}
	var format *wavFormat
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			if format == nil {
				return nil, wavReadErr(err, "fmt chunk")
			}
			return nil, wavReadErr(err, "data chunk")
		}
		id := string(ch[0:4])
		size := binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if format != nil {
				return nil, fmt.Errorf("%w: second fmt chunk", ErrBadWAV)
			}
			if size > maxFmtChunk {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrBadWAV, size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, wavReadErr(err, "fmt chunk")
			}
			f, err := parseFmt(b[:size])
			if err != nil {
				return nil, err
			}
			format = f
		case "data":
			if format == nil {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrBadWAV)
			}
			return readData(br, format, size)
		default:
			// LIST, fact, cue, ds64, …: skip, with the pad byte of an odd
			// size (RIFF chunks are word-aligned).
			n := int64(size) + int64(size&1)
			if m, err := io.CopyN(io.Discard, br, n); err != nil {
				if errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("%w: %q chunk declares %d bytes but the file ends after %d", ErrBadWAV, id, size, m)
				}
				return nil, err
			}
		}
	}
}

// wavReadErr turns an early end of input while reading what into an
// ErrBadWAV, and passes other read errors through.
func wavReadErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: file ends before the %s", ErrBadWAV, what)
	}
	return err
}

// parseFmt validates a fmt chunk.
func parseFmt(b []byte) (*wavFormat, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%w: fmt chunk of %d bytes, want at least 16", ErrBadWAV, len(b))
	}
	le := binary.LittleEndian
	f := &wavFormat{
		tag:      le.Uint16(b[0:2]),
		channels: int(le.Uint16(b[2:4])),
		rate:     int(le.Uint32(b[4:8])),
	}
	blockAlign := int(le.Uint16(b[12:14]))
	bits := int(le.Uint16(b[14:16]))
	if f.tag == waveExtensible {
		if len(b) < 40 || le.Uint16(b[16:18]) < 22 {
			return nil, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, want 40", ErrBadWAV, len(b))
		}
		valid := int(le.Uint16(b[18:20]))
		if valid > bits {
			return nil, fmt.Errorf("%w: %d valid bits in a %d-bit container", ErrBadWAV, valid, bits)
		}
		guid := b[24:40]
		if [14]byte(guid[2:16]) != extensibleGUIDTail {
			return nil, fmt.Errorf("%w: unsupported WAVE_FORMAT_EXTENSIBLE subformat %x", ErrBadWAV, guid)
		}
		f.tag = le.Uint16(guid[0:2])
	}
	switch f.tag {
	case wavePCM:
		if bits != 8 && bits != 16 && bits != 24 && bits != 32 {
			return nil, fmt.Errorf("%w: unsupported PCM sample size %d bits", ErrBadWAV, bits)
		}
	case waveFloat:
		if bits != 32 && bits != 64 {
			return nil, fmt.Errorf("%w: unsupported float sample size %d bits", ErrBadWAV, bits)
		}
	case waveALaw, waveMuLaw:
		if bits != 8 {
			return nil, fmt.Errorf("%w: %s with %d-bit samples, want 8", ErrBadWAV, formatName(f.tag), bits)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported format %d (%s)", ErrBadWAV, f.tag, formatName(f.tag))
	}
	if f.channels != 1 && f.channels != 2 {
		return nil, fmt.Errorf("%w: unsupported channel count %d (mono or stereo only)", ErrBadWAV, f.channels)
	}
	if f.rate < MinWAVRate || f.rate > MaxWAVRate {
		return nil, fmt.Errorf("%w: sample rate %d Hz out of range (%d–%d)", ErrBadWAV, f.rate, MinWAVRate, MaxWAVRate)
	}
	f.bytes = bits / 8
	f.block = f.channels * f.bytes
	if blockAlign != 0 && blockAlign != f.block {
		return nil, fmt.Errorf("%w: block align %d, want %d for %d channels of %d bits", ErrBadWAV, blockAlign, f.block, f.channels, bits)
	}
	return f, nil
}

// Data chunk sizes written by writers that could not seek back to patch
// the header: 0 (the header was written first and never patched),
// 0xFFFFFFFF (streaming writers, RF64) and the 0x7FFFF000 of espeak-ng
// --stdout and other tools writing to a pipe. Sizes from wavSizePipe up
// are taken as an upper bound rather than a promise.
const (
	wavSizeUnknown = 0
	wavSizePipe    = 0x7FFFF000
)

// readData decodes the data chunk of size bytes at the start of r.
func readData(r io.Reader, f *wavFormat, size uint32) (*Clip, error) {
	streamed := size == wavSizeUnknown || size >= wavSizePipe
	limit := int64(size)
	if size == wavSizeUnknown {
		limit = math.MaxInt64
	}
	if !streamed && int64(size)%int64(f.block) != 0 {
		if f.block == 2 && f.bytes == 2 {
			return nil, fmt.Errorf("%w: 16-bit samples but odd data length %d", ErrBadWAV, size)
		}
		return nil, fmt.Errorf("%w: data length %d is not a whole number of %d-byte sample frames", ErrBadWAV, size, f.block)
	}
	const blockFrames = 4096
	buf := make([]byte, blockFrames*f.block)
	mono := make([]int16, 0, blockFrames)
	rs := NewResampler(f.rate, SampleRate)
	c := &Clip{SourceRate: f.rate, SourceChannels: f.channels}
	var read int64
	for read < limit {
		want := int(min(int64(len(buf)), limit-read))
		n, err := io.ReadFull(r, buf[:want])
		read += int64(n)
		n -= n % f.block // only at the end of a streamed file
		mono = decodeFrames(mono[:0], buf[:n], f)
		c.Samples = rs.Process(mono, c.Samples)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if !streamed {
				return nil, fmt.Errorf("%w: data chunk declares %d bytes but the file ends after %d", ErrBadWAV, size, read)
			}
			break
		}
		if err != nil {
			return nil, err
		}
	}
	c.Samples = rs.Flush(c.Samples)
	if cap(c.Samples)-len(c.Samples) > len(c.Samples)/8+FrameSamples {
		// Prompts stay loaded for long: drop append's slack.
		c.Samples = slices.Clone(c.Samples)
	}
	return c, nil
}

// decodeFrames appends the mono samples of the whole sample frames in b
// to out.
func decodeFrames(out []int16, b []byte, f *wavFormat) []int16 {
	for len(b) >= f.block {
		s := decodeSample(b, f)
		if f.channels == 2 {
			s = (s + decodeSample(b[f.bytes:], f)) / 2
		}
		out = append(out, int16(s))
		b = b[f.block:]
	}
	return out
}

// decodeSample returns the sample at the start of b as a 16-bit value
// (in an int32, so that two can be summed).
func decodeSample(b []byte, f *wavFormat) int32 {
	le := binary.LittleEndian
	switch f.tag {
	case waveMuLaw:
		return int32(g711.DecodeUlawFrame(b[0]))
	case waveALaw:
		return int32(g711.DecodeAlawFrame(b[0]))
	case waveFloat:
		var v float64
		if f.bytes == 4 {
			v = float64(math.Float32frombits(le.Uint32(b)))
		} else {
			v = math.Float64frombits(le.Uint64(b))
		}
		if math.IsNaN(v) {
			return 0
		}
		return int32(clamp16(v * 32767))
	}
	switch f.bytes {
	case 1:
		return (int32(b[0]) - 128) << 8
	case 2:
		return int32(int16(le.Uint16(b)))
	case 3:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return roundShift(int64(v), 8)
	default:
		return roundShift(int64(int32(le.Uint32(b))), 16)
	}
}

// roundShift returns v / 2^n rounded to the nearest 16-bit value.
func roundShift(v int64, n uint) int32 {
	return int32(min((v+1<<(n-1))>>n, math.MaxInt16))
}
