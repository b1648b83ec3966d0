package media

import (
	"encoding/binary"
	"time"
)

// rtpHeaderLen is the fixed part of the RTP header (RFC 3550 §5.1).
const rtpHeaderLen = 12

// rtpInfo is what the engine needs of one received RTP packet. It is
// filled by parseRTP without allocating; the packet bytes stay in the
// caller's buffer.
type rtpInfo struct {
	pt     uint8
	marker bool
	seq    uint16
	ts     uint32
	ssrc   uint32
	// payload and end delimit the payload in the packet: after the CSRC
	// list and header extension, before any padding (RFC 3550 §5.1).
	payload, end int
	// at is the arrival time.
	at time.Time
}

// parseRTP checks and parses an RTP header (RFC 3550 §5.1): version 2,
// CSRC list, header extension (§5.3.1) and padding inside the packet.
// Packets whose second byte is an RTCP packet type (192–223, the RFC 5761
// §4 demultiplexing rule) are refused: rtcp-mux is not negotiated.
func parseRTP(b []byte) (rtpInfo, bool) {
	if len(b) < rtpHeaderLen || b[0]>>6 != 2 {
		return rtpInfo{}, false
	}
	if b[1] >= 192 && b[1] <= 223 {
		return rtpInfo{}, false
	}
	off := rtpHeaderLen + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return rtpInfo{}, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 {
		pad := int(b[end-1])
		if pad == 0 {
			return rtpInfo{}, false
		}
		end -= pad
	}
	if off > end {
		return rtpInfo{}, false
	}
	return rtpInfo{
		pt:      b[1] & 0x7f,
		marker:  b[1]&0x80 != 0,
		seq:     binary.BigEndian.Uint16(b[2:]),
		ts:      binary.BigEndian.Uint32(b[4:]),
		ssrc:    binary.BigEndian.Uint32(b[8:]),
		payload: off,
		end:     end,
	}, true
}

// setPayloadType rewrites the payload type of an RTP packet in place,
// keeping the marker bit.
func setPayloadType(b []byte, pt uint8) { b[1] = b[1]&0x80 | pt&0x7f }
