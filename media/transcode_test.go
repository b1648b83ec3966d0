package media

import (
	"math"
	"testing"

	"github.com/zaf/g711"
)

// sine returns n samples of a 1 kHz tone at 8 kHz, amplitude amp.
func sine(n int, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*1000*float64(i)/8000+0.3))
	}
	return s
}

// g711Tolerance is the largest error allowed for a sample x after μ-law
// encoding and μ-law→A-law conversion: G.711's quantisation step grows
// with the segment (2^(segment+1) in 13-bit units for A-law, about 1/16 of
// the magnitude), so the bound is relative, with a floor for the smallest
// segments.
func g711Tolerance(x int16) float64 { return math.Max(32, math.Abs(float64(x))/10) }

// TestTranscodePCMUToPCMA: a tone encoded as μ-law on leg A arrives as
// A-law on leg B (PT 0 → 8) and decodes to the same tone within G.711
// tolerance; header fields are kept. And back.
func TestTranscodePCMUToPCMA(t *testing.T) {
	e := newTestEngine(t, 24000, 24099)
	cfg, err := NewRelayConfig([]Codec{PCMU}, []Codec{PCMA})
	if err != nil {
		t.Fatal(err)
	}
	c := newCall(t, e, cfg)
	for _, amp := range []float64{200, 3000, 20000} {
		tone := sine(160, amp)
		ulaw := make([]byte, len(tone))
		for i, x := range tone {
			ulaw[i] = g711.EncodeUlawFrame(x)
		}
		c.pa.send(c.a.LocalAddr(), rtpPacket(t, 0, 77, 12345, 0xfeed, true, ulaw))
		got := parseTestRTP(t, c.pb.mustRecv())
		if got.PayloadType != 8 || got.SequenceNumber != 77 || got.Timestamp != 12345 || got.SSRC != 0xfeed || !got.Marker {
			t.Fatalf("header %v", got.Header)
		}
		if len(got.Payload) != len(tone) {
			t.Fatalf("payload %d bytes, want %d", len(got.Payload), len(tone))
		}
		var sig, noise float64
		for i, a := range got.Payload {
			y := g711.DecodeAlawFrame(a)
			d := float64(y) - float64(tone[i])
			if math.Abs(d) > g711Tolerance(tone[i]) {
				t.Fatalf("amp %.0f sample %d: sent %d, got %d", amp, i, tone[i], y)
			}
			sig += float64(tone[i]) * float64(tone[i])
			noise += d * d
		}
		if snr := 10 * math.Log10(sig/noise); amp >= 3000 && snr < 30 {
			t.Fatalf("amp %.0f: SNR %.1f dB, want ≥ 30 (G.711 gives about 35)", amp, snr)
		}

		// B→A: A-law from leg B reaches leg A as μ-law.
		alaw := make([]byte, len(tone))
		for i, x := range tone {
			alaw[i] = g711.EncodeAlawFrame(x)
		}
		c.pb.send(c.b.LocalAddr(), rtpPacket(t, 8, 5, 160, 0xbeef, false, alaw))
		back := parseTestRTP(t, c.pa.mustRecv())
		if back.PayloadType != 0 {
			t.Fatalf("B→A PT %d", back.PayloadType)
		}
		for i, u := range back.Payload {
			if y := g711.DecodeUlawFrame(u); math.Abs(float64(y)-float64(tone[i])) > g711Tolerance(tone[i]) {
				t.Fatalf("B→A amp %.0f sample %d: sent %d, got %d", amp, i, tone[i], y)
			}
		}
	}
	if st := c.relay.Stats(); st.AToB.Transcoded != 3 || st.BToA.Transcoded != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTranscodeKeepsPadding: only the payload is converted, not the RTP
// padding (RFC 3550 §5.1 P bit).
func TestTranscodeKeepsPadding(t *testing.T) {
	pkt := rtpPacket(t, 0, 1, 0, 1, false, []byte{0xff, 0x00})
	pkt = append(pkt, 0, 0, 3) // 3 bytes of padding
	pkt[0] |= 0x20
	p, ok := parseRTP(pkt)
	if !ok {
		t.Fatal("padded packet refused")
	}
	ulawToAlaw.apply(pkt[p.payload:p.end])
	if pkt[len(pkt)-1] != 3 || pkt[12] != g711.Ulaw2AlawFrame(0xff) || pkt[13] != g711.Ulaw2AlawFrame(0x00) {
		t.Fatalf("packet %x", pkt)
	}
}
