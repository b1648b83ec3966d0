package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// Relay anchors the media of a two-party call: it forwards the RTP that
// leg A's phone sends to leg B's phone and back, through the two sessions'
// sockets (each phone sees switchd as its peer, RFC 4961 symmetric RTP).
// Each direction is one goroutine that reads the source session's RTP
// socket and writes to the destination session's remote, applying the
// direction's payload plan (RelayConfig) without allocating.
//
// Packets are forwarded as they are: same SSRC, sequence numbers and
// timestamps (RFC 3550 §5.1), payload untouched unless the legs need
// PCMU↔PCMA. Packets that arrive before the far leg's remote is known are
// dropped and counted. RTCP is not relayed: each session terminates its
// own.
//
// A session's RTP is read only while a relay runs on it: start the relay
// as soon as both sessions exist (before the far leg answers; its packets
// are dropped until its remote is known), or packets wait in the socket
// buffer and are relayed late.
type Relay struct {
	a, b *Session
	dirs [2]direction

	mu        sync.Mutex
	state     relayState
	stopAfter func() bool   // unregisters the context watch
	afterDone chan struct{} // closed when the context watch has run
	stopping  atomic.Bool
	wg        sync.WaitGroup
}

type relayState uint8

const (
	relayIdle relayState = iota
	relayRunning
	relayStopped
)

// direction is one half of a relay.
type direction struct {
	src, dst *Session
	plan     *actionTable
	buf      []byte

	// Taps (SetTaps): the source leg's In and the destination leg's Out
	// get each packet's audio, decoded only while someone listens.
	taps   atomic.Pointer[relayTaps]
	digits atomic.Pointer[digitWatch] // WatchDigits
	dec    [128]audio.Codec           // speech decoders by source payload type
	frame  audio.Frame
	tapped atomic.Uint64

	forwarded       atomic.Uint64
	transcoded      atomic.Uint64
	droppedNoRemote atomic.Uint64
	droppedUnmapped atomic.Uint64
	writeErrors     atomic.Uint64
}

// NewRelay prepares a relay between sessions a and b with cfg; Start
// runs it. It fails with ErrCodec for a mapping it cannot do.
func NewRelay(a, b *Session, cfg RelayConfig) (*Relay, error) {
	if a == nil || b == nil || a == b {
		return nil, errors.New("media: a relay needs two different sessions")
	}
	ab, err := cfg.AToB.compile()
	if err != nil {
		return nil, fmt.Errorf("media: relay A to B: %w", err)
	}
	ba, err := cfg.BToA.compile()
	if err != nil {
		return nil, fmt.Errorf("media: relay B to A: %w", err)
	}
	// Plans are immutable: relays with the same plan share one table.
	ab, ba = a.e.plans.get(ab), a.e.plans.get(ba)
	r := &Relay{a: a, b: b}
	r.dirs[0] = direction{src: a, dst: b, plan: ab, buf: make([]byte, readBufSize)}
	r.dirs[1] = direction{src: b, dst: a, plan: ba, buf: make([]byte, readBufSize)}
	for i, dc := range []DirectionConfig{cfg.AToB, cfg.BToA} {
		for _, m := range dc.Map {
			if c, ok := audio.CodecByName(m.From.Name); ok && !m.From.IsTelephoneEvent() {
				r.dirs[i].dec[m.From.PayloadType] = c
			}
		}
	}
	return r, nil
}

// relayTaps are the audio taps of a relay's two legs.
type relayTaps struct{ src, dst *tap.Point }

// SetTaps makes the relay publish the decoded audio of its legs: a gets
// what leg A's phone sends (tap.In) and what it is sent (tap.Out), b the
// same for leg B — the audio recorders and speech recognition need from a
// call relayed undecoded. Packets are decoded only while a tap has
// listeners (Point.Listening), as they arrive (no jitter buffer). Either
// may be nil; it may be called while the relay runs.
func (r *Relay) SetTaps(a, b *tap.Point) {
	r.dirs[0].taps.Store(&relayTaps{src: a, dst: b})
	r.dirs[1].taps.Store(&relayTaps{src: b, dst: a})
}

// Start starts forwarding, one goroutine per direction, until Stop (or
// until ctx is done: forwarding stops, and Stop must still be called to
// release the sessions). A session is read by one relay at a time:
// ErrBusy if either session already is. ErrRunning on a second Start,
// ErrClosed after Stop.
func (r *Relay) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case relayRunning:
		return ErrRunning
	case relayStopped:
		return ErrClosed
	}
	if r.a.closed.Load() || r.b.closed.Load() {
		return ErrClosed
	}
	if !r.a.reader.CompareAndSwap(false, true) {
		return ErrBusy
	}
	if !r.b.reader.CompareAndSwap(false, true) {
		r.a.reader.Store(false)
		return ErrBusy
	}
	r.state = relayRunning
	r.afterDone = make(chan struct{})
	r.stopAfter = context.AfterFunc(ctx, func() {
		defer close(r.afterDone)
		r.interrupt()
	})
	r.wg.Add(2)
	go r.pump(&r.dirs[0])
	go r.pump(&r.dirs[1])
	return nil
}

// interrupt makes both pumps return: their blocked reads fail at once on
// a deadline in the past.
func (r *Relay) interrupt() {
	r.stopping.Store(true)
	past := time.Unix(1, 0)
	r.a.rtp.SetReadDeadline(past)
	r.b.rtp.SetReadDeadline(past)
}

// Stop stops forwarding, waits for both goroutines and frees the sessions
// for another reader (the sessions stay open). It is idempotent.
func (r *Relay) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != relayRunning {
		r.state = relayStopped
		return
	}
	r.state = relayStopped
	if !r.stopAfter() {
		<-r.afterDone // the context watch is interrupting right now
	}
	r.interrupt()
	r.wg.Wait()
	r.a.rtp.SetReadDeadline(time.Time{})
	r.b.rtp.SetReadDeadline(time.Time{})
	r.a.reader.Store(false)
	r.b.reader.Store(false)
}

// pump is one direction's goroutine: read, apply the plan, write. It
// allocates nothing per packet.
func (r *Relay) pump(d *direction) {
	defer r.wg.Done()
	for {
		n, p, err := d.src.readPacket(d.buf)
		if err != nil {
			if r.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		d.forward(d.buf[:n], &p)
	}
}

// forward applies the plan to one packet and sends it on.
func (d *direction) forward(pkt []byte, p *rtpInfo) {
	if w := d.digits.Load(); w != nil && w.pt == p.pt {
		d.digit(w, pkt, p) // also when the far leg takes no events (dropped below)
	}
	act := &d.plan[p.pt]
	if act.drop {
		d.droppedUnmapped.Add(1)
		return
	}
	if t := d.taps.Load(); t != nil {
		d.tap(t, pkt[p.payload:p.end], p.pt, p.at)
	}
	if act.tc != noTranscoding {
		act.tc.apply(pkt[p.payload:p.end])
		d.transcoded.Add(1)
	}
	if act.pt != p.pt {
		setPayloadType(pkt, act.pt)
		p.pt = act.pt
	}
	switch err := d.dst.writeRTP(pkt, p); {
	case err == nil:
		d.forwarded.Add(1)
	case errors.Is(err, errNoRemote):
		d.droppedNoRemote.Add(1)
	default:
		d.writeErrors.Add(1)
	}
}

// tap publishes one speech packet's audio to the taps that listen.
func (d *direction) tap(t *relayTaps, payload []byte, pt uint8, now time.Time) {
	c := d.dec[pt&0x7f]
	if c == nil {
		return // not speech (telephone-events)
	}
	in := t.src != nil && t.src.Listening(tap.In)
	out := t.dst != nil && t.dst.Listening(tap.Out)
	if !in && !out {
		return
	}
	c.Decode(payload, &d.frame)
	if in {
		t.src.Publish(tap.In, &d.frame, now)
	}
	if out {
		t.dst.Publish(tap.Out, &d.frame, now)
	}
	d.tapped.Add(1)
}

// DirectionStats counts one direction of a relay.
type DirectionStats struct {
	// Forwarded packets were sent to the far phone.
	Forwarded uint64
	// Transcoded packets had their payload converted (PCMU↔PCMA).
	Transcoded uint64
	// DroppedNoRemote packets arrived before the far leg's remote was known.
	DroppedNoRemote uint64
	// DroppedUnmapped packets had a payload type the plan drops.
	DroppedUnmapped uint64
	// WriteErrors counts sends the socket refused (e.g. far leg closed).
	WriteErrors uint64
}

// RelayStats counts both directions of a relay.
type RelayStats struct {
	AToB, BToA DirectionStats
}

// Stats returns the relay's counters.
func (r *Relay) Stats() RelayStats {
	return RelayStats{AToB: r.dirs[0].stats(), BToA: r.dirs[1].stats()}
}

func (d *direction) stats() DirectionStats {
	return DirectionStats{
		Forwarded:       d.forwarded.Load(),
		Transcoded:      d.transcoded.Load(),
		DroppedNoRemote: d.droppedNoRemote.Load(),
		DroppedUnmapped: d.droppedUnmapped.Load(),
		WriteErrors:     d.writeErrors.Load(),
	}
}
