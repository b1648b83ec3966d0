package tts

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

func TestEspeakEnglish(t *testing.T) {
	requireEspeak(t)
	e := NewEspeak(EspeakOptions{})
	for _, lang := range []string{"en", "en-US", "en_GB", ""} {
		t.Run("lang="+lang, func(t *testing.T) {
			clip, err := e.Synthesize(t.Context(), Request{Text: englishPrompt, Language: lang})
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := perWord(englishPrompt)
			checkSpeech(t, clip, 22050, lo, hi)
		})
	}
}

func TestEspeakMandarin(t *testing.T) {
	requireEspeak(t)
	e := NewEspeak(EspeakOptions{})
	var durations []float64
	for _, lang := range []string{"cmn", "zh", "zh-CN", "zh-Hans-CN"} {
		t.Run("lang="+lang, func(t *testing.T) {
			if !e.Supports(lang) {
				t.Fatalf("Supports(%q) = false", lang)
			}
			clip, err := e.Synthesize(t.Context(), Request{Text: mandarinPrompt, Language: lang})
			if err != nil {
				t.Fatal(err)
			}
			// 12 characters, 11 syllables and a pause: 0.15–0.6 s each.
			n := float64(len([]rune(mandarinPrompt)))
			s := checkSpeech(t, clip, 22050, 0.15*n, 0.6*n)
			durations = append(durations, s.seconds)
		})
	}
	// All four tags are the same voice, so the same audio.
	for _, d := range durations[1:] {
		if d != durations[0] {
			t.Errorf("durations %v differ: the tags did not all map to cmn", durations)
			break
		}
	}
}

func TestEspeakVoicesAndLanguages(t *testing.T) {
	requireEspeak(t)
	e := NewEspeak(EspeakOptions{})
	if err := e.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]bool{
		"en": true, "en-US": true, "de": true, "de-AT": true, "fr-CA": true,
		"cmn": true, "zh": true, "zh-TW": true, "zh-HK": true, "yue": true,
		"tlh": false, "xx-yy": false,
	} {
		if got := e.Supports(lang); got != want {
			t.Errorf("Supports(%q) = %v, want %v", lang, got, want)
		}
	}
	for voice, want := range map[string]bool{
		"en-us": true, "en-us+f3": true, "cmn": true, "gmw/en-US": true, "German": true,
		"nope": false, "-x": false, "../../etc/passwd": false, "": false,
	} {
		if got := e.HasVoice(voice); got != want {
			t.Errorf("HasVoice(%q) = %v, want %v", voice, got, want)
		}
	}
	clip, err := e.Synthesize(t.Context(), Request{Text: "Guten Tag.", Voice: "de+f2"})
	if err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, clip, 22050, 0.4, 1.2)
	if _, err := e.Synthesize(t.Context(), Request{Text: "hello", Voice: "no-such-voice"}); !errors.Is(err, ErrUnknownVoice) {
		t.Errorf("unknown voice: err = %v, want ErrUnknownVoice", err)
	} else {
		t.Log(err)
	}
	if _, err := e.Synthesize(t.Context(), Request{Text: "hello", Voice: "-w /tmp/x"}); !errors.Is(err, ErrUnknownVoice) {
		t.Errorf("voice like an option: err = %v, want ErrUnknownVoice", err)
	}
	if _, err := e.Synthesize(t.Context(), Request{Text: "tlhIngan Hol", Language: "tlh"}); !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("Klingon: err = %v, want ErrUnsupportedLanguage", err)
	}
	for _, text := range []string{"", " \n\t", "\x00"} {
		if _, err := e.Synthesize(t.Context(), Request{Text: text}); !errors.Is(err, ErrEmptyText) {
			t.Errorf("text %q: err = %v, want ErrEmptyText", text, err)
		}
	}
	if _, err := e.Synthesize(t.Context(), Request{Text: strings.Repeat("a", MaxTextBytes+1)}); !errors.Is(err, ErrTextTooLong) {
		t.Errorf("long text: err = %v, want ErrTextTooLong", err)
	}
}

func TestEspeakMissingBinary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-espeak-ng")
	e := NewEspeak(EspeakOptions{Path: missing})
	_, err := e.Synthesize(t.Context(), Request{Text: "hello", Language: "en"})
	if !errors.Is(err, ErrEngineUnavailable) {
		t.Fatalf("err = %v, want ErrEngineUnavailable", err)
	}
	if msg := err.Error(); !strings.Contains(msg, missing) || !strings.Contains(msg, "espeak-ng") {
		t.Errorf("error %q does not name the binary and package", msg)
	}
	t.Log(err)
	if _, err := e.Synthesize(t.Context(), Request{Text: "hello", Voice: "en-us"}); !errors.Is(err, ErrEngineUnavailable) {
		t.Errorf("with a voice: err = %v, want ErrEngineUnavailable", err)
	}
	if e.Supports("en") {
		t.Error("Supports with no binary = true")
	}
	if err := e.Check(t.Context()); !errors.Is(err, ErrEngineUnavailable) {
		t.Errorf("Check = %v, want ErrEngineUnavailable", err)
	}

	// Through a Router the request fails clearly, with both reasons.
	r, err := New(Options{Engines: []Synthesizer{e}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Synthesize(t.Context(), Request{Text: "Hallo", Language: "de"})
	if !errors.Is(err, ErrUnsupportedLanguage) || !errors.Is(err, ErrEngineUnavailable) {
		t.Errorf("router: err = %v, want ErrUnsupportedLanguage and ErrEngineUnavailable", err)
	}
	t.Log(err)
}

// fakeEspeak writes a shell script standing in for espeak-ng, which
// lists one voice (en-us) and otherwise runs script, and returns its
// path.
func fakeEspeak(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "espeak-ng")
	voices := `if [ "$1" = --voices ]; then
  echo 'Pty Language       Age/Gender VoiceName          File                 Other Languages'
  echo ' 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)'
  exit 0
fi
`
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+voices+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEspeakTextOnStdin checks that the text reaches espeak-ng on stdin
// and never in its arguments, whatever it contains.
func TestEspeakTextOnStdin(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "out.wav")
	tone := make([]int16, 800)
	for i := range tone {
		tone[i] = int16(1000 * (i % 8))
	}
	if err := os.WriteFile(wav, wavBytes(t, tone), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := fakeEspeak(t, `printf '%s\n' "$@" > `+dir+`/args; cat > `+dir+`/stdin; cat `+wav)
	text := "-w /tmp/pwned --path=/ \"$(reboot)\" ; `id` 中文"
	clip, err := NewEspeak(EspeakOptions{Path: bin}).Synthesize(t.Context(), Request{Text: text, Voice: "en-us"})
	if err != nil {
		t.Fatal(err)
	}
	if len(clip.Samples) != len(tone) || clip.SourceRate != audio.SampleRate {
		t.Errorf("got %d samples at %d Hz, want %d at 8000", len(clip.Samples), clip.SourceRate, len(tone))
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if want := "-b\n1\n-v\nen-us\n--stdin\n--stdout\n"; string(args) != want {
		t.Errorf("args %q, want %q", args, want)
	}
	if stdin, _ := os.ReadFile(filepath.Join(dir, "stdin")); string(stdin) != text {
		t.Errorf("stdin %q, want %q", stdin, text)
	}
}

func TestEspeakBounds(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		e := NewEspeak(EspeakOptions{Path: fakeEspeak(t, "exec sleep 30"), Timeout: 200 * time.Millisecond})
		start := time.Now()
		_, err := e.Synthesize(t.Context(), Request{Text: "hello", Voice: "en"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		e := NewEspeak(EspeakOptions{Path: fakeEspeak(t, "exec sleep 30")})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if _, err := e.Synthesize(ctx, Request{Text: "hello", Voice: "en"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("output size", func(t *testing.T) {
		e := NewEspeak(EspeakOptions{Path: fakeEspeak(t, "exec cat /dev/zero"), MaxOutputBytes: 1 << 16})
		if _, err := e.Synthesize(t.Context(), Request{Text: "hello", Voice: "en"}); !errors.Is(err, ErrOutputTooLarge) {
			t.Errorf("err = %v, want ErrOutputTooLarge", err)
		}
	})
	t.Run("exit status", func(t *testing.T) {
		e := NewEspeak(EspeakOptions{Path: fakeEspeak(t, "echo 'Error: it broke' >&2; exit 3")})
		_, err := e.Synthesize(t.Context(), Request{Text: "hello", Voice: "en"})
		if !errors.Is(err, ErrEngineFailed) || !strings.Contains(err.Error(), "it broke") {
			t.Errorf("err = %v, want ErrEngineFailed with stderr", err)
		}
	})
	t.Run("not a WAV", func(t *testing.T) {
		e := NewEspeak(EspeakOptions{Path: fakeEspeak(t, "echo hello")})
		if _, err := e.Synthesize(t.Context(), Request{Text: "hello", Voice: "en"}); !errors.Is(err, ErrEngineFailed) || !errors.Is(err, audio.ErrBadWAV) {
			t.Errorf("err = %v, want ErrEngineFailed wrapping audio.ErrBadWAV", err)
		}
	})
}

// TestEspeakNoLeak runs real syntheses and checks that no goroutine
// outlives them.
func TestEspeakNoLeak(t *testing.T) {
	requireEspeak(t)
	e := NewEspeak(EspeakOptions{})
	if err := e.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for range 3 {
		if _, err := e.Synthesize(t.Context(), Request{Text: "one", Language: "en"}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after, %d before", n, before)
	}
}

// TestReadStreamedWAV: a WAV as espeak-ng writes it to a pipe (placeholder
// sizes 0x7ffff000, maybe half a sample at the end, other chunks first)
// reads back as the samples written.
func TestReadStreamedWAV(t *testing.T) {
	samples := []int16{1, -2, 3, -4, 5}
	good := wavBytes(t, samples)
	streamed := bytes.Clone(good)
	binary.LittleEndian.PutUint32(streamed[4:], 0x7ffff000)
	binary.LittleEndian.PutUint32(streamed[40:], 0x7ffff000)
	odd := append(bytes.Clone(streamed), 0x7f)
	withList := append(append([]byte(nil), good[:12]...), "LIST\x04\x00\x00\x00abcd"...)
	withList = append(withList, good[12:]...)
	binary.LittleEndian.PutUint32(withList[4:], 0x7ffff000)
	binary.LittleEndian.PutUint32(withList[52:], 0x7ffff000)
	for name, b := range map[string][]byte{"streamed": streamed, "odd length": odd, "LIST chunk": withList} {
		clip, err := audio.ReadWAV(bytes.NewReader(b))
		if err != nil || len(clip.Samples) != len(samples) {
			t.Errorf("%s: %v, %v", name, clip, err)
			continue
		}
		for i, x := range samples {
			if clip.Samples[i] != x {
				t.Errorf("%s: sample %d = %d, want %d", name, i, clip.Samples[i], x)
			}
		}
	}
}

func TestParseEspeakVoices(t *testing.T) {
	out := "Pty Language       Age/Gender VoiceName          File                 Other Languages\n" +
		" 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)\n" +
		" 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)\n" +
		" 5  de              --/M      German             gmw/de               \n" +
		"garbage\n"
	v := parseEspeakVoices([]byte(out))
	for _, l := range []string{"cmn", "zh-cmn", "zh", "en-gb", "en", "de"} {
		if !v.langs[l] {
			t.Errorf("language %q missing", l)
		}
	}
	for _, n := range []string{"cmn", "sit/cmn", "chinese_(mandarin,_latin_as_english)", "gmw/en", "german"} {
		if !v.names[n] {
			t.Errorf("name %q missing", n)
		}
	}
	if len(v.langs) != 6 {
		t.Errorf("langs %v", v.langs)
	}
	for lang, want := range map[string]string{"zh": "zh", "de-ch": "de", "en-us": "en", "fr": ""} {
		if got, _ := v.voiceFor(lang); got != want {
			t.Errorf("voiceFor(%q) = %q, want %q", lang, got, want)
		}
	}
}
