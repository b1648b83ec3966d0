package media

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/dtmf"
)

// toneSource sends a continuous tone.
type toneSource struct{ g *audio.ToneGen }

func (s toneSource) Next(out *audio.Frame) bool { s.g.Next(out); return true }

// digitLog collects the digits an endpoint reports.
type digitLog struct {
	mu sync.Mutex
	ev []dtmf.Event
}

func (d *digitLog) add(e dtmf.Event) { d.mu.Lock(); d.ev = append(d.ev, e); d.mu.Unlock() }
func (d *digitLog) digits() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := ""
	for _, e := range d.ev {
		s += string(e.Digit)
	}
	return s
}

func startTestEndpoint(t *testing.T, lo int, cfg EndpointConfig) (*Session, *Endpoint, *phone) {
	t.Helper()
	e := newTestEngine(t, lo, lo+99)
	s := newTestSession(t, e)
	ph := newPhone(t)
	s.SetCodecs(PCMA, TelephoneEvent(101))
	s.SetRemote(ph.addr, ph.addr.Addr())
	ep, err := s.StartEndpoint(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ep.Stop)
	return s, ep, ph
}

// TestEndpointSendsContinuousStream: the endpoint sends its source every
// 20 ms as PCMA with one SSRC, consecutive sequence numbers and
// timestamps 160 apart, the first packet marked; the audio decodes to the
// source's tone.
func TestEndpointSendsContinuousStream(t *testing.T) {
	src := toneSource{audio.NewTone(audio.ToneSpec{Freqs: []float64{1000}, Level: -10})}
	_, _, ph := startTestEndpoint(t, 28000, EndpointConfig{Codec: PCMA, TelephoneEvent: 101, Source: src})
	var samples []int16
	var prevSeq uint16
	var prevTS, ssrc uint32
	for i := 0; i < 25; i++ {
		p := parseTestRTP(t, ph.mustRecv())
		if p.PayloadType != 8 || len(p.Payload) != 160 {
			t.Fatalf("packet %d: PT %d, %d bytes", i, p.PayloadType, len(p.Payload))
		}
		if i == 0 {
			if !p.Marker {
				t.Fatal("first packet not marked (RFC 3551 §4.1)")
			}
			ssrc = p.SSRC
		} else if p.SequenceNumber != prevSeq+1 || p.Timestamp != prevTS+160 || p.SSRC != ssrc || p.Marker {
			t.Fatalf("packet %d: seq %d ts %d ssrc %x marker %v after seq %d ts %d ssrc %x",
				i, p.SequenceNumber, p.Timestamp, p.SSRC, p.Marker, prevSeq, prevTS, ssrc)
		}
		prevSeq, prevTS = p.SequenceNumber, p.Timestamp
		var f audio.Frame
		audio.PCMA.Decode(p.Payload, &f)
		samples = append(samples, f[:]...)
	}
	p1000 := audio.Goertzel(samples, 1000)
	p1500 := audio.Goertzel(samples, 1500)
	if p1000 < 1000*p1500 || audio.PowerDBm0(p1000) < -13 {
		t.Fatalf("1000 Hz at %.1f dBm0, 1500 Hz at %.1f dBm0", audio.PowerDBm0(p1000), audio.PowerDBm0(p1500))
	}
}

// TestEndpointContinuesRelayedStream: after packets went out on the
// session (as a relay sends them), the endpoint goes on with the same SSRC
// and the next sequence number (RFC 3550 §5.1), marking the new talkspurt.
func TestEndpointContinuesRelayedStream(t *testing.T) {
	e := newTestEngine(t, 28100, 28199)
	s := newTestSession(t, e)
	ph := newPhone(t)
	s.SetCodecs(PCMA)
	s.SetRemote(ph.addr, ph.addr.Addr())
	pkt := rtpPacket(t, 8, 4000, 90000, 0xabcdef01, false, make([]byte, 160))
	p, _ := parseRTP(pkt)
	p.at = time.Now()
	if err := s.writeRTP(pkt, &p); err != nil {
		t.Fatal(err)
	}
	ph.mustRecv()
	ep, err := s.StartEndpoint(context.Background(), EndpointConfig{Codec: PCMA})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Stop()
	got := parseTestRTP(t, ph.mustRecv())
	if got.SSRC != 0xabcdef01 || got.SequenceNumber != 4001 || got.Timestamp <= 90000 || got.Timestamp-90000 > 8000 || !got.Marker {
		t.Fatalf("endpoint went on with ssrc %x seq %d ts %d marker %v; want ssrc abcdef01, seq 4001, ts a little after 90000, marked",
			got.SSRC, got.SequenceNumber, got.Timestamp, got.Marker)
	}
}

// TestEndpointDigitsRFC4733AndInBand: a key pressed as RFC 4733 events
// (with the three end packets) is reported once; a DTMF tone pair in the
// audio is reported as an in-band digit.
func TestEndpointDigitsRFC4733AndInBand(t *testing.T) {
	var log digitLog
	s, _, ph := startTestEndpoint(t, 28200, EndpointConfig{Codec: PCMA, TelephoneEvent: 101, InBand: true, OnDigit: log.add})
	to := s.LocalAddr()
	seq, ts := uint16(100), uint32(8000)
	// Digit 7: start, two updates, three end packets (RFC 4733 §2.5.1.4).
	for i, d := range []uint16{160, 320, 480, 640, 640, 640} {
		end := byte(0)
		if i >= 3 {
			end = 0x80
		}
		ph.send(to, rtpPacket(t, 101, seq, ts, 0x1234, i == 0, []byte{7, end | 10, byte(d >> 8), byte(d)}))
		seq++
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, "digit 7 from RFC 4733", func() bool { return log.digits() == "7" })
	// Then in-band '#': 941 + 1477 Hz for 120 ms, as PCMA audio.
	ts += 2000
	g := audio.NewTone(audio.ToneSpec{Freqs: []float64{941, 1477}, Level: -10})
	for i := 0; i < 15; i++ {
		var f audio.Frame
		if i < 6 {
			g.Next(&f)
		}
		ph.send(to, rtpPacket(t, 8, seq, ts, 0x1234, false, audio.PCMA.Encode(&f, nil)))
		seq++
		ts += 160
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, "digit # in-band", func() bool { return log.digits() == "7#" })
	time.Sleep(200 * time.Millisecond)
	if d := log.digits(); d != "7#" {
		t.Fatalf("digits %q, want 7# (each once)", d)
	}
}

// TestEndpointSendsDigits: SendDigits goes out as RFC 4733 events when
// negotiated: a marked start packet, then end packets with the E bit.
func TestEndpointSendsDigits(t *testing.T) {
	_, ep, ph := startTestEndpoint(t, 28300, EndpointConfig{Codec: PCMA, TelephoneEvent: 101})
	if err := ep.SendDigits("4", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var events, ends int
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && ends < 3 {
		p := parseTestRTP(t, ph.mustRecv())
		if p.PayloadType != 101 {
			continue
		}
		if events == 0 && (!p.Marker || p.Payload[0] != 4) {
			t.Fatalf("first event packet: marker %v event %d", p.Marker, p.Payload[0])
		}
		events++
		if p.Payload[1]&0x80 != 0 {
			ends++
		}
	}
	if ends != 3 || events < 4 {
		t.Fatalf("sent %d event packets, %d with the end bit; want ≥ 4 and 3", events, ends)
	}
	if err := ep.SendDigits("x", time.Second); err == nil {
		t.Fatal("SendDigits accepted a non-digit")
	}
}

// TestEndpointSendsDigitsInBand: on a leg without telephone-event,
// SendDigits plays the Q.23 tone pairs in the audio; an in-band detector
// on the far side reads the same keys (lower-case a-d are A-D).
func TestEndpointSendsDigitsInBand(t *testing.T) {
	_, ep, ph := startTestEndpoint(t, 28500, EndpointConfig{Codec: PCMA})
	if err := ep.SendDigits("5a#", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	det := dtmf.NewInBand()
	got := ""
	now := time.Now()
	for i := 0; i < 40 && len(got) < 3; i++ {
		p := parseTestRTP(t, ph.mustRecv())
		var f audio.Frame
		audio.PCMA.Decode(p.Payload, &f)
		now = now.Add(20 * time.Millisecond)
		if ev, ok := det.Frame(&f, now); ok {
			got += string(ev.Digit)
		}
	}
	if got != "5A#" {
		t.Fatalf("far side detected %q, want 5A#", got)
	}
}

// TestEndpointStopFreesSession: after Stop (idempotent) the session is
// read by a relay again — a packet from the phone crosses it — and, after
// a context that ended first, too; a second reader while an endpoint runs
// and a codec it cannot decode are refused.
func TestEndpointStopFreesSession(t *testing.T) {
	s, ep, ph := startTestEndpoint(t, 28400, EndpointConfig{Codec: PCMA})
	if _, err := s.StartEndpoint(context.Background(), EndpointConfig{Codec: PCMA}); err == nil {
		t.Fatal("a second reader was allowed on the session")
	}
	ep.Stop()
	ep.Stop()
	requireRelays(t, s, ph)

	ctx, cancel := context.WithCancel(context.Background())
	ep2, err := s.StartEndpoint(ctx, EndpointConfig{Codec: PCMA})
	if err != nil {
		t.Fatalf("session not freed by Stop: %v", err)
	}
	cancel()
	time.Sleep(20 * time.Millisecond)
	ep2.Stop()
	requireRelays(t, s, ph)
	if _, err := s.StartEndpoint(context.Background(), EndpointConfig{Codec: Codec{Name: "opus"}}); err == nil {
		t.Fatal("an endpoint was started for a codec it cannot decode")
	}
}

// requireRelays relays s to a new session and checks that a packet the
// phone sends to s comes out of the other one.
func requireRelays(t *testing.T, s *Session, ph *phone) {
	t.Helper()
	b := newTestSession(t, s.e)
	far := newPhone(t)
	b.SetCodecs(PCMA)
	b.SetRemote(far.addr, far.addr.Addr())
	cfg, err := NewRelayConfig([]Codec{PCMA}, []Codec{PCMA})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRelay(s, b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("relay after the endpoint: %v", err)
	}
	defer r.Stop()
	ph.send(s.LocalAddr(), rtpPacket(t, 8, 77, 7700, 0x42, false, make([]byte, 160)))
	if p := parseTestRTP(t, far.mustRecv()); p.SequenceNumber != 77 {
		t.Fatalf("relayed seq %d, want 77", p.SequenceNumber)
	}
}

// BenchmarkEndpointPlayback500: one 20 ms step (decode nothing, play a
// tone, encode PCMA, send over UDP) of 500 endpoints, as when 500 callers
// hear a prompt. ns/op is per step of all 500 legs; leg-CPU% is the share
// of one core the 500 legs take at 50 steps/s.
func BenchmarkEndpointPlayback500(b *testing.B) {
	const legs = 500
	e := newTestEngine(b, 28000, 28000+2*legs+10)
	sink := newPhone(b)
	eps := make([]*Endpoint, legs)
	for i := range eps {
		s := newTestSession(b, e)
		s.SetCodecs(PCMA)
		s.SetRemote(sink.addr, sink.addr.Addr())
		src := toneSource{audio.NewTone(audio.ToneSpec{Freqs: []float64{440, 480}, Level: -16})}
		// A stopped endpoint's state, stepped by the benchmark itself.
		ep, err := s.StartEndpoint(context.Background(), EndpointConfig{Codec: PCMA, Source: src})
		if err != nil {
			b.Fatal(err)
		}
		ep.Stop()
		eps[i] = ep
	}
	go func() { // drain the sink
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.conn.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(20 * time.Millisecond)
		for _, ep := range eps {
			ep.sendStep(now)
		}
	}
	b.StopTimer()
	perStep := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perStep/legs, "ns/leg-frame")
	b.ReportMetric(perStep*50/1e9*100, "leg-CPU%")
}
