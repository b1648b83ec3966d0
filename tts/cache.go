package tts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/switchd/switchd/media/audio"
)

// cacheFormat versions the cache key. Bump it when what an engine
// renders for the same request changes on purpose (a new resampler, a
// new file layout), so that old files are no longer found.
const cacheFormat = "switchd-tts-cache-v1"

// Cache is a Synthesizer that keeps what another one renders as WAV
// files (8 kHz mono 16-bit) under a directory, so that each prompt is
// synthesised once per engine, language, voice and text. Concurrent
// requests for the same prompt share one synthesis; a file that cannot
// be read back (truncated, damaged, not ours) is rendered again and
// replaced; files are written to a temporary name and renamed, so a
// reader never sees half a file. A Cache is safe for concurrent use, also
// across processes sharing the directory.
type Cache struct {
	inner Synthesizer
	dir   string
	log   *slog.Logger

	mu      sync.Mutex
	flights map[string]*flight // key → synthesis in progress
}

// flight is one synthesis shared by the requests for a key.
type flight struct {
	done chan struct{} // closed when clip and err are set
	clip *audio.Clip
	err  error
}

var _ Synthesizer = (*Cache)(nil)

// NewCache returns a Cache of inner's output under dir, creating dir. A
// nil logger discards.
func NewCache(inner Synthesizer, dir string, log *slog.Logger) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("tts: cache directory is empty")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tts: cache: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{inner: inner, dir: dir, log: log, flights: map[string]*flight{}}, nil
}

// Name returns the wrapped engine's name.
func (c *Cache) Name() string { return c.inner.Name() }

// Supports reports what the wrapped engine supports.
func (c *Cache) Supports(lang string) bool { return c.inner.Supports(lang) }

// Key returns the cache key of r: the hex SHA-256 of the cache format
// version, the engine name, and r's language, voice and text, each
// length-prefixed so that no two requests share a key.
func (c *Cache) Key(r Request) string {
	h := sha256.New()
	for _, s := range []string{cacheFormat, c.inner.Name(), r.Language, r.Voice, r.Text} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Path returns the file that holds r's audio: <dir>/<key[:2]>/<key>.wav.
func (c *Cache) Path(r Request) string {
	k := c.Key(r)
	return filepath.Join(c.dir, k[:2], k+".wav")
}

// Synthesize returns r's audio from the cache, or renders it with the
// wrapped engine and stores it. Each caller gets its own copy of the
// samples. A failure to store is logged, not returned: the audio is
// still good.
func (c *Cache) Synthesize(ctx context.Context, r Request) (*audio.Clip, error) {
	key := c.Key(r)
	for {
		c.mu.Lock()
		f, waiting := c.flights[key]
		if !waiting {
			f = &flight{done: make(chan struct{})}
			c.flights[key] = f
		}
		c.mu.Unlock()

		if !waiting {
			c.lead(ctx, key, r, f)
			return f.clip, f.err
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("tts: cache: %w", ctx.Err())
		}
		// The leader's context ending is the leader's business: try again
		// (as leader, or behind a new one) while ours lives.
		if isContextErr(f.err) && ctx.Err() == nil {
			continue
		}
		if f.err != nil {
			return nil, f.err
		}
		return cloneClip(f.clip), nil
	}
}

// lead fills f for key: from the file if it is good, else from the
// engine (storing the result), and then publishes f.
func (c *Cache) lead(ctx context.Context, key string, r Request, f *flight) {
	defer func() {
		c.mu.Lock()
		delete(c.flights, key)
		c.mu.Unlock()
		close(f.done)
	}()
	f.err = errors.New("tts: cache: synthesis panicked") // replaced unless inner panics
	path := filepath.Join(c.dir, key[:2], key+".wav")
	if clip, err := readCached(path); err == nil {
		f.clip, f.err = clip, nil
		return
	} else if !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("tts_cache_unreadable", "path", path, "err", err)
	}
	f.clip, f.err = c.inner.Synthesize(ctx, r)
	if f.err != nil {
		return
	}
	if err := writeCached(path, f.clip.Samples); err != nil {
		c.log.Warn("tts_cache_write_failed", "path", path, "err", err)
	}
}

// readCached reads a file written by writeCached. Anything but whole,
// 8 kHz mono audio is an error, so that the caller renders again.
func readCached(path string) (*audio.Clip, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	clip, err := audio.ReadWAV(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if clip.SourceRate != audio.SampleRate || clip.SourceChannels != 1 {
		return nil, fmt.Errorf("tts: cache: %d Hz × %d channels, want %d Hz mono", clip.SourceRate, clip.SourceChannels, audio.SampleRate)
	}
	if len(clip.Samples) == 0 {
		return nil, errors.New("tts: cache: no audio")
	}
	return clip, nil
}

// writeCached stores samples at path atomically as a canonical 16-bit
// PCM WAV (audio.WAVWriter): a temporary file in the same directory,
// synced, then renamed over path.
func writeCached(path string, samples []int16) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*.wav")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	ww, err := audio.NewWAVWriter(tmp, audio.SampleRate, 1)
	if err != nil {
		return err
	}
	if err := ww.Write(samples); err != nil {
		return err
	}
	if err := ww.Close(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cloneClip copies a clip so that callers sharing a synthesis cannot
// change each other's samples.
func cloneClip(c *audio.Clip) *audio.Clip {
	cp := *c
	cp.Samples = slices.Clone(c.Samples)
	return &cp
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
