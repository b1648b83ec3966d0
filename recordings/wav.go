package recordings

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/switchd/switchd/media/audio"
)

// The WAV layout the Writer produces: the canonical 44-byte header (RIFF
// header, a 16-byte PCM fmt chunk, the data chunk header; Microsoft/IBM
// "Multimedia Programming Interface and Data Specifications 1.0", 1991),
// then 16-bit little-endian samples, interleaved left/right in stereo.
const (
	headerSize     = 44
	riffSizeOffset = 4
	dataSizeOffset = 40
	bytesPerSample = 2
	// maxData is the largest data chunk whose RIFF size fits 32 bits.
	maxData = math.MaxUint32 - (headerSize - 8)
)

// wavHeader returns the header of a 16-bit PCM file of channels at
// audio.SampleRate holding data bytes of samples.
func wavHeader(channels int, data int64) [headerSize]byte {
	var h [headerSize]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[riffSizeOffset:], riffSize(data))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1) // WAVE_FORMAT_PCM
	le.PutUint16(h[22:], uint16(channels))
	le.PutUint32(h[24:], audio.SampleRate)
	le.PutUint32(h[28:], uint32(audio.SampleRate*channels*bytesPerSample)) // byte rate
	le.PutUint16(h[32:], uint16(channels*bytesPerSample))                  // block align
	le.PutUint16(h[34:], 8*bytesPerSample)                                 // bits per sample
	copy(h[36:], "data")
	le.PutUint32(h[dataSizeOffset:], uint32(data))
	return h
}

// riffSize is the RIFF chunk size of a canonical file with data bytes of
// samples.
func riffSize(data int64) uint32 { return uint32(data + headerSize - 8) }

// wavInfo is what probe learns of a WAV file's header.
type wavInfo struct {
	riffSize  uint32 // as declared
	dataSize  uint32 // as declared
	dataStart int64  // offset of the first sample
	block     int64  // bytes per sample frame
	byteRate  int64  // bytes per second
	// tail is set when a well-formed chunk follows the declared data and
	// ends exactly at the end of the file (a LIST written after the
	// samples): the file is complete, not cut off.
	tail bool
}

// probe reads the header of the WAV file r of size bytes: the fmt chunk
// and where the data chunk starts. Errors wrap ErrBadFile or are r's own.
func probe(r io.ReaderAt, size int64) (wavInfo, error) {
	var w wavInfo
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return w, fmt.Errorf("%w: file ends inside the RIFF header", ErrBadFile)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return w, fmt.Errorf("%w: not a RIFF/WAVE file (starts %q)", ErrBadFile, hdr[0:4])
	}
	le := binary.LittleEndian
	w.riffSize = le.Uint32(hdr[4:8])
	off := int64(12)
	var haveFmt bool
	for {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return w, fmt.Errorf("%w: file ends before the data chunk", ErrBadFile)
		}
		id, n := string(ch[0:4]), int64(le.Uint32(ch[4:8]))
		off += 8
		switch id {
		case "fmt ":
			if n < 16 {
				return w, fmt.Errorf("%w: fmt chunk of %d bytes", ErrBadFile, n)
			}
			var f [16]byte
			if _, err := r.ReadAt(f[:], off); err != nil {
				return w, fmt.Errorf("%w: file ends inside the fmt chunk", ErrBadFile)
			}
			w.block = int64(le.Uint16(f[12:14]))
			w.byteRate = int64(le.Uint32(f[8:12]))
			if w.block == 0 || w.byteRate == 0 {
				return w, fmt.Errorf("%w: fmt chunk with block align %d, byte rate %d", ErrBadFile, w.block, w.byteRate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return w, fmt.Errorf("%w: data chunk before the fmt chunk", ErrBadFile)
			}
			w.dataSize, w.dataStart = uint32(n), off
			w.tail = hasTail(r, size, off+n+n&1)
			return w, nil
		}
		off += n + n&1
		if off > size {
			return w, fmt.Errorf("%w: %q chunk runs past the end of the file", ErrBadFile, id)
		}
	}
}

// hasTail reports whether well-formed chunks start at off and end exactly
// at size.
func hasTail(r io.ReaderAt, size, off int64) bool {
	if off >= size {
		return false
	}
	for off < size {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return false
		}
		for _, c := range ch[0:4] {
			if c < 0x20 || c > 0x7e {
				return false
			}
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:8]))
		end := off + 8 + n
		if end == size {
			return true // the last pad byte may be missing
		}
		off = end + n&1
	}
	return off == size
}
