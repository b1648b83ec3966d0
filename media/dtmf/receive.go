package dtmf

import (
	"errors"
	"time"
)

// Receiver4733 turns the telephone-event RTP payloads (RFC 4733 §2.3) of
// one stream into digits. A digit is reported once: on its first end
// packet (E bit, §2.3.2), or, when every end packet is lost, when the
// next event starts or after the end timeout (Tick). It is never
// reported again for the three retransmissions of the end packet
// (§2.5.1.4), for duplicated or reordered packets, or for the duration
// and volume updates of a long press; a press longer than the 16-bit
// duration field (§2.5.1.3: segments with new timestamps, or a sender
// that lets the field wrap) is still one digit.
//
// An event is identified by its RTP timestamp, which is the event's start
// (§2.2.1): a packet with a new timestamp beyond the span the current
// event covers starts a new event, so two presses of the same key ("11")
// are two digits even when the end packets of the first are lost. The
// marker bit (§2.2.2) is not needed for that, so a lost first packet
// loses nothing.
//
// A Receiver4733 is not safe for concurrent use: the reader of the stream
// calls Packet for each telephone-event packet and Tick regularly (every
// 20–100 ms) to learn of digits whose end never came.
type Receiver4733 struct {
	rate    uint32
	timeout time.Duration
	cur     rxEvent
	stats   ReceiverStats
}

// ReceiverStats counts what a Receiver4733 was given.
type ReceiverStats struct {
	Packets   uint64 // every call of Packet
	Malformed uint64 // payloads shorter than 4 bytes, ignored
	NotDigit  uint64 // events other than the 16 DTMF digits (e.g. hook flash, 16), ignored
	Late      uint64 // packets of an event already over (reordered after the next event began), ignored
	Digits    uint64 // digits reported
}

// rxEvent is the event being received, kept after it is reported so that
// its retransmissions and late packets are recognised.
type rxEvent struct {
	active   bool      // an event has been seen since the start or Reset
	code     uint8     // event code, 0–15
	ts       uint32    // RTP timestamp of the event (of its first segment)
	segTS    uint32    // RTP timestamp of the current segment (§2.5.1.3)
	dur      uint32    // duration within the segment, wraps of the 16-bit field unrolled
	start    time.Time // estimated start: first arrival minus the duration it reported
	last     time.Time // arrival of the latest packet of the event
	ended    bool      // an end packet came
	reported bool
}

// NewReceiver4733 returns a receiver for one stream. Options:
// WithClockRate, WithEndTimeout.
func NewReceiver4733(opts ...Option) *Receiver4733 {
	o := applyOptions(opts)
	return &Receiver4733{rate: o.clockRate, timeout: o.endTimeout}
}

// Packet processes one telephone-event packet: its RTP timestamp and
// marker bit, its payload, and its arrival time. It returns a digit when
// this packet completes one: the first end packet of an event, or the
// first packet of a new event while the previous one was not reported
// yet (its end packets were lost; the new event is then reported by a
// later Packet or Tick). Malformed payloads and events that are not
// digits are counted and ignored.
func (r *Receiver4733) Packet(ts uint32, marker bool, payload []byte, now time.Time) (Event, bool) {
	_ = marker // see the type's comment: timestamps identify events
	r.stats.Packets++
	p, err := parsePayload(payload)
	if err != nil {
		if errors.Is(err, ErrShortPayload) {
			r.stats.Malformed++
		} else {
			r.stats.NotDigit++
		}
		return Event{}, false
	}
	c := &r.cur
	if !c.active {
		r.begin(ts, p, now)
		return r.reportIfEnded()
	}
	d := int32(ts - c.segTS)
	switch {
	case p.event == c.code && d == 0:
		// The current segment: an update, a duplicate, a retransmitted
		// end packet.
		r.update(p, now)
		return r.reportIfEnded()
	case p.event == c.code && d > 0 && uint32(d) <= c.dur+1:
		// A timestamp inside the span the event already covers: the next
		// segment of a long event (§2.5.1.3), which starts where the
		// previous one ends (its duration field at 0xFFFF). A new press
		// could only start after that span and a pause.
		if c.ended {
			r.stats.Late++
			return Event{}, false
		}
		c.segTS, c.dur = ts, 0
		r.update(p, now)
		return r.reportIfEnded()
	case d < 0:
		// Older than the current segment: a late packet of an earlier
		// segment of this event, or of an earlier event.
		r.stats.Late++
		if int32(ts-c.ts) >= 0 && p.event == c.code {
			c.last = now
		}
		return Event{}, false
	}
	// A new event: a later timestamp, or another digit at the same one
	// (a sender that reuses timestamps). Report the current one if its
	// end never came.
	var prev Event
	pending := !c.reported
	if pending {
		prev = r.report()
	}
	r.begin(ts, p, now)
	if pending {
		return prev, true
	}
	return r.reportIfEnded()
}

// Tick reports the current digit if its end packet came without being
// reported yet, or if no packet of it came for the end timeout: its end
// packets were lost. Call it regularly; now is the current time.
func (r *Receiver4733) Tick(now time.Time) (Event, bool) {
	c := &r.cur
	if !c.active || c.reported {
		return Event{}, false
	}
	if c.ended || now.Sub(c.last) >= r.timeout {
		return r.report(), true
	}
	return Event{}, false
}

// Reset forgets the current event, e.g. when the stream's SSRC changes.
// The counters are kept.
func (r *Receiver4733) Reset() { r.cur = rxEvent{} }

// Stats returns the counters.
func (r *Receiver4733) Stats() ReceiverStats { return r.stats }

// begin makes p, at timestamp ts, the current event.
func (r *Receiver4733) begin(ts uint32, p payload, now time.Time) {
	r.cur = rxEvent{
		active: true,
		code:   p.event,
		ts:     ts,
		segTS:  ts,
		dur:    uint32(p.duration),
		start:  now.Add(-r.duration(uint64(p.duration))),
		last:   now,
		ended:  p.end,
	}
}

// update applies a packet of the current segment.
func (r *Receiver4733) update(p payload, now time.Time) {
	c := &r.cur
	c.last = now
	c.dur = max(c.dur, extendDuration(c.dur, p.duration))
	if p.end {
		c.ended = true
	}
}

// extendDuration places a 16-bit duration field next to the extended
// duration cur, for senders that let the field wrap during a long press
// instead of starting a segment: the value within half a wrap of cur.
func extendDuration(cur uint32, field uint16) uint32 {
	v := cur&^0xFFFF | uint32(field)
	switch {
	case v+0x8000 < cur:
		v += 0x10000
	case v > cur+0x8000 && v >= 0x10000:
		v -= 0x10000
	}
	return v
}

// reportIfEnded reports the current event if an end packet came.
func (r *Receiver4733) reportIfEnded() (Event, bool) {
	if r.cur.ended && !r.cur.reported {
		return r.report(), true
	}
	return Event{}, false
}

// report marks the current event reported and returns it.
func (r *Receiver4733) report() Event {
	c := &r.cur
	c.reported = true
	r.stats.Digits++
	digit, _ := DigitOf(c.code)
	return Event{
		Digit:    digit,
		Duration: r.duration(uint64(c.segTS-c.ts) + uint64(c.dur)),
		Source:   SourceRFC4733,
		At:       c.start,
	}
}

// duration converts RTP timestamp units to a duration.
func (r *Receiver4733) duration(units uint64) time.Duration {
	return time.Duration(units) * time.Second / time.Duration(r.rate)
}
