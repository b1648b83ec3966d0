package mixer

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// Participant is one party of a Mixer: a call leg in a conference, or a
// supervisor. Its leg feeds what the party says with Write (or Feed) and
// plays what the party hears with Next, which makes a Participant the
// media.FrameSource of the leg's Endpoint. Every method is safe for
// concurrent use.
type Participant struct {
	m  *Mixer
	id string

	// control state, guarded by m.mu
	member, leaving bool
	muted, deaf     bool
	mode            Mode
	agent           *Participant

	inMu sync.Mutex
	in   frameQueue

	outMu  sync.Mutex
	out    frameQueue
	primed bool // the output cushion is filled (Config.Cushion)

	gone atomic.Bool   // removed from the mixer
	done chan struct{} // closed when removed

	st stepState // owned by Step (m.stepMu)

	inFrames, inDropped, inUnderruns    atomic.Uint64
	outFrames, outDropped, outUnderruns atomic.Uint64
}

// stepState is a participant as Step sees it.
type stepState struct {
	muted, deaf, leaving bool // control flags as of the last sync
	talk, hear           bool // gain (0 or 1) at the end of the last frame: what is heard, what it hears
	active               bool // cur holds a non-zero contribution this frame
	prevIdx              int  // index in the plan before (-1: not in it)
	cur                  audio.Frame
	plan                 listenerPlan
}

func newParticipant(m *Mixer, id string) *Participant {
	return &Participant{
		m:    m,
		id:   id,
		in:   frameQueue{buf: make([]audio.Frame, m.inDepth)},
		out:  frameQueue{buf: make([]audio.Frame, m.outDepth)},
		done: make(chan struct{}),
		st:   stepState{prevIdx: -1},
	}
}

// ID returns the name the participant joined with.
func (p *Participant) ID() string { return p.id }

// Write queues one frame of what the party says, for the next Step. It
// never blocks: when the input queue is full (the mixer is behind), the
// oldest queued frame is dropped and counted. Call it from the leg's
// receive path once per 20 ms; a Step that finds the queue empty mixes
// silence for the party. After the participant has left, Write does
// nothing.
func (p *Participant) Write(f *audio.Frame) {
	if p.gone.Load() {
		return
	}
	p.inMu.Lock()
	dropped := p.in.push(f)
	p.inMu.Unlock()
	p.inFrames.Add(1)
	if dropped {
		p.inDropped.Add(1)
	}
}

// Feed writes the frames a leg's tap publishes in direction tap.In (what
// the party says) until ctx ends, sub's channel closes or the participant
// has left. It blocks, so run it on a goroutine that the leg owns:
//
//	pt := tap.NewPoint() // the leg's media.EndpointConfig.Tap
//	sub := pt.Subscribe(4, tap.In)
//	defer sub.Close()
//	go p.Feed(ctx, sub) // ctx: the leg's context
//
// A subscribed tap makes the Endpoint decode what it receives and publish
// one frame per 20 ms tick, after its jitter buffer (silence or
// concealment when packets are missing). Feed does not close sub.
func (p *Participant) Feed(ctx context.Context, sub *tap.Subscription) {
	c := sub.C()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.done:
			return
		case f, ok := <-c:
			if !ok {
				return
			}
			if f.Dir == tap.In {
				p.Write(&f.Audio)
			}
		}
	}
}

// Next copies the next mixed frame, what the party hears, into out and
// reports true; with no frame ready (the mixer not running, or behind)
// out is silence and Next reports false. It never blocks, so a
// Participant is the media.FrameSource of its leg's Endpoint. After the
// participant has left, Next plays out the frames still queued (the last
// one faded out) and then reports false.
func (p *Participant) Next(out *audio.Frame) bool {
	p.outMu.Lock()
	if p.m.cushion > 0 && !p.primed && p.out.n <= p.m.cushion && !p.gone.Load() {
		// Filling the cushion (Config.Cushion): silence meanwhile.
		p.outMu.Unlock()
		clear(out[:])
		return false
	}
	ok := p.out.pop(out)
	p.primed = ok
	p.outMu.Unlock()
	if !ok && !p.gone.Load() {
		p.outUnderruns.Add(1)
	}
	return ok
}

// SetMuted mutes (the others stop hearing the party, faded over the next
// frame) or unmutes the participant.
func (p *Participant) SetMuted(on bool) {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.member && p.muted != on {
		p.muted = on
		m.version++
	}
}

// SetDeaf makes the participant hear silence (faded over the next frame),
// or everyone it hears again.
func (p *Participant) SetDeaf(on bool) {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.member && p.deaf != on {
		p.deaf = on
		m.version++
	}
}

// Supervise makes the participant a supervisor of agent in mode, or
// switches the mode of a supervisor during the session (faded over the
// next frame):
//
//   - Listen: the supervisor hears everyone; nobody hears the supervisor.
//   - Whisper: the supervisor hears everyone; only agent hears the
//     supervisor.
//   - Barge: everyone hears everyone (a three-way call).
//
// agent may be nil for Listen and Barge. It fails with ErrMode for a bad
// mode or Whisper without an agent, ErrNotMember if agent is not another
// participant of the same mixer or the participant has left.
func (p *Participant) Supervise(agent *Participant, mode Mode) error {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if !p.member {
		return ErrNotMember
	}
	if err := m.checkSupervise(p, agent, mode); err != nil {
		return err
	}
	if p.mode != mode || p.agent != agent {
		p.mode, p.agent = mode, agent
		m.version++
	}
	return nil
}

// Leave takes the participant out of the mixer: at the next Step its
// voice and what it hears fade out over one frame, then it is removed and
// Done closes. Idempotent.
func (p *Participant) Leave() {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.member && !p.leaving {
		p.leaving = true
		m.version++
	}
}

// Done is closed once the participant has been removed from the mixer
// (after Leave and its fade-out frame, or by Mixer.Close).
func (p *Participant) Done() <-chan struct{} { return p.done }

// end marks the participant removed.
func (p *Participant) end() {
	if p.gone.CompareAndSwap(false, true) {
		close(p.done)
	}
}

// ParticipantStats counts one participant's frames.
type ParticipantStats struct {
	// InFrames is the number of frames written; InDropped those dropped
	// because the input queue was full; InUnderruns the Steps that found
	// it empty and mixed silence for the party.
	InFrames, InDropped, InUnderruns uint64
	// OutFrames is the number of frames mixed for the party; OutDropped
	// those dropped because nobody read them in time; OutUnderruns the
	// calls of Next that found no frame ready.
	OutFrames, OutDropped, OutUnderruns uint64
}

// Stats returns the participant's counters.
func (p *Participant) Stats() ParticipantStats {
	return ParticipantStats{
		InFrames: p.inFrames.Load(), InDropped: p.inDropped.Load(), InUnderruns: p.inUnderruns.Load(),
		OutFrames: p.outFrames.Load(), OutDropped: p.outDropped.Load(), OutUnderruns: p.outUnderruns.Load(),
	}
}

// popInput takes the party's next input frame into out (silence, counted,
// when there is none) and reports whether there was one.
func (p *Participant) popInput(out *audio.Frame) bool {
	p.inMu.Lock()
	ok := p.in.pop(out)
	p.inMu.Unlock()
	if !ok {
		p.inUnderruns.Add(1)
	}
	return ok
}

// pushOutput queues one mixed frame for Next.
func (p *Participant) pushOutput(f *audio.Frame) {
	p.outMu.Lock()
	dropped := p.out.push(f)
	p.outMu.Unlock()
	p.outFrames.Add(1)
	if dropped {
		p.outDropped.Add(1)
	}
}

// frameQueue is a ring of frames that drops its oldest frame when full.
type frameQueue struct {
	buf     []audio.Frame
	head, n int
}

// push appends f, dropping the oldest frame if the queue is full; it
// reports whether it dropped one.
func (q *frameQueue) push(f *audio.Frame) (dropped bool) {
	if q.n == len(q.buf) {
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		dropped = true
	}
	q.buf[(q.head+q.n)%len(q.buf)] = *f
	q.n++
	return dropped
}

// pop moves the oldest frame into out, or clears out and reports false.
func (q *frameQueue) pop(out *audio.Frame) bool {
	if q.n == 0 {
		clear(out[:])
		return false
	}
	*out = q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return true
}
