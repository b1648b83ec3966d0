package tts

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestCanonicalLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"": "en", " EN ": "en", "en-US": "en-us", "en_GB": "en-gb", "de": "de",
		"cmn": "cmn", "zh": "cmn", "zh-CN": "cmn", "zh_cn": "cmn", "ZH-Hans": "cmn",
		"zh-Hans-CN": "cmn", "zh-TW": "cmn", "zh-cmn": "cmn", "zh-SG": "cmn",
		"zh-HK": "yue", "zh-Hant-HK": "yue", "zh-yue": "yue", "zh-MO": "yue",
		"yue": "yue", "zhx": "zhx",
	} {
		if got := CanonicalLanguage(in); got != want {
			t.Errorf("CanonicalLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

// newFakeRouter returns a Router over a fake English-only "flite" that
// knows voices kal and slt and a fake "espeak-ng" for en, de and cmn
// that knows en-us+f3 and de. No cache: each request reaches an engine.
func newFakeRouter(t *testing.T) (*Router, *fakeEngine, *fakeEngine) {
	t.Helper()
	fl := &fakeEngine{name: FliteName, langs: []string{"en"}, voices: []string{"kal", "slt"}}
	es := &fakeEngine{name: EspeakName, langs: []string{"en", "de", "cmn"}, voices: []string{"en-us+f3", "de"}}
	r, err := New(Options{Engines: []Synthesizer{voiceFake{fl}, voiceFake{es}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Engines(), ","); got != "flite,espeak-ng" {
		t.Errorf("Engines() = %s", got)
	}
	return r, fl, es
}

func TestRouterRouting(t *testing.T) {
	r, fl, es := newFakeRouter(t)
	for _, tc := range []struct {
		req        Request
		engine     string
		lang, voic string
	}{
		{Request{Text: "Welcome", Language: "en"}, FliteName, "en", ""},
		{Request{Text: "Welcome", Language: "en-US", Voice: "slt"}, FliteName, "en-us", "slt"},
		{Request{Text: "Welcome", Language: "en", Voice: "flite:slt"}, FliteName, "en", "slt"},
		{Request{Text: "Welcome", Language: "en", Voice: "espeak-ng"}, EspeakName, "en", ""},
		{Request{Text: "Welcome", Language: "en", Voice: "espeak:en-us+f3"}, EspeakName, "en", "en-us+f3"},
		{Request{Text: "Welcome", Language: "en", Voice: "en-us+f3"}, EspeakName, "en", "en-us+f3"},
		{Request{Text: "Willkommen", Language: "de-AT"}, EspeakName, "de-at", ""},
		{Request{Text: mandarinPrompt, Language: "zh-CN"}, EspeakName, "cmn", ""},
		{Request{Text: "Welcome"}, FliteName, "en", ""},
	} {
		fc, ec := fl.calls.Load(), es.calls.Load()
		if _, err := r.Synthesize(t.Context(), tc.req); err != nil {
			t.Errorf("%+v: %v", tc.req, err)
			continue
		}
		df, de := fl.calls.Load()-fc, es.calls.Load()-ec
		e := fl
		if tc.engine == EspeakName {
			e, df, de = es, de, df
		}
		if df != 1 || de != 0 {
			t.Errorf("%+v: not rendered by %s alone", tc.req, tc.engine)
		}
		if got := e.lastRequest(); got.Language != tc.lang || got.Voice != tc.voic {
			t.Errorf("%+v: engine saw language %q voice %q, want %q %q", tc.req, got.Language, got.Voice, tc.lang, tc.voic)
		}
	}
	for lang, want := range map[string]bool{"en": true, "zh": true, "de-CH": true, "fr": false} {
		if got := r.Supports(lang); got != want {
			t.Errorf("Supports(%q) = %v, want %v", lang, got, want)
		}
	}
}

func TestRouterErrors(t *testing.T) {
	r, fl, es := newFakeRouter(t)
	for _, tc := range []struct {
		req  Request
		want error
	}{
		{Request{Text: "Bonjour", Language: "fr"}, ErrUnsupportedLanguage},
		{Request{Text: "Hallo", Language: "de", Voice: "flite"}, ErrUnsupportedLanguage},
		{Request{Text: "Hallo", Language: "de", Voice: "flite:kal"}, ErrUnsupportedLanguage},
		{Request{Text: "Hi", Language: "en", Voice: "nosuch:kal"}, ErrUnknownVoice},
		{Request{Text: "   ", Language: "en"}, ErrEmptyText},
		{Request{Text: strings.Repeat("x", MaxTextBytes+1)}, ErrTextTooLong},
	} {
		_, err := r.Synthesize(t.Context(), tc.req)
		if !errors.Is(err, tc.want) {
			t.Errorf("%+v: err = %v, want %v", tc.req, err, tc.want)
		} else {
			t.Logf("%+v: %v", tc.req, err)
		}
	}
	if n := fl.calls.Load() + es.calls.Load(); n != 0 {
		t.Errorf("engines called %d times for bad requests", n)
	}
	if _, err := New(Options{Engines: []Synthesizer{}}); err == nil {
		t.Error("New with no engines succeeded")
	}
	if _, err := New(Options{Engines: []Synthesizer{es}, CacheDir: "/dev/null/x"}); err == nil {
		t.Error("New with an unusable cache directory succeeded")
	}
}

func TestRouterFallback(t *testing.T) {
	broken := errors.New("flite exploded")
	fl := &fakeEngine{name: FliteName, langs: []string{"en"}, fail: broken}
	es := &fakeEngine{name: EspeakName, langs: []string{"en"}}
	r, err := New(Options{Engines: []Synthesizer{fl, es}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Synthesize(t.Context(), Request{Text: "Welcome", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if fl.calls.Load() != 1 || es.calls.Load() != 1 {
		t.Errorf("calls flite %d espeak %d, want 1 and 1", fl.calls.Load(), es.calls.Load())
	}
	es.fail = errors.New("espeak exploded too")
	_, err = r.Synthesize(t.Context(), Request{Text: "Welcome", Language: "en"})
	if !errors.Is(err, broken) || !errors.Is(err, es.fail) {
		t.Errorf("err = %v, want both engines' errors", err)
	}
}

func TestRouterTimeout(t *testing.T) {
	slow := &fakeEngine{name: EspeakName, langs: []string{"en"}, gate: make(chan struct{})}
	r, err := New(Options{Engines: []Synthesizer{slow}, Timeout: 50e6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Synthesize(t.Context(), Request{Text: "Welcome"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}

// TestRouterDefaultEngines runs the default engines for real: English
// (flite when built with -tags flite, else espeak-ng), Mandarin
// (espeak-ng), an unsupported language, and the disk cache.
func TestRouterDefaultEngines(t *testing.T) {
	requireEspeak(t)
	dir := t.TempDir()
	r, err := New(Options{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engines: %v", r.Engines())
	en, err := r.Synthesize(t.Context(), Request{Text: englishPrompt, Language: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := perWord(englishPrompt)
	wantRate := 22050
	if r.Engines()[0] == FliteName {
		wantRate = 8000
	}
	checkSpeech(t, en, wantRate, lo, hi)

	zh, err := r.Synthesize(t.Context(), Request{Text: mandarinPrompt, Language: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	n := float64(len([]rune(mandarinPrompt)))
	checkSpeech(t, zh, 22050, 0.15*n, 0.6*n)

	again, err := r.Synthesize(t.Context(), Request{Text: mandarinPrompt, Language: "cmn"})
	if err != nil {
		t.Fatal(err)
	}
	if again.SourceRate != 8000 || len(again.Samples) != len(zh.Samples) {
		t.Errorf("second Mandarin request: %d samples from %d Hz, want the cached %d", len(again.Samples), again.SourceRate, len(zh.Samples))
	}
	var files int
	_ = walkFiles(dir, func(string) { files++ })
	if files != 2 {
		t.Errorf("%d files cached, want 2", files)
	}

	if _, err := r.Synthesize(t.Context(), Request{Text: "nuqneH", Language: "tlh"}); !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("Klingon: err = %v, want ErrUnsupportedLanguage", err)
	} else {
		t.Log(err)
	}
}

// walkFiles calls fn for each regular file under dir.
func walkFiles(dir string, fn func(string)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := dir + "/" + e.Name()
		if e.IsDir() {
			if err := walkFiles(p, fn); err != nil {
				return err
			}
		} else {
			fn(p)
		}
	}
	return nil
}
