package audio

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/wav from the generators and the golden summaries from ReadWAV")

// wavCases generates the golden inputs in testdata/wav. Each NAME.wav
// has its expected summary in NAME.golden.
var wavCases = map[string]func() []byte{
	// Supported formats.
	"pcm16_mono_8000":     func() []byte { return simple(wavePCM, 1, 8000, 16, 0.1) },
	"pcm16_stereo_16000":  func() []byte { return simple(wavePCM, 2, 16000, 16, 0.05) },
	"pcm8_mono_11025":     func() []byte { return simple(wavePCM, 1, 11025, 8, 0.05) },
	"pcm16_stereo_44100":  func() []byte { return simple(wavePCM, 2, 44100, 16, 0.05) },
	"pcm24_mono_48000":    func() []byte { return simple(wavePCM, 1, 48000, 24, 0.05) },
	"pcm32_stereo_22050":  func() []byte { return simple(wavePCM, 2, 22050, 32, 0.05) },
	"float32_mono_48000":  func() []byte { return simple(waveFloat, 1, 48000, 32, 0.05) },
	"float64_mono_16000":  func() []byte { return simple(waveFloat, 1, 16000, 64, 0.05) },
	"ulaw_mono_8000":      func() []byte { return simple(waveMuLaw, 1, 8000, 8, 0.1) },
	"alaw_stereo_8000":    func() []byte { return simple(waveALaw, 2, 8000, 8, 0.05) },
	"pcm8_mono_1000":      func() []byte { return simple(wavePCM, 1, 1000, 8, 0.1) },
	"pcm16_mono_384000":   func() []byte { return simple(wavePCM, 1, 384000, 16, 0.01) },
	"pcm16_mono_8000_odd": func() []byte { return simple(wavePCM, 1, 8000, 16, 0.0125) }, // 100 samples: a partial frame
	"extensible_pcm16_stereo_48000": func() []byte {
		d := encode(tone(48000, 2, 2400, 0.5), wavePCM, 16)
		return riff(chunk("fmt ", fmtExtensible(wavePCM, 2, 48000, 16, 16)), chunk("data", d))
	},
	"extensible_pcm24in32_mono_96000": func() []byte {
		d := encode(tone(96000, 1, 960, 0.5), wavePCM, 32)
		return riff(chunk("fmt ", fmtExtensible(wavePCM, 1, 96000, 32, 24)), chunk("data", d))
	},
	"extensible_float32_mono_44100": func() []byte {
		d := encode(tone(44100, 1, 2205, 0.5), waveFloat, 32)
		return riff(chunk("fmt ", fmtExtensible(waveFloat, 1, 44100, 32, 32)), chunk("data", d))
	},
	"fmt18_cbsize0": func() []byte { // WAVEFORMATEX with an empty extension
		d := encode(tone(8000, 1, 400, 0.5), wavePCM, 16)
		return riff(chunk("fmt ", append(fmtBody(wavePCM, 1, 8000, 16), 0, 0)), chunk("data", d))
	},
	"float32_clipped": func() []byte { // float beyond ±1.0 saturates
		d := encode(tone(8000, 1, 400, 1.5), waveFloat, 32)
		return riff(chunk("fmt ", fmtBody(waveFloat, 1, 8000, 32)), chunk("data", d))
	},
	// Chunks around the audio.
	"list_odd_before_data": func() []byte { // odd-sized LIST: the pad byte must be skipped
		d := encode(tone(8000, 1, 400, 0.5), wavePCM, 16)
		list := chunk("LIST", []byte("INFOINAM\x05\x00\x00\x00hello"))
		fact := chunk("fact", le.AppendUint32(nil, 400))
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), list, fact, chunk("data", d))
	},
	"junk_before_fmt": func() []byte {
		d := encode(tone(8000, 1, 400, 0.5), wavePCM, 16)
		return riff(chunk("JUNK", make([]byte, 28)), chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), chunk("data", d))
	},
	"list_after_data": func() []byte { // the LIST after data is not audio
		d := encode(tone(8000, 1, 400, 0.5), wavePCM, 16)
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), chunk("data", d), chunk("LIST", []byte("INFOICMT\x04\x00\x00\x00abcd")))
	},
	"riff_size_wrong": func() []byte {
		b := simple(wavePCM, 1, 8000, 16, 0.05)
		le.PutUint32(b[4:], 12345678)
		return b
	},
	// Sizes that mean "the rest of the file".
	"data_size_zero_truncated": func() []byte { // a recorder that crashed mid-sample
		d := encode(tone(8000, 1, 333, 0.5), wavePCM, 16)
		b := riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)))
		return append(append(b, "data\x00\x00\x00\x00"...), d[:len(d)-1]...) // no pad byte
	},
	"data_size_ffffffff": func() []byte {
		d := encode(tone(16000, 2, 800, 0.5), wavePCM, 16)
		return riff(chunk("fmt ", fmtBody(wavePCM, 2, 16000, 16)), chunkSized("data", 0xFFFFFFFF, d))
	},
	"data_size_pipe_espeak": func() []byte { // espeak-ng --stdout: 0x7ffff000 for both sizes
		d := encode(tone(22050, 1, 1103, 0.5), wavePCM, 16)
		b := riff(chunk("fmt ", fmtBody(wavePCM, 1, 22050, 16)))
		le.PutUint32(b[4:], 0x7ffff000)
		return append(append(b, "data\x00\xf0\xff\x7f"...), d[:len(d)-1]...)
	},
	"rf64_streamed": func() []byte {
		d := encode(tone(8000, 1, 400, 0.5), wavePCM, 16)
		ds64 := make([]byte, 28)
		le.PutUint64(ds64[0:], uint64(len(d)+64))
		le.PutUint64(ds64[8:], uint64(len(d)))
		b := riff(chunk("ds64", ds64), chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), chunkSized("data", 0xFFFFFFFF, d))
		copy(b, "RF64")
		le.PutUint32(b[4:], 0xFFFFFFFF)
		return b
	},
	"data_empty_sized": func() []byte { // declared 0 and nothing follows: an empty clip
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), chunk("data", nil))
	},
	// Errors.
	"err_empty":        func() []byte { return nil },
	"err_header_short": func() []byte { return []byte("RIFF\x00\x00") },
	"err_not_riff": func() []byte { // big-endian RIFX
		b := simple(wavePCM, 1, 8000, 16, 0.01)
		copy(b, "RIFX")
		return b
	},
	"err_not_wave": func() []byte {
		b := simple(wavePCM, 1, 8000, 16, 0.01)
		copy(b[8:], "AVI ")
		return b
	},
	"err_mp3":   func() []byte { return riff(chunk("fmt ", fmtBody(0x55, 2, 44100, 0)), chunk("data", make([]byte, 64))) },
	"err_adpcm": func() []byte { return riff(chunk("fmt ", fmtBody(0x11, 1, 8000, 4)), chunk("data", make([]byte, 64))) },
	"err_odd_data": func() []byte {
		d := encode(tone(8000, 1, 400, 0.5), wavePCM, 16)
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), chunk("data", d[:len(d)-1]))
	},
	"err_stereo_partial_frame": func() []byte {
		d := encode(tone(8000, 2, 400, 0.5), wavePCM, 16)
		return riff(chunk("fmt ", fmtBody(wavePCM, 2, 8000, 16)), chunk("data", d[:len(d)-2]))
	},
	"err_truncated_data": func() []byte {
		d := encode(tone(8000, 1, 800, 0.5), wavePCM, 16)
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), chunkSized("data", 1600, d[:1000]))
	},
	"err_data_before_fmt": func() []byte {
		return riff(chunk("data", make([]byte, 16)), chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)))
	},
	"err_no_data": func() []byte { return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16))) },
	"err_no_fmt":  func() []byte { return riff(chunk("LIST", []byte("INFO"))) },
	"err_six_channels": func() []byte {
		return riff(chunk("fmt ", fmtBody(wavePCM, 6, 48000, 16)), chunk("data", make([]byte, 120)))
	},
	"err_zero_channels": func() []byte {
		return riff(chunk("fmt ", fmtBody(wavePCM, 0, 8000, 16)), chunk("data", make([]byte, 16)))
	},
	"err_rate_zero": func() []byte { return riff(chunk("fmt ", fmtBody(wavePCM, 1, 0, 16)), chunk("data", make([]byte, 16))) },
	"err_rate_too_high": func() []byte {
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 1000000, 16)), chunk("data", make([]byte, 16)))
	},
	"err_pcm_12bit": func() []byte {
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 12)), chunk("data", make([]byte, 16)))
	},
	"err_float_16bit": func() []byte {
		return riff(chunk("fmt ", fmtBody(waveFloat, 1, 8000, 16)), chunk("data", make([]byte, 16)))
	},
	"err_ulaw_16bit": func() []byte {
		return riff(chunk("fmt ", fmtBody(waveMuLaw, 1, 8000, 16)), chunk("data", make([]byte, 16)))
	},
	"err_fmt_short": func() []byte {
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)[:14]), chunk("data", make([]byte, 16)))
	},
	"err_fmt_huge":      func() []byte { return riff(chunkSized("fmt ", 100000, fmtBody(wavePCM, 1, 8000, 16))) },
	"err_fmt_truncated": func() []byte { return riff(chunkSized("fmt ", 16, fmtBody(wavePCM, 1, 8000, 16)[:10])) },
	"err_second_fmt": func() []byte {
		f := chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16))
		return riff(f, f, chunk("data", make([]byte, 16)))
	},
	"err_block_align": func() []byte {
		f := fmtBody(wavePCM, 2, 8000, 16)
		le.PutUint16(f[12:], 3)
		return riff(chunk("fmt ", f), chunk("data", make([]byte, 16)))
	},
	"err_extensible_short": func() []byte {
		return riff(chunk("fmt ", append(fmtBody(waveExtensible, 1, 8000, 16), 0, 0)), chunk("data", make([]byte, 16)))
	},
	"err_extensible_valid_bits": func() []byte {
		return riff(chunk("fmt ", fmtExtensible(wavePCM, 1, 8000, 16, 24)), chunk("data", make([]byte, 16)))
	},
	"err_extensible_bad_guid": func() []byte { // KSDATAFORMAT_SUBTYPE_AMBISONIC_B_FORMAT_PCM
		f := fmtExtensible(wavePCM, 1, 8000, 16, 16)
		copy(f[24:], []byte{0x01, 0x00, 0x00, 0x00, 0x21, 0x07, 0xd3, 0x11, 0x86, 0x44, 0xc8, 0xc1, 0xca, 0x00, 0x00, 0x00})
		return riff(chunk("fmt ", f), chunk("data", make([]byte, 16)))
	},
	"err_extensible_mp3": func() []byte {
		return riff(chunk("fmt ", fmtExtensible(0x55, 1, 8000, 16, 16)), chunk("data", make([]byte, 16)))
	},
	"err_chunk_truncated": func() []byte {
		return riff(chunk("fmt ", fmtBody(wavePCM, 1, 8000, 16)), chunkSized("LIST", 1000, []byte("INFO")))
	},
}

const wavDir = "testdata/wav"

// summarize describes ReadWAV's result for a golden file.
func summarize(c *Clip, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "source %d Hz, channels %d\n", c.SourceRate, c.SourceChannels)
	fmt.Fprintf(&b, "samples %d, frames %d, duration %v\n", len(c.Samples), c.Frames(), c.Duration())
	if len(c.Samples) > 0 {
		fmt.Fprintf(&b, "level %.1f dBm0, 440 Hz at %.1f dBm0\n", LevelDBm0(c.Samples), PowerDBm0(Goertzel(c.Samples, 440)))
	}
	fmt.Fprintf(&b, "first %v\n", c.Samples[:min(len(c.Samples), 12)])
	return b.String()
}

func TestReadWAVGolden(t *testing.T) {
	if *update {
		writeWAVCases(t)
	}
	paths, err := filepath.Glob(filepath.Join(wavDir, "*.wav"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden inputs in %s (run with -update): %v", wavDir, err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".wav")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if gen, ok := wavCases[name]; ok && !bytes.Equal(gen(), data) {
				t.Errorf("%s differs from its generator; run go test -update", path)
			}
			c, err := ReadWAV(bytes.NewReader(data))
			if err != nil && !errors.Is(err, ErrBadWAV) {
				t.Errorf("error %v does not wrap ErrBadWAV", err)
			}
			if (err != nil) != strings.HasPrefix(name, "err_") {
				t.Errorf("error %v; inputs named err_* must fail and only they", err)
			}
			got := summarize(c, err)
			golden := strings.TrimSuffix(path, ".wav") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("ReadWAV(%s):\ngot:\n%swant:\n%s", path, got, want)
			}
		})
	}
}

// writeWAVCases regenerates the inputs, removing stale ones.
func writeWAVCases(t *testing.T) {
	if err := os.MkdirAll(wavDir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(wavDir, "*"))
	for _, p := range old {
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".wav"), ".golden")
		if _, ok := wavCases[name]; !ok {
			os.Remove(p)
		}
	}
	for name, gen := range wavCases {
		if err := os.WriteFile(filepath.Join(wavDir, name+".wav"), gen(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWAVTestdataSize(t *testing.T) {
	var total int64
	filepath.WalkDir("testdata", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	if total > 200<<10 {
		t.Errorf("testdata holds %d bytes, keep it under 200 KiB", total)
	}
}

// TestReadWAVContent checks decoded audio against the source, per format.
func TestReadWAVContent(t *testing.T) {
	src := tone(8000, 2, 800, 0.5)
	want := make([]int16, len(src))
	for i, f := range src {
		want[i] = int16((f[0] + f[1]) / 2 * 32767)
	}
	for _, tc := range []struct {
		tag  uint16
		bits int
		tol  int
	}{{wavePCM, 8, 300}, {wavePCM, 16, 1}, {wavePCM, 24, 1}, {wavePCM, 32, 1}, {waveFloat, 32, 1}, {waveFloat, 64, 1}, {waveMuLaw, 8, 600}, {waveALaw, 8, 600}} {
		data := riff(chunk("fmt ", fmtBody(tc.tag, 2, 8000, tc.bits)), chunk("data", encode(src, tc.tag, tc.bits)))
		c, err := ReadWAV(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s %d-bit: %v", formatName(tc.tag), tc.bits, err)
		}
		if len(c.Samples) != len(want) {
			t.Fatalf("%s %d-bit: %d samples", formatName(tc.tag), tc.bits, len(c.Samples))
		}
		for i := range want {
			if d := int(c.Samples[i]) - int(want[i]); d > tc.tol || d < -tc.tol {
				t.Fatalf("%s %d-bit: sample %d = %d, want %d ± %d", formatName(tc.tag), tc.bits, i, c.Samples[i], want[i], tc.tol)
			}
		}
	}
}

func TestReadWAVResamples(t *testing.T) {
	frames := tone(48000, 1, 48000, 0.25)
	c, err := ReadWAV(bytes.NewReader(riff(chunk("fmt ", fmtBody(wavePCM, 1, 48000, 16)), chunk("data", encode(frames, wavePCM, 16)))))
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceRate != 48000 || c.SourceChannels != 1 || len(c.Samples) != 8000 || c.Duration().Seconds() != 1 || c.Frames() != 50 {
		t.Fatalf("clip %d Hz, %d ch, %d samples, %v", c.SourceRate, c.SourceChannels, len(c.Samples), c.Duration())
	}
	if f := zeroCrossFreq(middle(c.Samples), SampleRate); f < 439.5 || f > 440.5 {
		t.Fatalf("440 Hz became %.2f Hz", f)
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadWAVPassesReadErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	full := simple(wavePCM, 1, 8000, 16, 0.1)
	for _, cut := range []int{0, 10, 30, 50, 1000} {
		_, err := ReadWAV(&errReader{data: full[:cut], err: boom})
		if !errors.Is(err, boom) {
			t.Errorf("cut at %d: %v, want the reader's error", cut, err)
		}
	}
	// A streamed file read to EOF is fine.
	c, err := ReadWAV(io.MultiReader(bytes.NewReader(full[:40]), bytes.NewReader([]byte{0, 0, 0, 0}), bytes.NewReader(full[44:])))
	if err != nil || len(c.Samples) != 800 {
		t.Fatalf("streamed: %v", err)
	}
}

func TestLoadWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.wav")
	samples := sine(440, SampleRate, 1234, 9000)
	if err := WriteWAV(path, SampleRate, 1, samples); err != nil {
		t.Fatal(err)
	}
	c, err := LoadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Samples, samples) {
		t.Fatal("8 kHz mono 16-bit does not round-trip exactly")
	}
	if _, err := LoadWAV(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.wav")
	os.WriteFile(bad, []byte("RIFX0000WAVE"), 0o644)
	if _, err := LoadWAV(bad); !errors.Is(err, ErrBadWAV) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad file: %v", err)
	}
}

func TestClipFrames(t *testing.T) {
	c := &Clip{Samples: make([]int16, 2*FrameSamples+10)}
	for i := range c.Samples {
		c.Samples[i] = int16(i + 1)
	}
	if c.Frames() != 3 {
		t.Fatalf("Frames = %d", c.Frames())
	}
	if d := c.Duration(); d.Microseconds() != 41250 {
		t.Fatalf("Duration = %v", d)
	}
	var f Frame
	c.Frame(1, &f)
	if f[0] != FrameSamples+1 || f[FrameSamples-1] != 2*FrameSamples {
		t.Fatalf("frame 1: %d … %d", f[0], f[FrameSamples-1])
	}
	c.Frame(2, &f)
	if f[9] != 2*FrameSamples+10 || f[10] != 0 || f[FrameSamples-1] != 0 {
		t.Fatal("last frame not padded with silence")
	}
	for _, i := range []int{-1, 3, 100} {
		f[0] = 1
		c.Frame(i, &f)
		if f != (Frame{}) {
			t.Fatalf("frame %d not silent", i)
		}
	}
	empty := &Clip{}
	if empty.Frames() != 0 || empty.Duration() != 0 {
		t.Fatal("empty clip")
	}
}

func BenchmarkReadWAV(b *testing.B) {
	// One second of 16-bit 44.1 kHz stereo.
	data := simple(wavePCM, 2, 44100, 16, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadWAV(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
