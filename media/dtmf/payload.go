package dtmf

import (
	"encoding/binary"
	"fmt"
)

// payload is one event block of a telephone-event payload (RFC 4733
// §2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type payload struct {
	event    uint8  // §2.3.1, 0–15 for DTMF
	end      bool   // E bit, §2.3.2: the final packet(s) of the event
	volume   uint8  // §2.3.4: power level in −dBm0, 0–63
	duration uint16 // §2.3.5: in RTP timestamp units, since the packet's timestamp
}

// payloadSize is the size of one event block.
const payloadSize = 4

// maxDuration is the largest value of the duration field (§2.3.5); a
// longer event is sent in segments (§2.5.1.3).
const maxDuration = 0xFFFF

// parsePayload reads the first event block of b. Later blocks (several
// events packed in one packet, §2.5.1.5) are not read: senders use that
// packing only for events that already ended, which the first block's
// E bit, or the start of the next event, reports anyway. The R bit
// (§2.3.3) is ignored, as the receiver must.
func parsePayload(b []byte) (payload, error) {
	if len(b) < payloadSize {
		return payload{}, fmt.Errorf("%w: %d bytes", ErrShortPayload, len(b))
	}
	p := payload{
		event:    b[0],
		end:      b[1]&0x80 != 0,
		volume:   b[1] & 0x3f,
		duration: binary.BigEndian.Uint16(b[2:4]),
	}
	if _, ok := DigitOf(p.event); !ok {
		return p, fmt.Errorf("%w: event %d", ErrNotDigitEvent, p.event)
	}
	return p, nil
}

// bytes encodes p (R bit zero, volume limited to 6 bits).
func (p payload) bytes() [payloadSize]byte {
	var b [payloadSize]byte
	b[0] = p.event
	b[1] = p.volume & 0x3f
	if p.end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], p.duration)
	return b
}
