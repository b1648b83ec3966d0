package tts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/switchd/switchd/media/audio"
)

func newTestCache(t *testing.T, e Synthesizer) *Cache {
	t.Helper()
	c, err := NewCache(e, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCacheHit(t *testing.T) {
	e := &fakeEngine{name: "fake", langs: []string{"en"}}
	c := newTestCache(t, e)
	r := Request{Text: "Welcome", Language: "en"}
	first, err := c.Synthesize(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Path(r)); err != nil {
		t.Fatalf("no cache file: %v", err)
	}
	second, err := c.Synthesize(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Load(); n != 1 {
		t.Errorf("engine called %d times, want 1", n)
	}
	if !slices.Equal(first.Samples, second.Samples) {
		t.Error("cached audio differs from the rendered audio")
	}
	if second.SourceRate != audio.SampleRate || second.SourceChannels != 1 {
		t.Errorf("cached clip source %d Hz × %d", second.SourceRate, second.SourceChannels)
	}

	// A second Cache on the same directory (a restart) finds the file.
	c2, err := NewCache(e, filepath.Dir(filepath.Dir(c.Path(r))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Synthesize(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Load(); n != 1 {
		t.Errorf("after restart: engine called %d times, want 1", n)
	}

	// The file is an ordinary 8 kHz mono WAV.
	clip, err := audio.LoadWAV(c.Path(r))
	if err != nil || clip.SourceRate != 8000 || clip.SourceChannels != 1 {
		t.Errorf("cache file: %+v, %v", clip, err)
	}
}

func TestCacheKeys(t *testing.T) {
	e := &fakeEngine{name: "fake", langs: []string{"en", "de"}}
	c := newTestCache(t, e)
	base := Request{Text: "Welcome", Language: "en", Voice: "a"}
	variants := []Request{
		base,
		{Text: "Welcome", Language: "en", Voice: "b"},
		{Text: "Welcome", Language: "en"},
		{Text: "Welcome", Language: "de", Voice: "a"},
		{Text: "Welcome!", Language: "en", Voice: "a"},
		{Text: "a", Language: "en", Voice: "Welcome"},
		{Text: "Welcomea", Language: "en"}, // no ambiguity from joining fields
		{Text: "", Language: "en", Voice: "aWelcome"},
	}
	seen := map[string]Request{}
	for _, r := range variants {
		k := c.Key(r)
		if prev, dup := seen[k]; dup {
			t.Errorf("%+v and %+v share key %s", prev, r, k)
		}
		seen[k] = r
	}
	other := newTestCache(t, &fakeEngine{name: "other"})
	if c.Key(base) == other.Key(base) {
		t.Error("different engines share a key")
	}
	if c.Key(base) != c.Key(base) || len(c.Key(base)) != 64 {
		t.Errorf("key %q not a stable SHA-256", c.Key(base))
	}

	// Different voice → a second synthesis; same voice again → none.
	for _, r := range []Request{base, variants[1], base, variants[1]} {
		if _, err := c.Synthesize(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.calls.Load(); n != 2 {
		t.Errorf("engine called %d times, want 2", n)
	}
}

func TestCacheConcurrentOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := &fakeEngine{name: "fake", langs: []string{"en"}, gate: make(chan struct{})}
		c := newTestCache(t, e)
		r := Request{Text: "Please hold", Language: "en"}
		const n = 20
		clips := make([]*audio.Clip, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { clips[i], errs[i] = c.Synthesize(t.Context(), r) })
		}
		synctest.Wait() // all n are in Synthesize: one in the engine, the rest waiting
		close(e.gate)
		wg.Wait()
		if got := e.calls.Load(); got != 1 {
			t.Errorf("engine called %d times for %d concurrent requests, want 1", got, n)
		}
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if !slices.Equal(clips[i].Samples, clips[0].Samples) {
				t.Fatalf("request %d got different audio", i)
			}
		}
		clips[1].Samples[0]++ // callers own their samples
		if clips[0].Samples[0] == clips[1].Samples[0] {
			t.Error("callers share one sample slice")
		}
	})
}

// TestCacheLeaderCancelled: when the request doing the synthesis gives
// up, the others waiting for it do not fail with its error.
func TestCacheLeaderCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := &fakeEngine{name: "fake", langs: []string{"en"}, gate: make(chan struct{})}
		c := newTestCache(t, e)
		r := Request{Text: "Please hold", Language: "en"}
		leaderCtx, cancel := context.WithCancel(t.Context())
		var leaderErr, waiterErr error
		var waiterClip *audio.Clip
		var wg sync.WaitGroup
		wg.Go(func() { _, leaderErr = c.Synthesize(leaderCtx, r) })
		synctest.Wait()
		wg.Go(func() { waiterClip, waiterErr = c.Synthesize(t.Context(), r) })
		synctest.Wait()
		cancel()
		synctest.Wait() // the waiter took over and is in the engine
		close(e.gate)
		wg.Wait()
		if !errors.Is(leaderErr, context.Canceled) {
			t.Errorf("leader: %v, want Canceled", leaderErr)
		}
		if waiterErr != nil || waiterClip == nil || len(waiterClip.Samples) == 0 {
			t.Errorf("waiter: %v, %v", waiterClip, waiterErr)
		}
		if got := e.calls.Load(); got != 2 {
			t.Errorf("engine called %d times, want 2", got)
		}
	})
}

func TestCacheCorruptFile(t *testing.T) {
	e := &fakeEngine{name: "fake", langs: []string{"en"}}
	c := newTestCache(t, e)
	r := Request{Text: "Your call is important to us", Language: "en"}
	want, err := c.Synthesize(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(c.Path(r))
	if err != nil {
		t.Fatal(err)
	}
	corruptions := map[string][]byte{
		"truncated":  good[:len(good)/2],
		"empty":      {},
		"garbage":    []byte(strings.Repeat("not a wav ", 20)),
		"header":     good[:44],
		"16 kHz":     withRate(good, 16000),
		"bad format": append(append([]byte(nil), good[:20]...), append([]byte{0x55, 0x00}, good[22:]...)...),
	}
	calls := e.calls.Load()
	for name, bad := range corruptions {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(c.Path(r), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := c.Synthesize(t.Context(), r)
			if err != nil {
				t.Fatal(err)
			}
			calls++
			if n := e.calls.Load(); n != calls {
				t.Errorf("engine called %d times, want %d (re-synthesised)", n, calls)
			}
			if !slices.Equal(got.Samples, want.Samples) {
				t.Error("recovered audio differs")
			}
			if b, _ := os.ReadFile(c.Path(r)); string(b) != string(good) {
				t.Error("cache file not repaired")
			}
		})
	}
	// Leftover temporary files would mean a write went wrong.
	entries, _ := os.ReadDir(filepath.Dir(c.Path(r)))
	if len(entries) != 1 {
		t.Errorf("cache directory holds %d entries, want 1", len(entries))
	}
}

// withRate returns a copy of a canonical WAV claiming another rate.
func withRate(wav []byte, rate uint32) []byte {
	b := append([]byte(nil), wav...)
	b[24], b[25], b[26], b[27] = byte(rate), byte(rate>>8), byte(rate>>16), byte(rate>>24)
	r2 := 2 * rate
	b[28], b[29], b[30], b[31] = byte(r2), byte(r2>>8), byte(r2>>16), byte(r2>>24)
	return b
}

func TestCacheErrorsNotCached(t *testing.T) {
	boom := errors.New("boom")
	e := &fakeEngine{name: "fake", langs: []string{"en"}, fail: boom}
	c := newTestCache(t, e)
	r := Request{Text: "hello", Language: "en"}
	for range 2 {
		if _, err := c.Synthesize(t.Context(), r); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	}
	if n := e.calls.Load(); n != 2 {
		t.Errorf("engine called %d times, want 2 (failures are not cached)", n)
	}
	if _, err := os.Stat(c.Path(r)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failure left a cache file: %v", err)
	}
}

func TestCacheUnwritableDir(t *testing.T) {
	e := &fakeEngine{name: "fake", langs: []string{"en"}}
	c := newTestCache(t, e)
	r := Request{Text: "hello", Language: "en"}
	// A file where the fan-out directory should be: storing fails, the
	// audio is still returned.
	if err := os.WriteFile(filepath.Dir(c.Path(r)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if clip, err := c.Synthesize(t.Context(), r); err != nil || len(clip.Samples) == 0 {
		t.Fatalf("%v, %v", clip, err)
	}
	if _, err := NewCache(e, "", nil); err == nil {
		t.Error("NewCache with no directory succeeded")
	}
}
