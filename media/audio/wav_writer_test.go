package audio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := int(m.off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	n := copy(m.b[m.off:], p)
	m.off += int64(n)
	return n, nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = off
	case io.SeekCurrent:
		m.off += off
	case io.SeekEnd:
		m.off = int64(len(m.b)) + off
	}
	return m.off, nil
}

func TestWAVWriterHeader(t *testing.T) {
	var m memFile
	w, err := NewWAVWriter(&m, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, -1, 2, -2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{3, -3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []byte("RIFF\x30\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x80\x3e\x00\x00\x00\xfa\x00\x00\x04\x00\x10\x00data\x0c\x00\x00\x00" +
		"\x01\x00\xff\xff\x02\x00\xfe\xff\x03\x00\xfd\xff")
	if !bytes.Equal(m.b, want) {
		t.Fatalf("file\n%q\nwant\n%q", m.b, want)
	}
	if m.off != int64(len(m.b)) {
		t.Errorf("Close left the offset at %d, want the end", m.off)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write([]int16{1, 2}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestWAVWriterRoundTrip(t *testing.T) {
	left := sine(1000, 16000, 16000, 8000)
	inter := make([]int16, 0, 2*len(left))
	for _, v := range left {
		inter = append(inter, v, v)
	}
	var m memFile
	w, _ := NewWAVWriter(&m, 16000, 2)
	for chunk := range slices.Chunk(inter, 10000) { // several Writes, one larger than the internal buffer
		if err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	// Before Close the sizes are 0: a crashed recording is still readable.
	c, err := ReadWAV(bytes.NewReader(m.b))
	if err != nil || len(c.Samples) != 8000 {
		t.Fatalf("unclosed file: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = ReadWAV(bytes.NewReader(m.b))
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceRate != 16000 || c.SourceChannels != 2 || len(c.Samples) != 8000 {
		t.Fatalf("read back %d Hz %d ch %d samples", c.SourceRate, c.SourceChannels, len(c.Samples))
	}
	if f := zeroCrossFreq(middle(c.Samples), SampleRate); f < 999 || f > 1001 {
		t.Fatalf("1 kHz read back as %.2f Hz", f)
	}
}

func TestWAVWriterArguments(t *testing.T) {
	var m memFile
	for _, tc := range []struct{ rate, ch int }{{0, 1}, {-8000, 1}, {8000, 0}, {8000, 17}, {1 << 30, 1}} {
		if _, err := NewWAVWriter(&m, tc.rate, tc.ch); !errors.Is(err, ErrBadArgument) {
			t.Errorf("NewWAVWriter(%d, %d): %v", tc.rate, tc.ch, err)
		}
	}
	w, _ := NewWAVWriter(&m, 8000, 2)
	if err := w.Write([]int16{1, 2, 3}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("odd samples for stereo: %v", err)
	}
	w.data = maxWAVData - 2
	if err := w.Write([]int16{1, 2}); !errors.Is(err, ErrWAVTooLarge) {
		t.Errorf("past 4 GiB: %v", err)
	}
}

// failFile fails writes after n bytes.
type failFile struct {
	memFile
	n int
}

var errDiskFull = errors.New("disk full")

func (f *failFile) Write(p []byte) (int, error) {
	if len(f.b)+len(p) > f.n {
		return 0, errDiskFull
	}
	return f.memFile.Write(p)
}

func TestWAVWriterErrorsStick(t *testing.T) {
	if _, err := NewWAVWriter(&failFile{n: 10}, 8000, 1); !errors.Is(err, errDiskFull) {
		t.Fatalf("header: %v", err)
	}
	w, _ := NewWAVWriter(&failFile{n: 50}, 8000, 1)
	if err := w.Write(make([]int16, 100)); !errors.Is(err, errDiskFull) {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Write(make([]int16, 1)); !errors.Is(err, errDiskFull) {
		t.Fatalf("Write after failure: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestWriteWAV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.wav")
	if err := WriteWAV(path, 8000, 1, []int16{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if len(b) != wavHeaderSize+6 {
		t.Fatalf("%d bytes", len(b))
	}
	if err := WriteWAV(filepath.Join(dir, "no", "such", "dir.wav"), 8000, 1, nil); err == nil {
		t.Fatal("no error for a bad path")
	}
	if err := WriteWAV(path, 8000, 0, nil); !errors.Is(err, ErrBadArgument) {
		t.Fatalf("bad channels: %v", err)
	}
}
