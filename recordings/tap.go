package recordings

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// feedTick is how often a Feed fills silence from the clock when no frame
// comes.
const feedTick = 100 * time.Millisecond

// Source is the audio of one channel: one direction of a leg's tap. A
// zero Source (nil Point) is silence.
type Source struct {
	Point *tap.Point
	Dir   tap.Direction
}

// Feed feeds a Writer from taps: it subscribes to a left and a right
// Source, aligns their frames on the recording's timeline (see aligner:
// missing audio is silence, a late side is waited for up to
// Options.Window) and writes each slot. It owns the Writer from then on:
// it closes it when it ends — on Stop, when ctx is done, or when both
// subscriptions close (the legs' Points were closed at teardown).
type Feed struct {
	w        *Writer
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	// Set by the goroutine before done is closed.
	res Result
	err error
}

// Start creates the recording of call callID in dir and feeds it from
// p, the tap of the customer's leg: left is what the customer says
// (tap.In), right what they hear (tap.Out: the agent, and prompts or
// music before). It is the whole wiring of a recorded call; ctx is the
// call's (the file is finalised when it ends, or on Stop). Pause and
// Resume through Writer().
func Start(ctx context.Context, dir, callID string, p *tap.Point, o Options) (*Feed, error) {
	// The writer outlives ctx: the Feed closes it after writing the last
	// frames.
	w, err := Create(context.WithoutCancel(ctx), dir, callID, o)
	if err != nil {
		return nil, err
	}
	return FromTap(ctx, w, p), nil
}

// FromTap feeds w from both directions of one leg's tap: left is
// tap.In (what the leg's party says), right tap.Out (what it hears).
// Record the customer's leg this way for customer left, agent right.
func FromTap(ctx context.Context, w *Writer, p *tap.Point) *Feed {
	return FromSources(ctx, w, Source{Point: p, Dir: tap.In}, Source{Point: p, Dir: tap.Out})
}

// FromSources feeds w from two sources, e.g. tap.In of the customer's leg
// (left) and tap.In of the agent's (right). It subscribes at once (frames
// published before are not recorded) and runs until Stop, ctx is done or
// both subscriptions close; then it writes what is buffered and closes w.
// w's Options give the window, subscription depth and clock.
func FromSources(ctx context.Context, w *Writer, l, r Source) *Feed {
	f := &Feed{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	var subs [2]*tap.Subscription
	for i, s := range [2]Source{l, r} {
		if s.Point != nil {
			subs[i] = s.Point.Subscribe(w.o.TapDepth, s.Dir)
		}
	}
	go f.run(ctx, subs)
	return f
}

// Writer returns the recording's writer, for Pause, Resume and Stats.
func (f *Feed) Writer() *Writer { return f.w }

// Done is closed when the feed has ended and the file is finalised.
func (f *Feed) Done() <-chan struct{} { return f.done }

// Stop ends the feed: it writes what it has buffered, closes the writer
// and returns its result, with Lost set. It is idempotent, and returns
// the same after the feed ended by itself.
func (f *Feed) Stop() (Result, error) {
	f.stopOnce.Do(func() { close(f.stop) })
	<-f.done
	return f.res, f.err
}

// run is the feed's goroutine.
func (f *Feed) run(ctx context.Context, subs [2]*tap.Subscription) {
	defer close(f.done)
	a := newAligner(f.w.Start(), f.w.o.Window, func(l, r *audio.Frame) { f.w.WriteFrame(l, r) })
	var chs [2]<-chan tap.Frame
	for i, s := range subs {
		if s == nil {
			a.end(i)
		} else {
			chs[i] = s.C()
		}
	}
	var rest []sideFrame
	f.loop(ctx, a, &chs, &rest)

	// Frames still queued are written too: close the subscriptions, read
	// what they hold, and place it in time order.
	for i, s := range subs {
		if s == nil {
			continue
		}
		s.Close()
		if chs[i] != nil {
			for fr := range chs[i] {
				rest = append(rest, sideFrame{i, fr})
			}
		}
	}
	slices.SortStableFunc(rest, func(x, y sideFrame) int { return x.f.At.Compare(y.f.At) })
	for i := range rest {
		a.put(rest[i].side, &rest[i].f)
	}
	a.flush()
	var tapDropped uint64
	for _, s := range subs {
		if s != nil {
			tapDropped += s.Dropped()
		}
	}
	f.res, f.err = f.w.Close()
	f.res.Lost = a.lost + int64(tapDropped)
}

// sideFrame is a frame and the side it is for.
type sideFrame struct {
	side int
	f    tap.Frame
}

// loop reads the subscriptions until both close, ctx is done or Stop.
// When both sides have frames waiting, the older goes first, so that a
// backlog on both does not run one side ahead of the other. It sets a
// channel to nil when its subscription has closed, and adds the frames it
// took but did not place to rest.
func (f *Feed) loop(ctx context.Context, a *aligner, chs *[2]<-chan tap.Frame, rest *[]sideFrame) {
	tick := time.NewTicker(feedTick)
	defer tick.Stop()
	var pend [2]tap.Frame
	var has [2]bool
	tickDue := false
	defer func() { // the oldest frame of each side, taken but not placed
		for i := range has {
			if has[i] {
				*rest = append(*rest, sideFrame{i, pend[i]})
			}
		}
	}()
	take := func(i int, fr tap.Frame, ok bool) {
		if !ok {
			chs[i] = nil
			a.end(i)
			return
		}
		pend[i], has[i] = fr, true
	}
	for chs[left] != nil || chs[right] != nil || has[left] || has[right] {
		select {
		case <-ctx.Done():
			return
		case <-f.stop:
			return
		default:
		}
		for i := range chs {
			if !has[i] && chs[i] != nil {
				select {
				case fr, ok := <-chs[i]:
					take(i, fr, ok)
				default:
				}
			}
		}
		if has[left] || has[right] {
			i := left
			if !has[left] || has[right] && pend[right].At.Before(pend[left].At) {
				i = right
			}
			a.put(i, &pend[i])
			has[i] = false
			continue
		}
		if tickDue {
			// Only now that nothing is queued: a slot the clock has left
			// behind by the margin will get no frame.
			a.advance(f.w.o.Now())
			tickDue = false
		}
		select {
		case fr, ok := <-chs[left]:
			take(left, fr, ok)
		case fr, ok := <-chs[right]:
			take(right, fr, ok)
		case <-tick.C:
			// The subscriptions may have filled meanwhile (select
			// chooses at random): read them before advancing.
			tickDue = true
		case <-ctx.Done():
			return
		case <-f.stop:
			return
		}
	}
}
