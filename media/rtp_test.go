package media

import (
	"testing"
)

func TestParseRTP(t *testing.T) {
	base := func() []byte { return rtpPacket(t, 0, 1, 2, 3, false, []byte{0xaa, 0xbb, 0xcc, 0xdd}) }
	for _, tc := range []struct {
		name          string
		mod           func([]byte) []byte
		ok            bool
		payload, size int
	}{
		{"plain", func(b []byte) []byte { return b }, true, 12, 4},
		{"short", func(b []byte) []byte { return b[:11] }, false, 0, 0},
		{"version 1", func(b []byte) []byte { b[0] = 0x40; return b }, false, 0, 0},
		{"rtcp RR", func(b []byte) []byte { b[1] = 201; return b }, false, 0, 0},
		{"one CSRC", func(b []byte) []byte { b[0] |= 1; return b }, true, 16, 0},
		{"CSRC beyond end", func(b []byte) []byte { b[0] |= 2; return b }, false, 0, 0},
		{"padding 2", func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 2; return b }, true, 12, 2},
		{"padding 0", func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 0; return b }, false, 0, 0},
		{"padding too long", func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 5; return b }, false, 0, 0},
		{"extension", func(b []byte) []byte {
			b[0] |= 0x10
			ext := []byte{0xbe, 0xde, 0, 1, 1, 2, 3, 4}
			return append(append(b[:12:12], ext...), b[12:]...)
		}, true, 20, 4},
		{"extension truncated", func(b []byte) []byte { b[0] |= 0x10; b[14], b[15] = 0, 9; return b }, false, 0, 0},
	} {
		p, ok := parseRTP(tc.mod(base()))
		if ok != tc.ok || ok && (p.payload != tc.payload || p.end-p.payload != tc.size) {
			t.Errorf("%s: ok=%v payload=%d size=%d, want ok=%v payload=%d size=%d",
				tc.name, ok, p.payload, p.end-p.payload, tc.ok, tc.payload, tc.size)
		}
	}
	p, _ := parseRTP(rtpPacket(t, 101, 0xbeef, 0xdeadbeef, 0xcafe, true, nil))
	if p.pt != 101 || !p.marker || p.seq != 0xbeef || p.ts != 0xdeadbeef || p.ssrc != 0xcafe {
		t.Fatalf("fields %+v", p)
	}
}

// FuzzParseRTP: parseRTP takes any datagram from the network; it must
// never panic and must delimit a payload inside the packet.
func FuzzParseRTP(f *testing.F) {
	f.Add(rtpPacket(f, 0, 1, 2, 3, false, []byte{1, 2, 3}))
	f.Add([]byte{0xb1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 1, 0, 0, 0, 0, 4})
	f.Add([]byte{0xa0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := parseRTP(b)
		if !ok {
			return
		}
		if p.payload < rtpHeaderLen || p.payload > p.end || p.end > len(b) {
			t.Fatalf("payload [%d:%d] of %d bytes", p.payload, p.end, len(b))
		}
		setPayloadType(b, 127)
		if b[1]&0x7f != 127 || (b[1]&0x80 != 0) != p.marker {
			t.Fatal("setPayloadType broke the marker")
		}
	})
}
