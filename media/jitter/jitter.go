// Package jitter is the jitter buffer of one decoded incoming RTP stream
// (RFC 3550). switchd decodes only on legs that need the audio (prompts
// with barge-in, DTMF detection, taps, transcoding); on such a leg the
// RTP reader pushes every packet into a Buffer and the leg's 20 ms
// playout clock pops one frame per tick.
//
// The buffer is a preallocated ring of frame slots keyed by RTP
// timestamp, so it reorders packets within its window, splits packets
// that carry several frames (40 ms ptime), and tells apart a lost frame
// (Lost: the caller conceals, see Conceal) from nothing to play (Empty:
// not started, refilling after an underrun, or a silence the sender left
// without losing packets). Its depth adapts between Config.Min and
// Config.Max to the interarrival jitter of RFC 3550 §6.4.1: it grows at
// once (an underrun stalls playout and refills to the target) and
// shrinks slowly: one frame per second at most, and only while the depth
// has stayed well above the target for that whole second. Only missing
// frames are skipped faster, when a burst loss leaves the buffer far
// above its target: skipping them costs no audio.
//
// Packets must carry whole 20 ms frames (ptime 20, 40, 60 …): the ring
// is keyed by frame, so 10 ms packets would collide.
//
// A Buffer is safe for one pushing and one popping goroutine; it does
// no I/O and starts no goroutine, and Pop takes the time from its caller
// so that tests drive it without sleeping.
package jitter

import (
	"sync"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// Tuning constants.
const (
	// maxPayload is the largest frame payload stored, in bytes (larger
	// ones are refused as Invalid); it bounds the memory of a Buffer.
	maxPayload = 1500
	// seenWindow is how many sequence numbers behind the newest are
	// remembered to recognise duplicates after their frame was played.
	seenWindow = 256
	// slackFrames is how far above the target the depth must stay
	// before the buffer shrinks ("substantially"), in frames.
	slackFrames = 2
	// shrinkWindow is the period over which the minimum depth is
	// measured; at most one frame is dropped per period.
	shrinkWindow = time.Second
	// targetDecay is how long a lower jitter must persist before the
	// target depth falls by one frame.
	targetDecay = 2 * time.Second
	// strayWindow is how long after an SSRC change packets of the
	// previous SSRC are taken for stragglers and dropped as late.
	strayWindow = time.Second
	// forceResyncAfter is how many consecutive out-of-window packets
	// with consecutive sequence numbers force a resync even though their
	// sequence numbers look old (a sender that jumped both seq and ts).
	forceResyncAfter = 5
	// jitterFactor scales the RFC 3550 jitter (a mean deviation) into
	// the delay the target must cover.
	jitterFactor = 4
)

// Config sizes a Buffer. Zero fields take the defaults given.
type Config struct {
	// Min and Max bound the target depth (the delay the buffer holds
	// before playing); defaults 40 ms and 200 ms. Max is raised to Min
	// when lower. Both are rounded to whole frames (Min up, Max down,
	// at least one frame).
	Min, Max time.Duration
	// ClockRate is the RTP timestamp rate in Hz; default 8000.
	ClockRate int
	// FrameSamples is the RTP timestamp increment of one 20 ms frame;
	// default ClockRate/50 (160 at 8 kHz).
	FrameSamples int
	// BytesPerFrame is the payload size of one frame (160 for G.711);
	// a packet whose payload is a larger multiple of it carries several
	// consecutive frames and is split. 0: never split.
	BytesPerFrame int
}

// ForCodec returns the Config for a stream of codec c with the given
// depth bounds.
func ForCodec(c audio.Codec, minDepth, maxDepth time.Duration) Config {
	return Config{
		Min: minDepth, Max: maxDepth, ClockRate: c.ClockRate(),
		FrameSamples:  c.ClockRate() * int(audio.FrameDuration) / int(time.Second),
		BytesPerFrame: c.PayloadBytes(),
	}
}

// Status says what Pop returned.
type Status uint8

// The statuses of Pop; the zero value is unknown.
const (
	// Ok: the payload of the next frame.
	Ok Status = iota + 1
	// Lost: the next frame is missing (a later one has arrived); the
	// caller conceals it (Conceal).
	Lost
	// Empty: nothing to play: the buffer is filling (at the start or
	// after an underrun) or the sender sent nothing for this frame
	// without losing a packet (silence suppression); the caller plays
	// silence.
	Empty
)

// String names the status.
func (s Status) String() string {
	switch s {
	case Ok:
		return "ok"
	case Lost:
		return "lost"
	case Empty:
		return "empty"
	}
	return "unknown"
}

// Stats are the counters of a Buffer.
type Stats struct {
	Received   uint64 // packets pushed, accepted or not
	Late       uint64 // packets dropped because their frames were already played
	Duplicates uint64 // packets dropped as already received
	Early      uint64 // packets dropped as beyond the window (not taken for a jump)
	Invalid    uint64 // packets dropped for an empty or oversized payload
	Played     uint64 // frames returned Ok
	Lost       uint64 // frames returned Lost (concealed by the caller)
	Dropped    uint64 // frames discarded to shrink the buffer
	Underruns  uint64 // times playout found the buffer empty and stalled to refill
	Resets     uint64 // SSRC changes
	Resyncs    uint64 // timestamp jumps (forward beyond the window, or backwards)

	Depth  time.Duration // audio buffered from the next frame to play to the newest
	Target time.Duration // the current target depth
	Jitter time.Duration // interarrival jitter, RFC 3550 §6.4.1
}

// slot holds one frame of the ring.
type slot struct {
	idx  int64  // frame index; meaningful while full
	seq  uint16 // sequence number of the packet the frame came in
	full bool
	buf  []byte
}

// Buffer is the jitter buffer of one stream; see the package comment.
type Buffer struct {
	mu sync.Mutex

	// From the Config.
	fs       uint32        // timestamp units per frame
	frameDur time.Duration // duration of one frame
	rate     int64         // clock rate
	bpf      int           // bytes per frame, 0: no split
	minF     int64         // target bounds, frames
	maxF     int64

	slots []slot // len maxF+1: frames next … next+maxF
	out   []byte // payload returned by the last Pop

	// The source.
	haveSSRC   bool
	ssrc       uint32
	prevSSRC   uint32 // the source before the last SSRC change
	havePrev   bool
	switchedAt time.Time
	tsOff      uint32 // added to RTP timestamps: rebases after resyncs
	haveSeq    bool
	maxSeq     uint16            // newest sequence number
	seen       [seenWindow]int32 // seen[seq%seenWindow] == seq: received; -1: none
	rejectRun  int               // consecutive out-of-window packets
	rejectSeq  uint16            // sequence number of the last of them
	perPacket  int64             // frames in the last packet
	lastSeq    uint16            // sequence number of the last frame played
	haveLast   bool

	// The playout timeline, in frame indexes.
	anchored bool   // next and nextTs are set
	began    bool   // playout has started once (frames before next are gone)
	playing  bool   // false: filling, at the start or after an underrun
	next     int64  // the next frame to play
	nextTs   uint32 // its (rebased) timestamp
	highest  int64  // the newest frame buffered, if ≥ next

	est estimator

	winStart time.Time // start of the shrink window
	winMin   int64     // minimum depth seen in it

	st Stats
}

// New returns an empty Buffer for cfg (see Config for the defaults).
func New(cfg Config) *Buffer {
	if cfg.ClockRate <= 0 {
		cfg.ClockRate = audio.SampleRate
	}
	if cfg.FrameSamples <= 0 {
		cfg.FrameSamples = max(1, cfg.ClockRate*int(audio.FrameDuration)/int(time.Second))
	}
	if cfg.Min <= 0 {
		cfg.Min = 40 * time.Millisecond
	}
	if cfg.Max <= 0 {
		cfg.Max = 200 * time.Millisecond
	}
	cfg.Max = max(cfg.Max, cfg.Min)
	b := &Buffer{
		fs:       uint32(cfg.FrameSamples),
		frameDur: time.Duration(int64(cfg.FrameSamples) * int64(time.Second) / int64(cfg.ClockRate)),
		rate:     int64(cfg.ClockRate),
		bpf:      max(0, min(cfg.BytesPerFrame, maxPayload)),
		highest:  -1,
	}
	if b.frameDur <= 0 {
		b.frameDur = 1
	}
	b.minF = max(1, int64((cfg.Min+b.frameDur-1)/b.frameDur))
	b.maxF = max(b.minF, int64(cfg.Max/b.frameDur))
	b.est.target = b.minF
	b.perPacket = 1

	// One backing array for every slot and the output: no allocation
	// while payloads fit.
	c := b.bpf
	if c == 0 {
		c = audio.FrameSamples
	}
	n := int(b.maxF) + 1
	backing := make([]byte, (n+1)*c)
	b.slots = make([]slot, n)
	for i := range b.slots {
		b.slots[i].buf = backing[i*c : i*c : (i+1)*c]
	}
	b.out = backing[n*c : n*c : (n+1)*c]
	for i := range b.seen {
		b.seen[i] = -1
	}
	return b
}

// Stats returns the counters and the current depth, target and jitter.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.st
	st.Depth = time.Duration(b.depth()) * b.frameDur
	st.Target = time.Duration(b.est.target) * b.frameDur
	st.Jitter = time.Duration(b.est.jitter)
	return st
}

// Pop returns what to play for the next 20 ms; the leg's playout clock
// calls it once per frame with the current time (used to pace the
// shrinking). With Ok, payload is the frame's payload, valid until the
// next Pop; with Lost and Empty it is nil.
func (b *Buffer) Pop(now time.Time) (payload []byte, status Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.anchored {
		return nil, Empty
	}
	if !b.playing {
		b.skipSilence()
		d := b.depth()
		if d == 0 || d < b.est.target {
			return nil, Empty
		}
		b.playing, b.began = true, true
		b.winStart, b.winMin = now, d
	}
	d := b.depth()
	if d == 0 {
		// Underrun: stall here and refill to the target, so that a late
		// packet is still played when it comes (the buffer grows by the
		// time it waited).
		b.playing = false
		b.st.Underruns++
		return nil, Empty
	}
	if b.shrinkDue(now, d) {
		b.drop()
	}
	// A missing frame at the head costs nothing to skip while the
	// buffer is well above its target (after a burst loss).
	for !b.head().full && b.depth() > b.est.target+slackFrames {
		b.drop()
	}
	if s := b.head(); s.full {
		s.full = false
		s.buf, b.out = b.out[:0], s.buf
		b.lastSeq, b.haveLast = s.seq, true
		b.advance()
		b.st.Played++
		return b.out, Ok
	}
	// The head is missing and a later frame is buffered.
	if b.silenceAhead() {
		b.advance()
		return nil, Empty
	}
	b.advance()
	b.st.Lost++
	return nil, Lost
}

// depth is the number of frames from next to the newest buffered,
// gaps included; 0 when nothing at or after next is buffered.
func (b *Buffer) depth() int64 {
	if !b.anchored || b.highest < b.next {
		return 0
	}
	return b.highest - b.next + 1
}

// slotOf returns the ring slot of frame idx.
func (b *Buffer) slotOf(idx int64) *slot {
	n := int64(len(b.slots))
	return &b.slots[((idx%n)+n)%n]
}

// head returns the slot of the next frame; full only if it holds it.
func (b *Buffer) head() *slot {
	s := b.slotOf(b.next)
	if s.full && s.idx != b.next {
		s.full = false
	}
	return s
}

// advance moves past the head, discarding it.
func (b *Buffer) advance() {
	b.head().full = false
	b.next++
	b.nextTs += b.fs
}

// drop discards the head frame, present or missing, to shrink the
// buffer by one frame without playing silence in its place.
func (b *Buffer) drop() {
	if s := b.head(); s.full {
		b.lastSeq, b.haveLast = s.seq, true
	}
	b.advance()
	b.st.Dropped++
}

// firstAhead returns the first buffered frame after the head, or nil.
func (b *Buffer) firstAhead() *slot {
	for i := b.next + 1; i <= b.highest; i++ {
		if s := b.slotOf(i); s.full && s.idx == i {
			return s
		}
	}
	return nil
}

// silenceAhead reports whether the gap at the head is a silence the
// sender left (its next packet follows the last played one in sequence,
// so no packet is missing) rather than a loss.
func (b *Buffer) silenceAhead() bool {
	if !b.haveLast {
		return false
	}
	s := b.firstAhead()
	return s != nil && s.seq == b.lastSeq+1
}

// skipSilence moves a stalled playout over a silence the sender left,
// to the first frame of the next talkspurt, which then refills.
func (b *Buffer) skipSilence() {
	if b.depth() == 0 || b.head().full || !b.silenceAhead() {
		return
	}
	for !b.head().full {
		b.advance()
	}
}

// shrinkDue tracks the minimum depth over shrinkWindow and reports
// whether it stayed substantially above the target for the whole
// window: then one frame is dropped.
func (b *Buffer) shrinkDue(now time.Time, d int64) bool {
	if now.Before(b.winStart) {
		b.winStart, b.winMin = now, d
		return false
	}
	b.winMin = min(b.winMin, d)
	if now.Sub(b.winStart) < shrinkWindow {
		return false
	}
	due := b.winMin >= b.est.target+slackFrames
	b.winStart, b.winMin = now, d
	return due
}
