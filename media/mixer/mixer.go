// Package mixer is switchd's in-process N-party audio mixer: conferences,
// and a supervisor listening to, whispering to or barging into an agent's
// call.
//
// Audio is the internal format of package audio: 20 ms frames of 8 kHz
// 16-bit linear PCM. Each Participant has a short input queue, fed from
// its leg's receive path with Write (or Feed, from a leg's tap), and a
// short output queue that its leg's Endpoint reads with Next: a
// Participant is a media.FrameSource. The Mixer's Step mixes one frame
// for everyone: each participant hears the sum of the participants it
// hears, never itself, with saturating arithmetic (a sum beyond the int16
// range clips at 32767 or −32768 instead of wrapping). Run calls Step
// every 20 ms on a drift-free schedule; tests call Step directly.
//
// By default everyone hears everyone else, computed as the total of all
// contributions minus one's own (O(N) for N participants).
// A participant can be muted (contributes nothing) or deaf (hears
// silence); a supervisor's Mode (Listen, Whisper, Barge) says who hears
// the supervisor; Mixer.SetHears overrides any single pair. Listeners
// that do not hear everyone get their own sum, taken from whichever is
// shorter: the list of speakers they hear, or the list they do not hear
// subtracted from the total.
//
// Nothing clicks: a participant who joins fades in over its first frame,
// one who leaves fades out over its last, and muting, deafening and every
// change of who hears whom fade over one frame too. The others get a
// frame at every Step regardless.
//
// Join, Leave and every setting may be called from any goroutine while
// Run steps the mixer; Write and Next are called by the legs' media
// goroutines. No lock is held while mixing except the mixer's own step
// lock, and Write and Next only take the participant's queue locks, so a
// leg's media path never waits for a mix.
package mixer

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// DefaultDepth is the length, in frames, of a participant's input and
// output queues when Config leaves it zero: 60 ms at most of added
// latency each way, enough to absorb the phase between the legs' clocks
// and the mixer's.
const DefaultDepth = 3

// maxCatchUp is how many frames Run mixes back to back when it wakes up
// late; beyond this the input queues have overflowed anyway and the
// missed frames are skipped.
const maxCatchUp = DefaultDepth

// Config is how a Mixer is built; the zero value is usable.
type Config struct {
	// Logger receives the mixer's few log lines (joins, leaves, a
	// schedule that fell behind); nil discards them. Give it the
	// conference's attributes, e.g. log.With("conference_id", id).
	Logger *slog.Logger
	// InputDepth is the length of each participant's input queue in
	// frames; when it is full, Write drops the oldest frame so latency
	// stays bounded. 0 means DefaultDepth.
	InputDepth int
	// OutputDepth is the length of each participant's output queue in
	// frames, with the same policy. 0 means DefaultDepth.
	OutputDepth int
	// Cushion is how many frames a participant's output queue holds
	// before Next starts taking from it, and again after it ran dry: the
	// mixer's clock and each leg's endpoint clock tick at the same rate in
	// any phase, and without a cushion a leg now and then finds its queue
	// empty for a tick and sends a frame of silence. One frame (20 ms of
	// latency) absorbs the phase; 0, the default, none (tests drive Step
	// and Next in lock-step). At most OutputDepth − 1.
	Cushion int
}

// Mixer mixes its participants' audio, one 20 ms frame per Step. Use New.
type Mixer struct {
	log               *slog.Logger
	inDepth, outDepth int
	cushion           int

	mu        sync.Mutex // guards the control state below; never held while mixing
	members   []*Participant
	overrides map[pair]bool // SetHears
	version   uint64        // counts changes of members, flags, modes and overrides
	closed    bool
	closedCh  chan struct{}

	running atomic.Bool

	// stepMu serialises Step and Close; it guards the step state below
	// and every Participant's st.
	stepMu     sync.Mutex
	seen       uint64         // version the step state was built from
	replanNext bool           // pairs faded this frame: plan again without the fades
	parts      []*Participant // the participants being mixed, in plan order
	hears      []bool         // len(parts)² matrix of the last plan: [listener*n+speaker]
	prevHears  []bool         // the plan before, indexed by st.prevIdx
	prevN      int            // len(parts) of prevHears
	total      [audio.FrameSamples]int32
	acc        [audio.FrameSamples]int32
	out        audio.Frame

	frames, skipped atomic.Uint64
}

// pair is a listener and a speaker.
type pair struct{ listener, speaker *Participant }

// New returns a Mixer with no participant.
func New(cfg Config) *Mixer {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Mixer{
		log:      log,
		inDepth:  cfg.InputDepth,
		outDepth: cfg.OutputDepth,
		closedCh: make(chan struct{}),
	}
	if m.inDepth <= 0 {
		m.inDepth = DefaultDepth
	}
	if m.outDepth <= 0 {
		m.outDepth = DefaultDepth
	}
	m.cushion = min(max(cfg.Cushion, 0), m.outDepth-1)
	return m
}

// JoinConfig is how a participant enters the mixer. The zero value is an
// ordinary conference participant.
type JoinConfig struct {
	// Muted joins muted (see Participant.SetMuted).
	Muted bool
	// Deaf joins deaf (see Participant.SetDeaf).
	Deaf bool
	// Mode, when not zero, makes the participant a supervisor of Agent in
	// that mode from its first frame, so that a supervisor who joins to
	// listen is never heard, not even for one frame. A non-nil Agent with
	// a zero Mode means Listen.
	Mode Mode
	// Agent is the participant a supervisor coaches (heard in Whisper).
	Agent *Participant
}

// Join adds a participant, named id in logs, that starts being mixed at
// the next Step (faded in over that frame). It fails with ErrClosed on a
// closed mixer, ErrNotMember if jc.Agent is not a participant, ErrMode for
// a bad mode.
func (m *Mixer) Join(id string, jc JoinConfig) (*Participant, error) {
	p := newParticipant(m, id)
	mode := jc.Mode
	if mode == 0 && jc.Agent != nil {
		mode = Listen
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if mode != 0 {
		if err := m.checkSupervise(p, jc.Agent, mode); err != nil {
			m.mu.Unlock()
			return nil, err
		}
		p.mode, p.agent = mode, jc.Agent
	}
	p.muted, p.deaf = jc.Muted, jc.Deaf
	p.member = true
	m.members = append(m.members, p)
	m.version++
	n := len(m.members)
	m.mu.Unlock()
	m.log.Debug("mixer_join", "participant", id, "participants", n,
		"mode", mode.String(), "muted", jc.Muted, "deaf", jc.Deaf)
	return p, nil
}

// checkSupervise validates a supervisor setting of p; m.mu is held.
func (m *Mixer) checkSupervise(p, agent *Participant, mode Mode) error {
	if !mode.valid() {
		return ErrMode
	}
	if agent == nil {
		if mode == Whisper {
			return ErrMode
		}
		return nil
	}
	if !m.isMember(agent) || agent == p {
		return ErrNotMember
	}
	return nil
}

// isMember reports whether p is a current participant; m.mu is held.
func (m *Mixer) isMember(p *Participant) bool {
	return p != nil && p.m == m && p.member
}

// SetHears overrides whether listener hears speaker, whatever their
// modes (by default everyone hears everyone but supervisors in Listen or
// Whisper mode). The change fades over one frame. It fails with
// ErrNotMember unless both are distinct participants of m. The override
// ends when either leaves, or with ClearHears.
func (m *Mixer) SetHears(listener, speaker *Participant, hears bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.isMember(listener) || !m.isMember(speaker) || listener == speaker {
		return ErrNotMember
	}
	if m.overrides == nil {
		m.overrides = make(map[pair]bool)
	}
	k := pair{listener, speaker}
	if v, ok := m.overrides[k]; !ok || v != hears {
		m.overrides[k] = hears
		m.version++
	}
	return nil
}

// ClearHears removes an override of SetHears: whether listener hears
// speaker goes back to what their modes say. It fails with ErrNotMember
// unless both are distinct participants of m.
func (m *Mixer) ClearHears(listener, speaker *Participant) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.isMember(listener) || !m.isMember(speaker) || listener == speaker {
		return ErrNotMember
	}
	k := pair{listener, speaker}
	if _, ok := m.overrides[k]; ok {
		delete(m.overrides, k)
		m.version++
	}
	return nil
}

// Hears reports whether listener hears speaker under the current settings
// (overrides, then the speaker's supervisor mode); false unless both are
// distinct participants of m. Mute and deafness are not considered.
func (m *Mixer) Hears(listener, speaker *Participant) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.isMember(listener) || !m.isMember(speaker) || listener == speaker {
		return false
	}
	return m.hearsLocked(listener, speaker)
}

// hearsLocked is the hearing rule; m.mu is held.
func (m *Mixer) hearsLocked(listener, speaker *Participant) bool {
	if len(m.overrides) > 0 {
		if v, ok := m.overrides[pair{listener, speaker}]; ok {
			return v
		}
	}
	return speaker.mode.heardBy(listener, speaker.agent)
}

// Len returns the number of participants, those still leaving included.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.members)
}

// Run calls Step every 20 ms until ctx ends or the mixer is closed, and
// returns nil then. The schedule is computed from the start time (frame k
// is due at start + k×20 ms), so it does not drift however long each Step
// takes; when Run wakes up late it mixes the frames due back to back, up
// to the depth of the input queues, and skips (and counts) the rest. It
// fails with ErrRunning while another Run is in progress, with ErrClosed
// on a closed mixer.
func (m *Mixer) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer m.running.Store(false)
	select {
	case <-m.closedCh:
		return ErrClosed
	default:
	}
	start := time.Now()
	var k int64 // frames mixed (or skipped) since start
	t := time.NewTimer(audio.FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.closedCh:
			return nil
		case <-t.C:
		}
		due := int64(time.Since(start) / audio.FrameDuration)
		if skip := toSkip(k, due); skip > 0 {
			k += skip
			m.skipped.Add(uint64(skip))
			m.log.Warn("mixer_behind", "skipped_frames", skip)
		}
		for ; k < due; k++ {
			m.Step()
		}
		t.Reset(time.Until(start.Add(time.Duration(k+1) * audio.FrameDuration)))
	}
}

// toSkip returns how many of the frames from k (the next to mix) to due
// (excluded) Run skips: those beyond maxCatchUp.
func toSkip(k, due int64) int64 {
	return max(due-k-maxCatchUp, 0)
}

// Close ends the mixer: every participant is removed at once (no fade:
// the conference is over), their Done channels close, Run returns, and
// Join fails with ErrClosed. Idempotent.
func (m *Mixer) Close() {
	m.stepMu.Lock() // wait for a Step in progress
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.stepMu.Unlock()
		return
	}
	m.closed = true
	members := m.members
	m.members, m.overrides = nil, nil
	for _, p := range members {
		p.member, p.agent = false, nil
	}
	m.version++
	m.mu.Unlock()
	m.parts = nil
	m.stepMu.Unlock()
	close(m.closedCh)
	for _, p := range members {
		p.end()
	}
	m.log.Debug("mixer_closed", "participants", len(members))
}

// Stats counts what a mixer did.
type Stats struct {
	// Frames is the number of frames mixed (Steps).
	Frames uint64
	// Skipped is the number of frames Run could not mix in time and
	// skipped (a stalled process); each is a 20 ms gap for everyone.
	Skipped uint64
	// Participants is the current number of participants.
	Participants int
}

// Stats returns the mixer's counters.
func (m *Mixer) Stats() Stats {
	return Stats{Frames: m.frames.Load(), Skipped: m.skipped.Load(), Participants: m.Len()}
}
