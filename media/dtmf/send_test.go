package dtmf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestSender4733Golden lists the packets of the digits described in
// testdata/send: one line "key=value ..." of digit, duration, seq, ts,
// pt, ssrc, ptime, volume, rate (the last four optional).
func TestSender4733Golden(t *testing.T) {
	runGolden(t, "send", func(t *testing.T, input string) string {
		var out strings.Builder
		for line := range strings.Lines(input) {
			if t := strings.TrimSpace(line); t == "" || t[0] == '#' {
				continue
			}
			kv := map[string]string{}
			for _, f := range strings.Fields(line) {
				k, v, _ := strings.Cut(f, "=")
				kv[k] = v
			}
			num := func(k string) uint64 {
				v, err := strconv.ParseUint(kv[k], 0, 64)
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				return v
			}
			dur := func(k string) time.Duration {
				d, err := time.ParseDuration(kv[k])
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				return d
			}
			var opts []Option
			if _, ok := kv["ptime"]; ok {
				opts = append(opts, WithPtime(dur("ptime")))
			}
			if _, ok := kv["volume"]; ok {
				opts = append(opts, WithVolume(uint8(num("volume"))))
			}
			if _, ok := kv["rate"]; ok {
				opts = append(opts, WithClockRate(uint32(num("rate"))))
			}
			s := NewSender4733(uint8(num("pt")), uint32(num("ssrc")), opts...)
			b, err := s.Digit(kv["digit"][0], dur("duration"), uint16(num("seq")), uint32(num("ts")))
			fmt.Fprintf(&out, "%s", line)
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				continue
			}
			for _, p := range b.Packets {
				m := "-"
				if p.Header.Marker {
					m = "M"
				}
				fmt.Fprintf(&out, "  %4dms seq=%d ts=%d %s pt=%d ssrc=%#x %x\n", p.Offset.Milliseconds(), p.Header.SequenceNumber,
					p.Header.Timestamp, m, p.Header.PayloadType, p.Header.SSRC, p.Payload)
			}
			fmt.Fprintf(&out, "  next seq=%d ts=%d\n", b.NextSequence, b.NextTimestamp)
		}
		return out.String()
	})
}

// TestSender4733RoundTrip: what Sender4733 sends, Receiver4733 reads as
// one digit of the same duration, for short and long digits (segments),
// at several ptimes and clock rates, and the packets keep the invariants
// of RFC 4733 §2.5.1.
func TestSender4733RoundTrip(t *testing.T) {
	for _, rate := range []uint32{8000, 16000, 48000} {
		for _, ptime := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 50 * time.Millisecond} {
			for _, d := range []time.Duration{40 * time.Millisecond, 100 * time.Millisecond, 1234 * time.Millisecond, 8190 * time.Millisecond, 8200 * time.Millisecond, 20 * time.Second} {
				name := fmt.Sprintf("%dHz/%v/%v", rate, ptime, d)
				s := NewSender4733(101, 0xdecafbad, WithPtime(ptime), WithClockRate(rate))
				const seq0, ts0 = 65000, 4294960000
				b, err := s.Digit('D', d, seq0, ts0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				checkBurst(t, name, b, seq0, ts0, rate, ptime)
				r := NewReceiver4733(WithClockRate(rate))
				var got []Event
				for _, p := range b.Packets {
					if e, ok := r.Packet(p.Header.Timestamp, p.Header.Marker, p.Payload[:], t0.Add(p.Offset)); ok {
						got = append(got, e)
					}
				}
				if e, ok := r.Tick(t0.Add(time.Hour)); ok {
					got = append(got, e)
				}
				want := time.Duration((uint64(d)*uint64(rate)+uint64(time.Second)-1)/uint64(time.Second)) * time.Second / time.Duration(rate)
				if len(got) != 1 || got[0].Digit != 'D' || got[0].Duration != want {
					t.Errorf("%s: received %v, want one D of %v", name, got, want)
				}
			}
		}
	}
}

// checkBurst checks the invariants of a burst.
func checkBurst(t *testing.T, name string, b Burst, seq uint16, ts uint32, rate uint32, ptime time.Duration) {
	t.Helper()
	n := len(b.Packets)
	step := uint32(uint64(ptime) * uint64(rate) / uint64(time.Second))
	if b.NextSequence != seq+uint16(n) || b.NextTimestamp != ts+uint32(n)*step {
		t.Errorf("%s: next seq %d ts %d, want %d %d", name, b.NextSequence, b.NextTimestamp, seq+uint16(n), ts+uint32(n)*step)
	}
	segTS := ts
	var lastDur uint16
	for i := range b.Packets {
		p := &b.Packets[i]
		h := p.Header
		if h.Version != 2 || h.PayloadType != 101 || h.SSRC != 0xdecafbad || h.SequenceNumber != seq+uint16(i) || p.Offset != time.Duration(i)*ptime {
			t.Fatalf("%s: packet %d: header %+v offset %v", name, i, h, p.Offset)
		}
		if h.Marker != (i == 0) {
			t.Errorf("%s: packet %d: marker %v", name, i, h.Marker)
		}
		if p.End() != (i >= n-3) {
			t.Errorf("%s: packet %d: E bit %v", name, i, p.End())
		}
		if p.Payload[0] != 15 || p.Payload[1]&0x3f != DefaultVolume {
			t.Errorf("%s: packet %d: payload %x", name, i, p.Payload)
		}
		if h.Timestamp != segTS {
			// A new segment: right after three packets of 0xFFFF.
			if i < 3 || h.Timestamp != segTS+maxDuration || b.Packets[i-1].Duration() != maxDuration ||
				b.Packets[i-3].Duration() != maxDuration || b.Packets[i-3].End() {
				t.Fatalf("%s: packet %d: timestamp %d after segment %d", name, i, h.Timestamp, segTS)
			}
			segTS, lastDur = h.Timestamp, 0
		}
		if p.Duration() < lastDur || p.Duration() == 0 {
			t.Errorf("%s: packet %d: duration %d after %d", name, i, p.Duration(), lastDur)
		}
		lastDur = p.Duration()
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var back rtp.Packet
		if err := back.Unmarshal(raw); err != nil || back.Timestamp != h.Timestamp || back.SequenceNumber != h.SequenceNumber ||
			back.Marker != h.Marker || string(back.Payload) != string(p.Payload[:]) {
			t.Fatalf("%s: packet %d: marshalled %x, read back %+v (%v)", name, i, raw, back, err)
		}
	}
	for i := n - 3; i < n; i++ {
		if b.Packets[i].Payload != b.Packets[n-1].Payload {
			t.Errorf("%s: end packets differ: %x %x", name, b.Packets[i].Payload, b.Packets[n-1].Payload)
		}
	}
}

// TestSender4733Errors: only digits are sent; MarshalTo wants room.
func TestSender4733Errors(t *testing.T) {
	s := NewSender4733(101, 1)
	for _, d := range []byte{'E', 'x', 0, '!', ' '} {
		if _, err := s.Digit(d, time.Second, 0, 0); !errors.Is(err, ErrDigit) {
			t.Errorf("digit %q: error %v, want ErrDigit", d, err)
		}
	}
	b, err := s.Digit('a', 0, 0, 0)
	if err != nil || b.Packets[0].Payload[0] != 12 {
		t.Fatalf("digit a: %v %v", b, err)
	}
	var buf [15]byte
	if _, err := b.Packets[0].MarshalTo(buf[:]); err == nil {
		t.Error("MarshalTo into 15 bytes: no error")
	}
	var full [16]byte
	if n, err := b.Packets[0].MarshalTo(full[:]); err != nil || n != 16 {
		t.Errorf("MarshalTo into 16 bytes: %d %v", n, err)
	}
}
