package prompt

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// Config is what a Player needs; only Region matters for tones, the rest is
// optional.
type Config struct {
	// Region selects the call-progress tones (audio.Tones), e.g. "us"; an
	// unknown region gets audio.DefaultToneRegion's tones (config
	// validation should refuse it with audio.Tones).
	Region string
	// Speaker synthesises text items; nil means text items are errors.
	Speaker Speaker
	// Logger receives the Player's few log lines; nil discards them.
	Logger *slog.Logger
	// ClipCache, shared between Players, keeps loaded WAV files; nil loads
	// every file on every Start.
	ClipCache *ClipCache
	// MOHShuffle plays each round of music on hold in random order instead
	// of file-name order.
	MOHShuffle bool
	// MOHFallback is played while the music folder has no playable file;
	// nil means a soft 440 Hz beep every 5 s, &audio.ToneSpec{} silence.
	MOHFallback *audio.ToneSpec
	// MOHRetry is how often an empty music folder is listed again; 0 means
	// 5 s.
	MOHRetry time.Duration
}

// defaultMOHFallback tells a caller on hold that the line is still alive
// while there is no music to play.
var defaultMOHFallback = audio.ToneSpec{
	Freqs:   []float64{440},
	Level:   -24,
	Cadence: []time.Duration{200 * time.Millisecond, 4800 * time.Millisecond},
}

const defaultMOHRetry = 5 * time.Second

// Result is how a started prompt ended.
type Result struct {
	// Completed is true if every item played to its end, false if the
	// prompt was stopped, barged in, replaced or its context ended.
	Completed bool
	// Played is how much audio was produced, in whole frames.
	Played time.Duration
	// Err is nil when the prompt completed or was stopped; ErrReplaced when
	// another Start replaced it; the context's cause when the context
	// given to Start ended during play.
	Err error
}

// Player plays prompts and music on hold to one leg, one 20 ms frame per
// call of Next. Start, StartMOH, Stop and BargeIn may be called from any
// goroutine while the leg's media goroutine calls Next.
type Player struct {
	tones   audio.ToneSet
	speaker Speaker
	log     *slog.Logger
	cache   *ClipCache
	moh     mohConfig

	mu   sync.Mutex
	cur  *playback   // what Next plays; nil when idle
	last chan Result // Done of the prompt started last
	gen  uint64      // counts Start, StartMOH and Stop calls
}

// playback is one started prompt or music on hold.
type playback struct {
	segs    []segment
	loop    bool
	bargeIn bool
	seg     int   // index in segs of the frame Next produces next
	pos     int   // frame within segs[seg]
	played  int64 // frames produced
	moh     *moh  // non-nil for music on hold (segs is then empty)
	done    chan Result
	stopCtx func() bool // unregisters the context.AfterFunc of Start
}

// NewPlayer returns an idle Player.
func NewPlayer(cfg Config) *Player {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fallback := defaultMOHFallback
	if cfg.MOHFallback != nil {
		fallback = *cfg.MOHFallback
	}
	retry := cfg.MOHRetry
	if retry <= 0 {
		retry = defaultMOHRetry
	}
	tones, _ := audio.Tones(cfg.Region)
	idle := make(chan Result)
	close(idle)
	return &Player{
		tones:   tones,
		speaker: cfg.Speaker,
		log:     log,
		cache:   cfg.ClipCache,
		moh:     mohConfig{shuffle: cfg.MOHShuffle, fallback: fallback, retry: retry},
		last:    idle,
	}
}

// Start prepares pr and makes it what Next plays, replacing whatever was
// playing (that prompt ends with ErrReplaced). Every file is loaded and
// every text synthesised before Start returns, so a slow synthesis delays
// the start rather than stuttering mid-prompt; an item that cannot be
// prepared is an *ItemError (ErrPromptItem) and nothing is played. If Stop
// or another Start is called while Start prepares, Start returns
// ErrStopped and plays nothing. ctx bounds the preparation and the
// playing: when it ends, the prompt stops with the context's cause as
// Result.Err.
func (p *Player) Start(ctx context.Context, pr Prompt) error {
	if len(pr.Items) == 0 {
		return ErrEmptyPrompt
	}
	gen := p.bump()
	segs, err := p.prepare(ctx, pr.Items, true)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("prompt: start: %w", context.Cause(ctx))
	}
	if len(segs) == 0 && pr.Loop {
		return fmt.Errorf("%w: loop over items of no length", ErrEmptyPrompt)
	}
	pb := &playback{segs: segs, loop: pr.Loop, bargeIn: pr.BargeIn, done: make(chan Result, 1)}

	p.mu.Lock()
	if p.gen != gen {
		p.mu.Unlock()
		return ErrStopped
	}
	old := p.cur
	if old != nil {
		p.finishLocked(old, false, ErrReplaced)
	}
	p.last = pb.done
	if len(segs) == 0 {
		p.finishLocked(pb, true, nil) // nothing to play: done at once
	} else {
		p.cur = pb
		if ctx.Done() != nil {
			pb.stopCtx = context.AfterFunc(ctx, func() { p.cancel(pb, context.Cause(ctx)) })
		}
	}
	p.mu.Unlock()

	if old != nil && old.moh != nil {
		old.moh.close()
	}
	return nil
}

// Next fills out with the next 20 ms to play, or silence when idle, and
// reports whether it played something. It never blocks on I/O and does not
// allocate. The prompt's Result is sent on Done right after its last frame.
func (p *Player) Next(out *audio.Frame) (playing bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pb := p.cur
	if pb == nil {
		clear(out[:])
		return false
	}
	pb.played++
	if pb.moh != nil {
		pb.moh.next(out)
		return true
	}
	s := &pb.segs[pb.seg]
	s.fill(pb.pos, out)
	pb.pos++
	if pb.pos == s.frames {
		pb.pos = 0
		pb.seg++
		if pb.seg == len(pb.segs) {
			pb.seg = 0
			if !pb.loop {
				p.finishLocked(pb, true, nil)
			}
		}
	}
	return true
}

// Stop stops what is playing (hangup, or a barge-in decided by the
// caller), and what a concurrent Start or StartMOH is preparing; the
// Result has Completed false. Stopping an idle Player does nothing. Stop
// waits for the music-on-hold loader to end.
func (p *Player) Stop() {
	p.mu.Lock()
	p.gen++
	pb := p.cur
	if pb != nil {
		p.finishLocked(pb, false, nil)
	}
	p.mu.Unlock()
	if pb != nil && pb.moh != nil {
		pb.moh.close()
	}
}

// BargeIn stops the current prompt if it allows barge-in (Prompt.BargeIn)
// and reports whether it did; the leg calls it when its party presses a
// digit. Music on hold does not stop.
func (p *Player) BargeIn() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pb := p.cur
	if pb == nil || !pb.bargeIn {
		return false
	}
	p.finishLocked(pb, false, nil)
	return true
}

// Done returns the channel on which the prompt (or music on hold) started
// last reports its Result, once; the channel is closed after it. Before
// the first Start it returns a closed channel.
func (p *Player) Done() <-chan Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// Playing reports whether Next is producing a prompt or music.
func (p *Player) Playing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur != nil
}

// PromptDuration returns how long one pass of pr plays (a looping prompt
// plays it again and again). Files are read (through the ClipCache, if
// any); a text item is an error wrapping ErrDurationUnknown, since only its
// synthesis tells.
func (p *Player) PromptDuration(pr Prompt) (time.Duration, error) {
	segs, err := p.prepare(context.Background(), pr.Items, false)
	if err != nil {
		return 0, err
	}
	var n int
	for _, s := range segs {
		n += s.frames
	}
	return time.Duration(n) * audio.FrameDuration, nil
}

// bump starts a Start or StartMOH: it returns the generation that must
// still be current when the prepared prompt is published.
func (p *Player) bump() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	return p.gen
}

// cancel stops pb, if it is still playing, because its context ended.
func (p *Player) cancel(pb *playback, cause error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == pb {
		p.finishLocked(pb, false, cause)
	}
}

// finishLocked ends pb and reports its Result. It does not wait for a
// music loader: callers close pb.moh after unlocking.
func (p *Player) finishLocked(pb *playback, completed bool, err error) {
	if p.cur == pb {
		p.cur = nil
	}
	if pb.stopCtx != nil {
		pb.stopCtx()
	}
	pb.done <- Result{Completed: completed, Played: time.Duration(pb.played) * audio.FrameDuration, Err: err}
	close(pb.done)
}
