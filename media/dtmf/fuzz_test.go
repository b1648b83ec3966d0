package dtmf

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// fuzzPacket is one packet decoded from fuzz input.
type fuzzPacket struct {
	ts      uint32
	marker  bool
	payload []byte
	at      time.Time
}

// fuzzPackets decodes records of 8 bytes: timestamp step (2, signed),
// flags (1: bit 7 marker, bits 0–2 payload length 0–7), payload (4:
// event, E|R|volume, duration; longer payloads repeat it), arrival step
// in ms (1).
func fuzzPackets(b []byte) []fuzzPacket {
	var out []fuzzPacket
	ts := uint32(1 << 31)
	at := t0
	for len(b) >= 8 {
		ts += uint32(int32(int16(binary.BigEndian.Uint16(b[0:2]))))
		n := int(b[2] & 7)
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = b[3+i%4]
		}
		at = at.Add(time.Duration(b[7]) * time.Millisecond)
		out = append(out, fuzzPacket{ts: ts, marker: b[2]&0x80 != 0, payload: payload, at: at})
		b = b[8:]
	}
	return out
}

// receiveAll feeds packets to a new receiver, each dup+1 times, calling
// Tick after each, then a final Tick an hour later, and returns the
// digits.
func receiveAll(t *testing.T, packets []fuzzPacket, dup int) (string, ReceiverStats) {
	r := NewReceiver4733()
	var digits []byte
	check := func(e Event, ok bool) {
		if !ok {
			return
		}
		if _, valid := EventCode(e.Digit); !valid || e.Source != SourceRFC4733 || e.Duration < 0 {
			t.Fatalf("event %+v", e)
		}
		digits = append(digits, e.Digit)
	}
	for _, p := range packets {
		for range dup + 1 {
			check(r.Packet(p.ts, p.marker, p.payload, p.at))
		}
		check(r.Tick(p.at))
	}
	check(r.Tick(t0.Add(time.Hour)))
	if _, ok := r.Tick(t0.Add(2 * time.Hour)); ok {
		t.Fatal("a second final Tick reported a digit")
	}
	s := r.Stats()
	if s.Digits != uint64(len(digits)) || s.Packets != uint64(len(packets)*(dup+1)) {
		t.Fatalf("stats %+v for %d digits, %d packets", s, len(digits), len(packets)*(dup+1))
	}
	return string(digits), s
}

// FuzzReceiver4733Packet: any packet sequence is handled without panic,
// every digit reported is valid and counted, and duplicating every
// packet changes nothing in the digits reported.
func FuzzReceiver4733Packet(f *testing.F) {
	rec := func(tsStep int16, marker bool, n int, ev, flags byte, dur uint16, ms byte) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint16(b[0:2], uint16(tsStep))
		b[2] = byte(n)
		if marker {
			b[2] |= 0x80
		}
		b[3], b[4] = ev, flags
		binary.BigEndian.PutUint16(b[5:7], dur)
		b[7] = ms
		return b
	}
	var normal, eleven, segments []byte
	for i := range 4 {
		normal = append(normal, rec(0, i == 0, 4, 5, 0x0a, uint16(160*(i+1)), 20)...)
	}
	for range 3 {
		normal = append(normal, rec(0, false, 4, 5, 0x8a, 800, 20)...)
	}
	for _, step := range []int16{0, 1440} {
		eleven = append(eleven, rec(step, true, 4, 1, 0x0a, 160, 20)...)
		eleven = append(eleven, rec(0, false, 4, 1, 0x8a, 320, 20)...)
	}
	// A segmented long press (RFC 4733 §2.5.1.3): the next segment's
	// timestamp is 65535 later, reached in three steps (the first two
	// records are malformed, empty, and ignored).
	for _, r := range [][]byte{
		rec(0, true, 4, 0, 0x0a, 65440, 20), rec(0, false, 4, 0, 0x0a, 0xffff, 20),
		rec(32767, false, 0, 0, 0, 0, 0), rec(32767, false, 0, 0, 0, 0, 0),
		rec(1, false, 4, 0, 0x0a, 545, 20), rec(0, false, 4, 0, 0x8a, 1000, 20),
	} {
		segments = append(segments, r...)
	}
	for _, seed := range [][]byte{normal, eleven, segments, rec(0, true, 2, 5, 0, 0, 0), rec(0, true, 4, 16, 0x8a, 800, 0)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		packets := fuzzPackets(b)
		once, _ := receiveAll(t, packets, 0)
		twice, _ := receiveAll(t, packets, 1)
		if once != twice {
			t.Fatalf("digits %q, with every packet duplicated %q", once, twice)
		}
	})
}

// FuzzInBandFrame: any audio is handled without panic, and digits are
// valid and well formed.
func FuzzInBandFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0xff, 0x7f, 0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm := make([]int16, len(b)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		// Repeat the input up to a second, so that a pattern lasts long
		// enough to be a digit.
		for len(pcm) > 0 && len(pcm) < audio.SampleRate {
			pcm = append(pcm, pcm...)
		}
		for _, e := range detectAll(NewInBand(), pcm) {
			if _, ok := EventCode(e.Digit); !ok || e.Source != SourceInBand || e.Duration <= 0 || e.At.Before(t0) {
				t.Fatalf("event %+v", e)
			}
		}
	})
}
