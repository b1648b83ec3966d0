package prompt

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// mohConfig is the music-on-hold part of Config.
type mohConfig struct {
	shuffle  bool
	fallback audio.ToneSpec
	retry    time.Duration
}

// moh is music on hold: every WAV file of a folder in name order (or
// shuffled), round after round, forever. The folder is listed again at the
// start of each round, so files an admin adds are played without a
// restart. A loader goroutine reads the next file while the current one
// plays and hands it over on an unbuffered channel; Next takes it without
// blocking when the current file ends. While the folder has no playable
// file, Next plays the fallback tone and the loader lists the folder again
// every retry interval.
type moh struct {
	dir  string
	cfg  mohConfig
	log  *slog.Logger
	load func(path string) (*audio.Clip, error)

	clips chan *audio.Clip // next file; nil: nothing playable
	quit  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once

	// Loader state, owned by the loader goroutine.
	empty  bool            // the folder had nothing playable last time
	warned map[string]bool // files already logged as unplayable

	// Player state, guarded by Player.mu.
	cur      *audio.Clip
	pos, n   int
	fallback bool
	tone     *audio.ToneGen
}

// StartMOH plays the music-on-hold folder dir until Stop or the next Start,
// replacing whatever was playing. The folder is listed and its first
// playable file loaded before StartMOH returns; an unreadable folder is an
// error wrapping ErrMOH, and a Stop or Start meanwhile makes it return
// ErrStopped. A folder that does not exist or holds no playable file is
// not an error: the fallback of Config.MOHFallback plays until files
// appear.
func (p *Player) StartMOH(dir string) error {
	gen := p.bump()
	m := &moh{
		dir:    dir,
		cfg:    p.moh,
		log:    p.log.With("moh_dir", dir),
		load:   p.loadWAV,
		clips:  make(chan *audio.Clip),
		quit:   make(chan struct{}),
		warned: make(map[string]bool),
		tone:   audio.NewTone(p.moh.fallback),
	}
	names, err := m.list()
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return fmt.Errorf("%w %q: %w", ErrMOH, dir, err)
	}
	played := 0
	for len(names) > 0 && m.cur == nil {
		m.cur = m.loadOne(names[0])
		names = names[1:]
	}
	switch {
	case m.cur != nil:
		m.n, played = m.cur.Frames(), 1
	case missing:
		// Like an empty folder; the switch warns about it once at start-up.
		m.fallback, m.empty = true, true
		m.log.Debug("moh_folder_missing")
	default:
		m.fallback, m.empty = true, true
		m.log.Warn("moh_no_playable_file")
	}
	pb := &playback{moh: m, done: make(chan Result, 1)}
	p.mu.Lock()
	if p.gen != gen {
		p.mu.Unlock()
		return ErrStopped
	}
	// Started under the lock, so that a Stop right after the unlock finds
	// a loader to wait for.
	m.wg.Add(1)
	go m.run(names, played)
	old := p.cur
	if old != nil {
		p.finishLocked(old, false, ErrReplaced)
	}
	p.cur, p.last = pb, pb.done
	p.mu.Unlock()
	if old != nil && old.moh != nil {
		old.moh.close()
	}
	return nil
}

// next fills out with the next frame of music (called by Player.Next under
// its lock). When a file ends it takes the next one if the loader has it
// ready, else it plays the fallback (no file) or silence (loader late).
func (m *moh) next(out *audio.Frame) {
	if m.cur != nil && m.pos < m.n {
		m.cur.Frame(m.pos, out)
		m.pos++
		return
	}
	select {
	case c := <-m.clips:
		if c != nil {
			m.cur, m.pos, m.n, m.fallback = c, 1, c.Frames(), false
			c.Frame(0, out)
			return
		}
		m.cur, m.fallback = nil, true
		m.tone.Reset()
	default:
	}
	if m.fallback {
		m.tone.Next(out)
		return
	}
	clear(out[:])
}

// run is the loader loop: it finishes the round of names, then lists the
// folder for the next round, and so on until close.
func (m *moh) run(names []string, played int) {
	defer m.wg.Done()
	var listErr error
	for {
		if !m.round(names, played, listErr) {
			return
		}
		names, listErr = m.list()
		played = 0
	}
}

// round hands the playable files of names to Next one by one; if none was
// playable (played counts files handed over before), it switches Next to
// the fallback and waits the retry interval. listErr is why the folder
// could not be listed, if it could not. It returns false on close.
func (m *moh) round(names []string, played int, listErr error) bool {
	for _, name := range names {
		c := m.loadOne(name)
		if c == nil {
			continue
		}
		if !m.send(c) {
			return false
		}
		played++
		m.empty = false
	}
	if played > 0 {
		return true
	}
	if !m.empty {
		m.empty = true
		if listErr != nil {
			m.log.Warn("moh_no_playable_file", "error", listErr)
		} else {
			m.log.Warn("moh_no_playable_file")
		}
		if !m.send(nil) {
			return false
		}
	}
	t := time.NewTimer(m.cfg.retry)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-m.quit:
		return false
	}
}

// send hands c to Next, waiting until Next takes it; false on close.
func (m *moh) send(c *audio.Clip) bool {
	select {
	case m.clips <- c:
		return true
	case <-m.quit:
		return false
	}
}

// list returns the WAV files of the folder for one round: regular,
// non-hidden files named *.wav (any case), in name order or shuffled.
func (m *moh) list() ([]string, error) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !strings.EqualFold(filepath.Ext(n), ".wav") {
			continue
		}
		names = append(names, n)
	}
	if m.cfg.shuffle {
		rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	}
	return names, nil
}

// loadOne loads a file of the folder, or returns nil (logged once per
// file) if it cannot be played.
func (m *moh) loadOne(name string) *audio.Clip {
	c, err := m.load(filepath.Join(m.dir, name))
	if err == nil && c.Frames() == 0 {
		err = ErrEmptyPrompt
	}
	if err != nil {
		if !m.warned[name] {
			m.warned[name] = true
			m.log.Warn("moh_file_skipped", "file", name, "error", err)
		}
		return nil
	}
	return c
}

// close stops the loader and waits for it; idempotent.
func (m *moh) close() {
	m.once.Do(func() {
		close(m.quit)
		m.wg.Wait()
	})
}
