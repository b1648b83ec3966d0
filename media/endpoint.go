package media

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/dtmf"
	"github.com/switchd/switchd/media/jitter"
	"github.com/switchd/switchd/media/tap"
)

// FrameSource gives the audio an Endpoint sends, one 20 ms frame per call
// from the endpoint's clock goroutine; it must not block. A prompt.Player
// is one. It reports whether it is playing (false: out is silence).
type FrameSource interface {
	Next(out *audio.Frame) bool
}

// EndpointConfig is how an Endpoint terminates a session.
type EndpointConfig struct {
	// Codec is the negotiated speech codec (PCMU or PCMA) sent and decoded.
	Codec Codec
	// TelephoneEvent is the RFC 4733 payload type negotiated on the leg;
	// 0: none (digits are then sent as in-band tones).
	TelephoneEvent uint8
	// InBand detects DTMF tones in the decoded audio too.
	InBand bool
	// Source is what the endpoint sends; nil sends silence.
	Source FrameSource
	// OnDigit receives each digit detected (RFC 4733 or in-band), from the
	// endpoint's goroutines; it must not block. The caller merges sources.
	OnDigit func(dtmf.Event)
	// Tap receives the decoded audio both ways when anyone listens.
	Tap *tap.Point
	// JitterMin and JitterMax bound the jitter buffer (default 40/200 ms).
	JitterMin, JitterMax time.Duration
}

// Endpoint terminates one session's media in switchd, for legs that
// switchd talks to itself (service numbers, IVR, queues): it reads the
// phone's RTP through a jitter buffer, decodes it for DTMF detection and
// taps, and sends a stream made from its Source every 20 ms. The stream
// goes on from what the session sent before (same SSRC, next sequence
// number, timestamp advanced by the time elapsed), so a phone's jitter
// buffer sees one continuous stream when a relayed call turns into a
// prompt. Two-party calls do not use an Endpoint: they relay undecoded.
type Endpoint struct {
	s     *Session
	cfg   EndpointConfig
	codec audio.Codec
	jb    *jitter.Buffer

	rxMu sync.Mutex
	rx   *dtmf.Receiver4733

	inband *dtmf.InBand
	src    atomic.Pointer[sourceBox]

	// outgoing stream; clock goroutine only
	ssrc     uint32
	seq      uint16
	ts       uint32
	mark     bool
	pkt      []byte
	in, out  audio.Frame
	prevIn   audio.Frame
	lostRun  int
	sender   *dtmf.Sender4733
	burst    []dtmf.Packet4733
	burstAt  int
	burstEnd dtmf.Burst
	toneLeft int // in-band digit frames left to send
	tone     *audio.ToneGen

	digits chan digitReq

	stopping  atomic.Bool
	cancel    context.CancelFunc
	unwatch   func() bool   // stops the context watch
	watchDone chan struct{} // closed when a started watch has interrupted
	wg        sync.WaitGroup
	stopOnce  sync.Once

	sentFrames, sentEvents, unknownPT atomic.Uint64
}

type sourceBox struct{ FrameSource }

type digitReq struct {
	digit byte
	d     time.Duration
}

// Errors of StartEndpoint.
var errEndpointCodec = errors.New("media: endpoint needs PCMU or PCMA")

// StartEndpoint terminates the session's media in switchd until Stop (or
// ctx ends). The session's RTP socket is read by one reader at a time:
// ErrBusy while a Relay runs on it.
func (s *Session) StartEndpoint(ctx context.Context, cfg EndpointConfig) (*Endpoint, error) {
	codec, ok := audio.CodecByName(cfg.Codec.Name)
	if !ok {
		return nil, fmt.Errorf("%w (got %q)", errEndpointCodec, cfg.Codec.Name)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if !s.reader.CompareAndSwap(false, true) {
		return nil, ErrBusy
	}
	if cfg.JitterMin <= 0 {
		cfg.JitterMin = 40 * time.Millisecond
	}
	if cfg.JitterMax <= 0 {
		cfg.JitterMax = 200 * time.Millisecond
	}
	e := &Endpoint{
		s: s, cfg: cfg, codec: codec,
		jb:     jitter.New(jitter.ForCodec(codec, cfg.JitterMin, cfg.JitterMax)),
		rx:     dtmf.NewReceiver4733(),
		inband: dtmf.NewInBand(),
		pkt:    make([]byte, rtpHeaderLen, rtpHeaderLen+codec.PayloadBytes()),
		digits: make(chan digitReq, 32),
	}
	if cfg.Source != nil {
		e.src.Store(&sourceBox{cfg.Source})
	}
	e.continueStream(s.e.now())
	if cfg.TelephoneEvent != 0 {
		e.sender = dtmf.NewSender4733(cfg.TelephoneEvent, e.ssrc)
	}
	ctx, e.cancel = context.WithCancel(ctx)
	e.wg.Add(2)
	go e.read()
	go e.clock(ctx)
	e.watchDone = make(chan struct{})
	e.unwatch = context.AfterFunc(ctx, func() { defer close(e.watchDone); e.interrupt() })
	return e, nil
}

// continueStream picks up the outgoing stream where the session left it
// (RFC 3550 §5.1: a new SSRC would make the phone resync its playout), or
// starts a new one with random sequence number and timestamp.
func (e *Endpoint) continueStream(now time.Time) {
	s := e.s
	s.txMu.Lock()
	tx := s.tx
	s.txMu.Unlock()
	if tx.started {
		e.ssrc, e.seq = tx.ssrc, tx.lastSeq+1
		elapsed := now.Sub(tx.lastAt)
		if elapsed < 0 || elapsed > time.Hour {
			elapsed = 0
		}
		frames := uint32(elapsed/audio.FrameDuration) + 1
		e.ts = tx.lastTS + frames*uint32(audio.FrameSamples)
	} else {
		e.ssrc = rand.Uint32()
		e.seq = uint16(rand.Uint32())
		e.ts = rand.Uint32()
	}
	e.mark = true // a new talkspurt (RFC 3551 §4.1)
}

// SetSource replaces what the endpoint sends (nil: silence).
func (e *Endpoint) SetSource(src FrameSource) {
	if src == nil {
		e.src.Store(nil)
		return
	}
	e.src.Store(&sourceBox{src})
}

// SendDigits sends DTMF to the phone, each digit for d: as RFC 4733
// telephone-events when the leg negotiated them, else as in-band tones.
func (e *Endpoint) SendDigits(digits string, d time.Duration) error {
	for i := 0; i < len(digits); i++ {
		if _, ok := dtmf.EventCode(digits[i]); !ok {
			return fmt.Errorf("media: %q is not a DTMF digit", digits[i])
		}
	}
	for i := 0; i < len(digits); i++ {
		select {
		case e.digits <- digitReq{digit: digits[i], d: d}:
		default:
			return errors.New("media: too many digits queued")
		}
	}
	return nil
}

// Stop ends the endpoint and frees the session for another reader (the
// session stays open). Idempotent.
func (e *Endpoint) Stop() {
	e.stopOnce.Do(func() {
		// The watch must not interrupt whoever reads the session next.
		if !e.unwatch() {
			<-e.watchDone // ctx ended: the watch is interrupting right now
		}
		e.cancel()
		e.interrupt()
		e.wg.Wait()
		e.s.rtp.SetReadDeadline(time.Time{})
		e.s.reader.Store(false)
	})
}

func (e *Endpoint) interrupt() {
	e.stopping.Store(true)
	e.s.rtp.SetReadDeadline(time.Unix(1, 0))
}

// EndpointStats counts what an endpoint did.
type EndpointStats struct {
	SentFrames, SentEvents, UnknownPayloadType uint64
	Jitter                                     jitter.Stats
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() EndpointStats {
	return EndpointStats{SentFrames: e.sentFrames.Load(), SentEvents: e.sentEvents.Load(),
		UnknownPayloadType: e.unknownPT.Load(), Jitter: e.jb.Stats()}
}

// read is the reader goroutine: speech into the jitter buffer,
// telephone-events into the RFC 4733 receiver.
func (e *Endpoint) read() {
	defer e.wg.Done()
	buf := make([]byte, readBufSize)
	for {
		_, p, err := e.s.readPacket(buf)
		if err != nil {
			if e.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		payload := buf[p.payload:p.end]
		switch {
		case e.cfg.TelephoneEvent != 0 && p.pt == e.cfg.TelephoneEvent:
			e.rxMu.Lock()
			ev, ok := e.rx.Packet(p.ts, p.marker, payload, p.at)
			e.rxMu.Unlock()
			if ok && e.cfg.OnDigit != nil {
				e.cfg.OnDigit(ev)
			}
		case p.pt == e.cfg.Codec.PayloadType:
			e.jb.Push(p.seq, p.ts, p.ssrc, payload, p.at)
		default:
			e.unknownPT.Add(1)
		}
	}
}

// clock is the 20 ms goroutine: play out one received frame, send one.
func (e *Endpoint) clock(ctx context.Context) {
	defer e.wg.Done()
	t := time.NewTicker(audio.FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.step(e.s.e.now())
		}
	}
}

// step is one 20 ms tick, separate from the clock so tests drive it.
func (e *Endpoint) step(now time.Time) {
	e.receiveStep(now)
	e.sendStep(now)
}

// receiveStep plays out one frame from the jitter buffer: decoded only
// when in-band detection or a tap needs the audio.
func (e *Endpoint) receiveStep(now time.Time) {
	if e.cfg.TelephoneEvent != 0 {
		e.rxMu.Lock()
		ev, ok := e.rx.Tick(now)
		e.rxMu.Unlock()
		if ok && e.cfg.OnDigit != nil {
			e.cfg.OnDigit(ev)
		}
	}
	payload, st := e.jb.Pop(now)
	tapIn := e.cfg.Tap != nil && e.cfg.Tap.Listening(tap.In)
	if !e.cfg.InBand && !tapIn {
		return
	}
	switch st {
	case jitter.Ok:
		e.codec.Decode(payload, &e.in)
		if e.cfg.InBand {
			if ev, ok := e.inband.Frame(&e.in, now); ok && e.cfg.OnDigit != nil {
				e.cfg.OnDigit(ev)
			}
		}
		if tapIn {
			e.prevIn, e.lostRun = e.in, 0 // kept for concealment, which only the tap hears
		}
	case jitter.Lost:
		if !tapIn {
			return
		}
		e.lostRun++
		jitter.Conceal(&e.prevIn, &e.in, e.lostRun)
	default:
		e.in = audio.Frame{}
	}
	if tapIn {
		e.cfg.Tap.Publish(tap.In, &e.in, now)
	}
}

// sendStep sends one packet: a telephone-event of a digit being sent, or
// 20 ms of the source (a DTMF tone while one is sent in-band).
func (e *Endpoint) sendStep(now time.Time) {
	if e.burstAt < len(e.burst) {
		p := &e.burst[e.burstAt]
		e.burstAt++
		e.writeEvent(p, now)
		if e.burstAt == len(e.burst) {
			e.seq, e.ts = e.burstEnd.NextSequence, e.burstEnd.NextTimestamp
			e.burst = e.burst[:0]
			e.burstAt = 0
		}
		return
	}
	if e.toneLeft == 0 {
		select {
		case r := <-e.digits:
			if e.sender != nil {
				b, err := e.sender.Digit(r.digit, r.d, e.seq, e.ts)
				if err == nil && len(b.Packets) > 0 {
					e.burst, e.burstAt, e.burstEnd = b.Packets, 0, b
					e.sendStep(now)
					return
				}
			}
			e.tone = audio.NewTone(dtmfTone(r.digit))
			e.toneLeft = int(r.d/audio.FrameDuration) + 3 // the tone, then 60 ms of pause
		default:
		}
	}
	switch {
	case e.toneLeft > 3:
		e.tone.Next(&e.out)
		e.toneLeft--
	case e.toneLeft > 0:
		e.out = audio.Frame{}
		e.toneLeft--
	default:
		if b := e.src.Load(); b == nil || !b.Next(&e.out) {
			e.out = audio.Frame{}
		}
	}
	e.writeVoice(now)
	if e.cfg.Tap != nil && e.cfg.Tap.Listening(tap.Out) {
		e.cfg.Tap.Publish(tap.Out, &e.out, now)
	}
}

func (e *Endpoint) writeVoice(now time.Time) {
	pkt := e.codec.Encode(&e.out, e.pkt[rtpHeaderLen:rtpHeaderLen])
	n := rtpHeaderLen + len(pkt)
	b := e.pkt[:n]
	e.header(b, e.cfg.Codec.PayloadType, e.mark, e.seq, e.ts)
	e.mark = false
	info := rtpInfo{pt: e.cfg.Codec.PayloadType, seq: e.seq, ts: e.ts, ssrc: e.ssrc, payload: rtpHeaderLen, end: n, at: now}
	if err := e.s.writeRTP(b, &info); err == nil {
		e.sentFrames.Add(1)
	}
	e.seq++
	e.ts += uint32(audio.FrameSamples)
}

func (e *Endpoint) writeEvent(p *dtmf.Packet4733, now time.Time) {
	var b [rtpHeaderLen + 4]byte
	e.header(b[:], e.cfg.TelephoneEvent, p.Header.Marker, p.Header.SequenceNumber, p.Header.Timestamp)
	copy(b[rtpHeaderLen:], p.Payload[:])
	info := rtpInfo{pt: e.cfg.TelephoneEvent, marker: p.Header.Marker, seq: p.Header.SequenceNumber,
		ts: p.Header.Timestamp, ssrc: e.ssrc, payload: rtpHeaderLen, end: len(b), at: now}
	if err := e.s.writeRTP(b[:], &info); err == nil {
		e.sentEvents.Add(1)
	}
}

// header writes a fixed RTP header (RFC 3550 §5.1).
func (e *Endpoint) header(b []byte, pt uint8, marker bool, seq uint16, ts uint32) {
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], e.ssrc)
}

// dtmfTone is the ITU-T Q.23 tone pair of a digit, at -8 dBm0 per
// frequency (within Q.24's accepted levels).
func dtmfTone(d byte) audio.ToneSpec {
	low, high, _ := dtmf.Freqs(d) // SendDigits accepted only keys
	return audio.ToneSpec{Freqs: []float64{low, high}, Level: -8}
}
