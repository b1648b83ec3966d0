package recordings

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// Defaults of Options.
const (
	// DefaultHeaderInterval is how often the header's sizes are rewritten
	// and the file fsynced: the most audio a crash loses.
	DefaultHeaderInterval = 5 * time.Second
	// DefaultQueue is the audio the writer's queue holds while the disk
	// is slow, before frames are dropped (written as silence).
	DefaultQueue = 10 * time.Second
	// DefaultWindow is how long a Feed waits for the other direction's
	// frame of a slot before writing silence for it.
	DefaultWindow = 200 * time.Millisecond
	// DefaultTapDepth is the queue, in frames, of each tap subscription a
	// Feed makes: two seconds.
	DefaultTapDepth = 100
)

// Options tune a recording: its Writer and, for FromTap, its Feed. The
// zero value gives the defaults.
type Options struct {
	// Format is Stereo (default) or Mono.
	Format Format
	// HeaderInterval is how often the header is rewritten with the sizes
	// written so far, and the file fsynced. Default DefaultHeaderInterval.
	HeaderInterval time.Duration
	// Queue bounds the writer's queue, in audio. Default DefaultQueue.
	Queue time.Duration
	// Window is the Feed's alignment window. Default DefaultWindow.
	Window time.Duration
	// TapDepth is the queue length of the Feed's tap subscriptions, in
	// frames. Default DefaultTapDepth.
	TapDepth int
	// Start is the time of the timeline's first slot, on the clock of the
	// taps' Frame.At (the media clock). Default Now().
	Start time.Time
	// Now is the clock Start, pauses, header rewrites and the Feed's
	// silence fill read. Default time.Now.
	Now func() time.Time
	// Logger receives the recording's problems. Default: discard.
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	if o.Format == 0 {
		o.Format = Stereo
	}
	if o.Format.Channels() == 0 {
		return o, fmt.Errorf("%w: format %d", ErrBadArgument, o.Format)
	}
	if o.HeaderInterval <= 0 {
		o.HeaderInterval = DefaultHeaderInterval
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.TapDepth <= 0 {
		o.TapDepth = DefaultTapDepth
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Start.IsZero() {
		o.Start = o.Now()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// slots is d in whole frames, at least 1.
func slots(d time.Duration) int {
	return max(1, int((d+audio.FrameDuration-1)/audio.FrameDuration))
}
