package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// wavHeaderSize is the size of the canonical header WAVWriter writes:
// RIFF header (12), fmt chunk of WAVEFORMATEX without extension (8+16),
// data chunk header (8).
const wavHeaderSize = 44

// maxWAVData is the largest data chunk whose RIFF size still fits 32 bits.
const maxWAVData = math.MaxUint32 - (wavHeaderSize - 8)

// WAVWriter writes 16-bit PCM WAV files (format 1). The header is written
// first with zero sizes, which ReadWAV (and many other readers) take as "to the
// end of the file", so a recording cut short by a crash stays readable;
// Close patches the real sizes. A WAVWriter is not safe for concurrent
// use.
type WAVWriter struct {
	w        io.WriteSeeker
	channels int
	data     int64 // bytes of samples written
	buf      []byte
	err      error // sticky; ErrClosed after Close
}

// NewWAVWriter writes a WAV header for rate Hz and channels (1 to 16)
// interleaved channels to w, and returns a writer for the samples.
func NewWAVWriter(w io.WriteSeeker, rate, channels int) (*WAVWriter, error) {
	if rate <= 0 || rate > math.MaxInt32/32 {
		return nil, fmt.Errorf("%w: WAV sample rate %d", ErrBadArgument, rate)
	}
	if channels < 1 || channels > 16 {
		return nil, fmt.Errorf("%w: WAV channel count %d", ErrBadArgument, channels)
	}
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], wavePCM)
	le.PutUint16(h[22:], uint16(channels))
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*channels*2)) // byte rate
	le.PutUint16(h[32:], uint16(channels*2))      // block align
	le.PutUint16(h[34:], 16)                      // bits per sample
	copy(h[36:], "data")
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &WAVWriter{w: w, channels: channels}, nil
}

// Write appends samples, interleaved by channel (left, right, left, …);
// len(samples) must be a multiple of the channel count.
func (ww *WAVWriter) Write(samples []int16) error {
	if ww.err != nil {
		return ww.err
	}
	if len(samples)%ww.channels != 0 {
		return fmt.Errorf("%w: %d samples for %d channels", ErrBadArgument, len(samples), ww.channels)
	}
	n := int64(len(samples)) * 2
	if ww.data+n > maxWAVData {
		return ErrWAVTooLarge
	}
	const chunk = 4096
	for len(samples) > 0 {
		m := min(len(samples), chunk)
		if cap(ww.buf) < 2*m {
			ww.buf = make([]byte, 2*chunk)
		}
		b := ww.buf[:2*m]
		for i, s := range samples[:m] {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
		}
		if _, err := ww.w.Write(b); err != nil {
			ww.err = err
			return err
		}
		ww.data += int64(len(b))
		samples = samples[m:]
	}
	return nil
}

// Close patches the RIFF and data chunk sizes into the header and leaves
// w positioned at the end of the file. It does not close w. Closing
// twice returns ErrClosed.
func (ww *WAVWriter) Close() error {
	if ww.err != nil {
		if ww.err == ErrClosed {
			return ErrClosed
		}
		err := ww.err
		ww.err = ErrClosed
		return err
	}
	ww.err = ErrClosed
	var b [4]byte
	patch := func(off int64, v uint32) error {
		if _, err := ww.w.Seek(off, io.SeekStart); err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b[:], v)
		_, err := ww.w.Write(b[:])
		return err
	}
	if err := patch(4, uint32(ww.data+wavHeaderSize-8)); err != nil {
		return err
	}
	if err := patch(40, uint32(ww.data)); err != nil {
		return err
	}
	_, err := ww.w.Seek(0, io.SeekEnd)
	return err
}

// WriteWAV writes samples (interleaved by channel) as a 16-bit PCM WAV
// file at path, replacing any file there.
func WriteWAV(path string, rate, channels int, samples []int16) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	ww, err := NewWAVWriter(f, rate, channels)
	if err != nil {
		return err
	}
	if err := ww.Write(samples); err != nil {
		return err
	}
	return ww.Close()
}
