package prompt

import (
	"container/list"
	"os"
	"sync"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// ClipCache keeps loaded WAV files, shared by every Player, so a greeting
// played to a thousand callers is read and resampled once. An entry is
// valid while its file keeps its modification time and size; the least
// recently used entries go when the cache would hold more than its bound.
// Cached clips are shared and must not be modified.
type ClipCache struct {
	max int64

	mu    sync.Mutex
	size  int64                    // bytes of samples held
	byKey map[string]*list.Element // path → element of lru holding *cacheEntry
	lru   list.List                // front: most recently used
}

type cacheEntry struct {
	path    string
	modTime time.Time
	fsize   int64
	clip    *audio.Clip
	bytes   int64
}

// NewClipCache returns a cache holding at most maxBytes of samples; a clip
// larger than that is loaded but not kept.
func NewClipCache(maxBytes int64) *ClipCache {
	return &ClipCache{max: maxBytes, byKey: make(map[string]*list.Element)}
}

// Load returns the clip of the WAV file at path, from the cache if the file
// has not changed since it was loaded. The file is read outside the lock;
// two Players missing the same file at once both read it.
func (c *ClipCache) Load(path string) (*audio.Clip, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if el, ok := c.byKey[path]; ok {
		e := el.Value.(*cacheEntry)
		if e.modTime.Equal(fi.ModTime()) && e.fsize == fi.Size() {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.clip, nil
		}
	}
	c.mu.Unlock()

	clip, err := audio.LoadWAV(path)
	if err != nil {
		return nil, err
	}
	c.put(&cacheEntry{path: path, modTime: fi.ModTime(), fsize: fi.Size(), clip: clip, bytes: 2 * int64(len(clip.Samples))})
	return clip, nil
}

// put adds or replaces an entry and evicts the least recently used ones
// beyond the bound.
func (c *ClipCache) put(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.path]; ok {
		c.removeLocked(el)
	}
	if e.bytes > c.max {
		return
	}
	c.byKey[e.path] = c.lru.PushFront(e)
	c.size += e.bytes
	for c.size > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *ClipCache) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.byKey, e.path)
	c.size -= e.bytes
}

// Len returns how many clips the cache holds.
func (c *ClipCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes returns the size of the samples the cache holds.
func (c *ClipCache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
