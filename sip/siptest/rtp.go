package siptest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// packetInterval is the ptime the phone sends with.
const packetInterval = 20 * time.Millisecond

// keepAudio bounds the received audio the phone keeps (10 s).
const keepAudio = 10 * SampleRate

// errStreamClosed is returned by Listen once the call's media has stopped.
var errStreamClosed = errors.New("siptest: media stream closed")

// stream is the media of one call: an RTP socket (RFC 3550) that sends the
// phone's tone as 20 ms G.711 packets and decodes what it receives.
type stream struct {
	conn  *net.UDPConn
	local netip.AddrPort

	mu     sync.Mutex // sender state
	remote netip.AddrPort
	send   bool
	silent bool // sends nothing whatever the direction (a dead phone)
	codec  Codec
	tone   Tone
	insert []toneSpan  // sent instead of tone until used up (in-band DTMF)
	events []eventSpan // RFC 4733 telephone-events sent instead of audio
	ssrc   uint32
	seq    uint16
	ts     uint32
	marker bool
	sent   int

	rxMu     sync.Mutex // receiver state
	samples  []int16
	base     int // absolute index of samples[0]
	received int
	pts      map[uint8]int
	ssrcs    map[uint32]bool
	source   netip.AddrPort
	changed  chan struct{} // closed and replaced whenever audio arrives

	started   bool
	closed    bool // set by close: start must not Add to wg after close Waits
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// newStream binds an RTP socket on ip (any free port).
func newStream(ip netip.Addr, tone Tone) (*stream, error) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, fmt.Errorf("siptest: RTP socket: %w", err)
	}
	var b [8]byte
	rand.Read(b[:])
	return &stream{
		conn: conn, local: netip.AddrPortFrom(ip, uint16(conn.LocalAddr().(*net.UDPAddr).Port)),
		tone: tone, ssrc: binary.BigEndian.Uint32(b[:4]), seq: binary.BigEndian.Uint16(b[4:6]),
		ts: binary.BigEndian.Uint32(b[:4]) ^ 0x5a5a5a5a, marker: true,
		pts: map[uint8]int{}, ssrcs: map[uint32]bool{}, changed: make(chan struct{}), stop: make(chan struct{}),
	}, nil
}

// toneSpan is a tone sent for a number of packets.
type toneSpan struct {
	tone    Tone
	packets int
}

// eventSpan is one key press sent as RFC 4733 telephone-event packets
// (or, with gap set, a pause after it).
type eventSpan struct {
	code    uint8
	packets int // 20 ms packets the key is held
	sent    int
	gap     bool
	ts      uint32 // the event's RTP timestamp (its start)
}

// playEvents sends the spans, in order, instead of audio.
func (s *stream) playEvents(spans ...eventSpan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, spans...)
}

// nextEvent returns the telephone-event payload of the next packet, if
// an event is being sent (called with mu held). RFC 4733 §2.5: every
// packet of an event has its start timestamp, the first has the marker
// bit, the duration grows, and the end packet is sent three times.
func (s *stream) nextEvent() (payload []byte, ts uint32, marker, ok bool) {
	for len(s.events) > 0 {
		e := &s.events[0]
		if e.gap {
			if e.sent++; e.sent >= e.packets {
				s.events = s.events[1:]
			}
			return nil, 0, false, false
		}
		if e.sent == 0 {
			e.ts = s.ts
		}
		end := e.sent >= e.packets-1
		dur := uint16(min((e.sent+1)*SamplesPerPacket, 0xffff))
		if end {
			dur = uint16(min(e.packets*SamplesPerPacket, 0xffff))
		}
		flags := byte(10) // volume -10 dBm0
		if end {
			flags |= 0x80
		}
		marker, ts = e.sent == 0, e.ts
		e.sent++
		if e.sent >= e.packets+2 { // the end packet three times
			s.events = s.events[1:]
		}
		return []byte{e.code, flags, byte(dur >> 8), byte(dur)}, ts, marker, true
	}
	return nil, 0, false, false
}

// play sends the spans, in order, in place of the phone's tone.
func (s *stream) play(spans ...toneSpan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insert = append(s.insert, spans...)
}

// configure sets where RTP goes, in which codec, and whether to send at all
// (false while our direction is recvonly or inactive).
func (s *stream) configure(remote netip.AddrPort, codec Codec, send bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote, s.codec, s.send = remote, codec, send
}

// setSilent stops (or resumes) sending without any signalling.
func (s *stream) setSilent(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = silent
}

// start starts the sender and the receiver (once).
func (s *stream) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.wg.Add(2)
	go s.sendLoop()
	go s.receiveLoop()
}

// sendLoop sends one packet every 20 ms: sequence numbers grow by one per
// packet sent and the timestamp by 160 per 20 ms whether sent or not
// (RFC 3550 §5.1), the marker bit is set on the first packet (RFC 3551 §4.1).
func (s *stream) sendLoop() {
	defer s.wg.Done()
	t := time.NewTicker(packetInterval)
	defer t.Stop()
	pcm := make([]int16, SamplesPerPacket)
	payload := make([]byte, 0, SamplesPerPacket)
	buf := make([]byte, 1500)
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if ev, evTS, evMarker, ok := s.nextEvent(); ok && s.send && !s.silent && s.remote.IsValid() && s.remote.Port() != 0 {
			h := rtp.Header{Version: 2, Marker: evMarker, PayloadType: telephoneEventPT, SequenceNumber: s.seq, Timestamp: evTS, SSRC: s.ssrc}
			s.seq++
			s.ts += SamplesPerPacket
			remote := s.remote
			s.mu.Unlock()
			pkt := rtp.Packet{Header: h, Payload: ev}
			if n, err := pkt.MarshalTo(buf); err == nil {
				s.conn.WriteToUDPAddrPort(buf[:n], remote)
			}
			continue
		}
		if len(s.insert) > 0 {
			s.insert[0].tone.Fill(pcm)
			if s.insert[0].packets--; s.insert[0].packets <= 0 {
				s.insert = s.insert[1:]
			}
		} else {
			s.tone.Fill(pcm)
		}
		remote, codec := s.remote, s.codec
		if !s.send || s.silent || !remote.IsValid() || remote.Port() == 0 || remote.Addr().IsUnspecified() {
			s.ts += SamplesPerPacket
			s.mu.Unlock()
			continue
		}
		h := rtp.Header{Version: 2, Marker: s.marker, PayloadType: codec.PayloadType,
			SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc}
		s.seq++
		s.ts += SamplesPerPacket
		s.marker = false
		s.sent++
		s.mu.Unlock()
		payload = codec.encode(payload[:0], pcm)
		pkt := rtp.Packet{Header: h, Payload: payload}
		n, err := pkt.MarshalTo(buf)
		if err != nil {
			continue
		}
		s.conn.WriteToUDPAddrPort(buf[:n], remote)
	}
}

// receiveLoop decodes every G.711 packet received into the audio buffer.
func (s *stream) receiveLoop() {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	var pkt rtp.Packet
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		s.rxMu.Lock()
		s.received++
		s.pts[pkt.PayloadType]++
		s.ssrcs[pkt.SSRC] = true
		s.source = src
		if c, ok := codecByPT(pkt.PayloadType); ok {
			s.samples = c.decode(s.samples, pkt.Payload)
			if len(s.samples) > keepAudio {
				drop := len(s.samples) - keepAudio/2
				s.samples = append(s.samples[:0], s.samples[drop:]...)
				s.base += drop
			}
			close(s.changed)
			s.changed = make(chan struct{})
		}
		s.rxMu.Unlock()
	}
}

// listen returns the next d of audio received from now on (packets are
// joined in arrival order). It fails when ctx ends first.
func (s *stream) listen(ctx context.Context, d time.Duration) ([]int16, error) {
	n := int(d.Seconds() * SampleRate)
	if n <= 0 || n > keepAudio/2 {
		return nil, fmt.Errorf("siptest: can listen for up to %v at a time, not %v", time.Duration(keepAudio/2)*time.Second/SampleRate, d)
	}
	s.rxMu.Lock()
	start := s.base + len(s.samples)
	s.rxMu.Unlock()
	for {
		s.rxMu.Lock()
		end := s.base + len(s.samples)
		if end >= start+n && start >= s.base {
			out := append([]int16(nil), s.samples[start-s.base:start-s.base+n]...)
			s.rxMu.Unlock()
			return out, nil
		}
		changed := s.changed
		s.rxMu.Unlock()
		select {
		case <-changed:
		case <-s.stop:
			return nil, errStreamClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("siptest: %d of %d samples received: %w", end-start, n, ctx.Err())
		}
	}
}

// MediaStats counts a call's RTP.
type MediaStats struct {
	Local        netip.AddrPort // our RTP address
	Remote       netip.AddrPort // where we send RTP
	Source       netip.AddrPort // where the last packet came from
	Sending      bool           // our direction sends (and SetSilent is off)
	Codec        Codec          // the codec we send
	Sent         int            // packets sent
	Received     int            // packets received
	PayloadTypes map[uint8]int  // received packets by payload type
	SSRCs        int            // distinct SSRCs received
}

func (s *stream) stats() MediaStats {
	s.mu.Lock()
	st := MediaStats{Local: s.local, Remote: s.remote, Sending: s.send && !s.silent, Codec: s.codec, Sent: s.sent}
	s.mu.Unlock()
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	st.Received, st.Source, st.SSRCs = s.received, s.source, len(s.ssrcs)
	st.PayloadTypes = make(map[uint8]int, len(s.pts))
	for pt, n := range s.pts {
		st.PayloadTypes[pt] = n
	}
	return st
}

// close stops both loops and releases the socket; idempotent.
func (s *stream) close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true // orders every wg.Add in start before the Wait below
		s.mu.Unlock()
		close(s.stop)
		s.conn.Close()
		s.wg.Wait()
	})
}
