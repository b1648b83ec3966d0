package dtmf

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReceiver4733Golden runs the packet sequences of testdata/rfc4733.
// Input lines (after "#" comments):
//
//	<arrival ms> <RTP timestamp> <M|-> <payload hex>   a packet
//	repeat <n> <step ms> <duration step>                the last packet again n times,
//	                                                    each step later, its duration
//	                                                    field that much higher (mod 2^16)
//	tick <ms>                                           a call of Tick
//
// Output: one line per digit, "<ms of the call> <digit> <duration>
// start=<ms of At>", then the counters.
func TestReceiver4733Golden(t *testing.T) {
	runGolden(t, "rfc4733", func(t *testing.T, input string) string {
		r := NewReceiver4733()
		var out strings.Builder
		emit := func(at int64, e Event, ok bool) {
			if ok {
				fmt.Fprintf(&out, "%d %c %v start=%d\n", at, e.Digit, e.Duration, e.At.Sub(t0).Milliseconds())
			}
		}
		type packet struct {
			at      int64
			ts      uint32
			marker  bool
			payload []byte
		}
		var last packet
		for n, line := range strings.Split(input, "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			num := func(s string) int64 {
				v, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					t.Fatalf("line %d: %q: %v", n+1, line, err)
				}
				return v
			}
			switch {
			case f[0] == "tick" && len(f) == 2:
				at := num(f[1])
				e, ok := r.Tick(t0.Add(time.Duration(at) * time.Millisecond))
				emit(at, e, ok)
			case f[0] == "repeat" && len(f) == 4:
				count, step, dur := num(f[1]), num(f[2]), num(f[3])
				for range count {
					p := last
					p.at += step
					p.marker = false
					p.payload = append([]byte(nil), last.payload...)
					if len(p.payload) >= 4 {
						d := uint16(p.payload[2])<<8 | uint16(p.payload[3])
						d += uint16(dur)
						p.payload[2], p.payload[3] = byte(d>>8), byte(d)
					}
					e, ok := r.Packet(p.ts, p.marker, p.payload, t0.Add(time.Duration(p.at)*time.Millisecond))
					emit(p.at, e, ok)
					last = p
				}
			case len(f) == 3 || len(f) == 4:
				payload, err := hex.DecodeString(strings.Join(f[3:], ""))
				if err != nil {
					t.Fatalf("line %d: payload: %v", n+1, err)
				}
				p := packet{at: num(f[0]), ts: uint32(num(f[1])), marker: f[2] == "M", payload: payload}
				e, ok := r.Packet(p.ts, p.marker, p.payload, t0.Add(time.Duration(p.at)*time.Millisecond))
				emit(p.at, e, ok)
				last = p
			default:
				t.Fatalf("line %d: cannot read %q", n+1, line)
			}
		}
		s := r.Stats()
		fmt.Fprintf(&out, "stats packets=%d malformed=%d notdigit=%d late=%d digits=%d\n", s.Packets, s.Malformed, s.NotDigit, s.Late, s.Digits)
		return out.String()
	})
}

// TestReceiver4733Options: the clock rate scales durations, the end
// timeout is honoured, Reset forgets the event under way.
func TestReceiver4733Options(t *testing.T) {
	r := NewReceiver4733(WithClockRate(48000), WithEndTimeout(200*time.Millisecond))
	if _, ok := r.Packet(1000, true, []byte{1, 0x0a, 0x12, 0xc0}, t0); ok { // 4800 samples
		t.Fatal("reported on the first packet")
	}
	if _, ok := r.Tick(t0.Add(199 * time.Millisecond)); ok {
		t.Fatal("reported before the timeout")
	}
	e, ok := r.Tick(t0.Add(200 * time.Millisecond))
	if !ok || e.Digit != '1' || e.Duration != 100*time.Millisecond || !e.At.Equal(t0.Add(-100*time.Millisecond)) {
		t.Fatalf("Tick: %+v %v", e, ok)
	}
	// After Reset, a packet of the same event is a new event again.
	r.Reset()
	if e, ok := r.Packet(1000, false, []byte{1, 0x8a, 0x12, 0xc0}, t0.Add(time.Second)); !ok || e.Digit != '1' {
		t.Fatalf("after Reset: %+v %v", e, ok)
	}
	if s := r.Stats(); s.Digits != 2 || s.Packets != 2 {
		t.Errorf("stats %+v", s)
	}
	// Zero and negative options are ignored.
	r = NewReceiver4733(WithClockRate(0), WithEndTimeout(-time.Second))
	if r.rate != DefaultClockRate || r.timeout != DefaultEndTimeout {
		t.Errorf("rate %d timeout %v", r.rate, r.timeout)
	}
}

func TestExtendDuration(t *testing.T) {
	for _, c := range []struct {
		cur   uint32
		field uint16
		want  uint32
	}{
		{0, 160, 160},
		{65440, 64, 65600},       // wrapped
		{65600, 65440, 65440},    // a late packet from before the wrap
		{131000, 100, 131172},    // second wrap
		{1000, 900, 900},         // reordered, below
		{0x7000, 0xF000, 0xF000}, // a jump, not a wrap
		{0x10000 + 10, 0xFFF0, 0xFFF0},
	} {
		if got := extendDuration(c.cur, c.field); got != c.want {
			t.Errorf("extendDuration(%d, %d) = %d, want %d", c.cur, c.field, got, c.want)
		}
	}
}
