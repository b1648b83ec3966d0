package dtmf

import (
	"fmt"
	"io"
	"time"

	"github.com/pion/rtp"
)

// MinDigitDuration is the shortest digit Sender4733 sends: the shortest
// tone an ITU-T Q.24 receiver must accept (40 ms), so that a gateway
// that regenerates the tone in-band is understood downstream.
const MinDigitDuration = 40 * time.Millisecond

// Sender4733 builds the telephone-event packets (RFC 4733 §2.5.1) of
// digits sent on one RTP stream: the leg's own stream (its SSRC, its
// sequence numbers and its timestamp clock), with the telephone-event
// payload type negotiated in SDP. It only builds packets; the caller
// sends them, in place of the voice packets, one per packet time.
//
// A digit of duration D at packet time P is, for timestamp T (the
// timestamp the next voice packet would have carried):
//
//   - a start packet with the marker bit (§2.2.2) and duration P;
//   - updates every P with the same timestamp T, the event's start
//     (§2.2.1, §2.5.1.2), and a duration growing by P;
//   - the end packet, E bit set (§2.3.2), duration D, sent three times
//     (§2.5.1.4) at the same interval, all with timestamp T.
//
// A digit longer than the 16-bit duration field (8.19 s at 8000 Hz) is
// sent in segments (§2.5.1.3): the last packet of a segment carries
// duration 0xFFFF, three times, without the E bit, and the next segment
// starts at timestamp T+0xFFFF (then T+2·0xFFFF, …), without the marker
// bit, its duration counted from there.
//
// Every packet takes the next sequence number. The RTP clock runs on
// while the events are sent: the first voice packet after the burst
// carries the timestamp it would have carried had voice been sent all
// along, Burst.NextTimestamp (T plus one packet time per packet), and
// the next sequence number, Burst.NextSequence. So the voice stream
// resumes without a jump and the receiver's jitter computation and
// playout are undisturbed; the event packets' own timestamps stay at
// the event's start, which is why receivers leave telephone-event out of
// the jitter (RFC 4733 §2.5.1.2, RFC 3550 §A.8).
//
// Sender4733 holds only its configuration and is safe for concurrent
// use.
type Sender4733 struct {
	pt     uint8
	ssrc   uint32
	rate   uint32
	ptime  time.Duration
	volume uint8
}

// NewSender4733 returns a sender for the stream of SSRC ssrc with the
// telephone-event payload type pt. Options: WithPtime, WithVolume,
// WithClockRate.
func NewSender4733(pt uint8, ssrc uint32, opts ...Option) *Sender4733 {
	o := applyOptions(opts)
	return &Sender4733{pt: pt & 0x7f, ssrc: ssrc, rate: o.clockRate, ptime: o.ptime, volume: o.volume}
}

// Packet4733 is one telephone-event RTP packet, ready to marshal.
type Packet4733 struct {
	// Header is the RTP header: version 2, the marker bit, the payload
	// type, sequence number, timestamp and SSRC.
	Header rtp.Header
	// Payload is the event block (RFC 4733 §2.3).
	Payload [4]byte
	// Offset is when to send the packet, after the first one: a
	// multiple of the packet time.
	Offset time.Duration
}

// End reports whether the packet carries the E bit.
func (p *Packet4733) End() bool { return p.Payload[1]&0x80 != 0 }

// Duration returns the packet's duration field, in RTP timestamp units.
func (p *Packet4733) Duration() uint16 { return uint16(p.Payload[2])<<8 | uint16(p.Payload[3]) }

// MarshalTo writes the packet into buf, which needs 16 bytes, and
// returns the number of bytes written.
func (p *Packet4733) MarshalTo(buf []byte) (int, error) {
	n, err := p.Header.MarshalTo(buf)
	if err != nil {
		return 0, err
	}
	if len(buf) < n+len(p.Payload) {
		return 0, fmt.Errorf("dtmf: buffer of %d bytes for a %d-byte packet: %w", len(buf), n+len(p.Payload), io.ErrShortBuffer)
	}
	return n + copy(buf[n:], p.Payload[:]), nil
}

// Marshal returns the packet's bytes.
func (p *Packet4733) Marshal() ([]byte, error) {
	b := make([]byte, p.Header.MarshalSize()+len(p.Payload))
	n, err := p.MarshalTo(b)
	return b[:n], err
}

// Burst is the packet sequence of one digit and where the stream goes on
// after it.
type Burst struct {
	// Packets are sent in order, Packets[i] at Packets[i].Offset after
	// Packets[0], each instead of a voice packet.
	Packets []Packet4733
	// NextSequence is the sequence number of the first packet after the
	// burst (the first one's plus len(Packets)).
	NextSequence uint16
	// NextTimestamp is the RTP timestamp of the first voice packet after
	// the burst, sent one packet time after the last event packet.
	NextTimestamp uint32
}

// Digit returns the packets of digit ('0'–'9', '*', '#', 'A'–'D') held
// for d, starting at sequence number seq and RTP timestamp ts: the
// values the next voice packet would have carried. A d below
// MinDigitDuration is raised to it. It fails only with ErrDigit.
func (s *Sender4733) Digit(digit byte, d time.Duration, seq uint16, ts uint32) (Burst, error) {
	code, ok := EventCode(digit)
	if !ok {
		return Burst{}, fmt.Errorf("%w: %q", ErrDigit, digit)
	}
	d = max(d, MinDigitDuration)
	step := uint64(s.ptime) * uint64(s.rate) / uint64(time.Second) // samples per packet
	total := (uint64(d)*uint64(s.rate) + uint64(time.Second) - 1) / uint64(time.Second)
	b := Burst{Packets: make([]Packet4733, 0, packetCount(total, step))}
	add := func(segment uint64, dur uint64, end bool) {
		i := len(b.Packets)
		b.Packets = append(b.Packets, Packet4733{
			Header: rtp.Header{
				Version:        2,
				Marker:         i == 0,
				PayloadType:    s.pt,
				SequenceNumber: seq + uint16(i),
				Timestamp:      ts + uint32(segment),
				SSRC:           s.ssrc,
			},
			Payload: payload{event: code, end: end, volume: s.volume, duration: uint16(dur)}.bytes(),
			Offset:  time.Duration(i) * s.ptime,
		})
	}
	var segment uint64 // start of the current segment, in samples after ts
	for {
		// The packet sent now covers the event up to the end of this
		// packet time (the voice packet it replaces would have held
		// that audio).
		elapsed := min(uint64(len(b.Packets)+1)*step, total)
		if elapsed-segment > maxDuration {
			for range 3 {
				add(segment, maxDuration, false)
			}
			segment += maxDuration
			continue
		}
		if elapsed == total {
			for range 3 {
				add(segment, elapsed-segment, true)
			}
			break
		}
		add(segment, elapsed-segment, false)
	}
	n := len(b.Packets)
	b.NextSequence = seq + uint16(n)
	b.NextTimestamp = ts + uint32(uint64(n)*step)
	return b, nil
}

// packetCount returns how many packets a digit of total samples takes at
// step samples per packet: one per packet time, two extra end packets,
// and two extra per segment boundary.
func packetCount(total, step uint64) int {
	n := (total + step - 1) / step
	segments := (total - 1) / maxDuration
	return int(n + 2 + 2*segments)
}
