package prompt

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestClipCache keeps clips while their files are unchanged, reloads
// changed files and stays within its bound.
func TestClipCache(t *testing.T) {
	dir := t.TempDir()
	a := wavFile(t, dir, "a.wav", ramp(800, 0)) // 1600 bytes of samples
	b := wavFile(t, dir, "b.wav", ramp(800, 1))
	c := wavFile(t, dir, "c.wav", ramp(800, 2))
	big := wavFile(t, dir, "big.wav", ramp(4000, 3))
	cache := NewClipCache(3500) // two clips

	c1, err := cache.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := cache.Load(a); c2 != c1 {
		t.Fatal("unchanged file loaded again")
	}
	writeWAV(t, a, ramp(800, 9))
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(a, old, old); err != nil {
		t.Fatal(err)
	}
	c3, err := cache.Load(a)
	if err != nil || c3 == c1 || c3.Samples[0] != 9 {
		t.Fatalf("changed file not reloaded: %v", err)
	}
	if cache.Len() != 1 || cache.Bytes() != 1600 {
		t.Fatalf("Len %d Bytes %d", cache.Len(), cache.Bytes())
	}
	for _, p := range []string{b, c} {
		if _, err := cache.Load(p); err != nil {
			t.Fatal(err)
		}
	}
	if cache.Len() != 2 || cache.Bytes() != 3200 {
		t.Fatalf("after three files: Len %d Bytes %d", cache.Len(), cache.Bytes())
	}
	if c4, _ := cache.Load(a); c4 == c3 {
		t.Fatal("least recently used clip not evicted")
	}
	if _, err := cache.Load(big); err != nil || cache.Len() != 2 {
		t.Fatalf("clip larger than the cache: %v, Len %d", err, cache.Len())
	}
	if _, err := cache.Load(filepath.Join(dir, "none.wav")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
