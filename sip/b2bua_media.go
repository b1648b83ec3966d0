package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/sdp"
	"github.com/switchd/switchd/media/tap"
)

// callMedia is the anchored media of a two-party call: one RTP session per
// leg and a relay between them. Both phones only ever see switchd's
// addresses (RFC 3264 offer/answer is redone on each leg; the caller's SDP is
// never passed through).
type callMedia struct {
	aSess, bSess     *media.Session
	aOrigin, bOrigin *sdp.OriginTracker
	sid              uint64     // o= sess-id base of the call
	aIP, bIP         netip.Addr // our SDP address towards each phone
	aRemote, bRemote *sdp.Session
	aLocal, bLocal   *sdp.Session // last SDP we sent on each leg
	aCodecs, bCodecs []media.Codec
	relay            *media.Relay
	relayCancel      context.CancelFunc
	planKey          string // codecs the relay was planned for
	// aTap and bTap are each leg's decoded audio (In: what its phone
	// sends, Out: what it is sent), for recorders and speech recognition;
	// the relay and app endpoints publish to them while someone listens.
	aTap, bTap *tap.Point
}

// ourCodecs are the speech codecs switchd relays and converts between.
var ourCodecs = []sdp.Codec{sdp.PCMU, sdp.PCMA}

// errNotAcceptable means no usable audio (answer 488).
var errNotAcceptable = errors.New("no acceptable audio")

func (c *b2bCall) openMedia() error {
	if err := c.openCallerMedia(); err != nil {
		return err
	}
	if err := c.openCalleeMedia(); err != nil {
		c.media.aSess.Close()
		c.media.aSess = nil
		return err
	}
	return nil
}

// openCallerMedia opens leg A's session and its SDP origin.
func (c *b2bCall) openCallerMedia() error {
	m := &c.media
	var err error
	if m.aSess, err = c.s.b2b.Media.NewSession(); err != nil {
		return err
	}
	m.aIP = c.s.mediaIPFor(c.src.Addr())
	m.sid = uint64(time.Now().UnixNano() & 0x7fffffffffff)
	m.aOrigin = sdp.NewOriginTracker(originFor(m.aIP, m.sid))
	m.aSess.OnTimeout(c.hangupMedia) // runs on the engine's goroutine: must not block
	return nil
}

// openCalleeMedia opens leg B's session (its origin comes with the offer).
func (c *b2bCall) openCalleeMedia() error {
	var err error
	if c.media.bSess, err = c.s.b2b.Media.NewSession(); err != nil {
		return err
	}
	c.media.bSess.OnTimeout(c.hangupMedia)
	return nil
}

// armTimeouts starts the RTP timeout on both legs once the call is answered
// (before that, ringing without early media must not count as silence).
func (c *b2bCall) armTimeouts() {
	for _, sess := range []*media.Session{c.media.aSess, c.media.bSess} {
		sess.SetTimeout(c.s.b2b.RTPTimeout)
	}
}

func (c *b2bCall) hangupMedia() { c.hangup(causeMediaTimeout) }

// stopRelay stops the relay, if one runs (its sessions stay open).
func (c *b2bCall) stopRelay() {
	m := &c.media
	if m.relay != nil {
		m.relay.Stop()
		m.relayCancel()
		m.relay = nil
	}
}

// closeMedia stops the relay and releases both sessions' ports.
func (c *b2bCall) closeMedia() {
	m := &c.media
	c.stopRelay()
	for _, s := range []**media.Session{&m.aSess, &m.bSess} {
		if *s != nil {
			(*s).Close()
			*s = nil
		}
	}
}

// originFor is the o= line of one leg (RFC 8866 §5.2): our address, a
// session id fixed for the leg, the first version equal to it.
func originFor(ip netip.Addr, sid uint64) sdp.Origin {
	at := "IP4"
	if ip.Is6() && !ip.Is4In6() {
		at = "IP6"
	}
	return sdp.Origin{Username: sdp.DefaultUsername, SessionID: fmt.Sprint(sid), Version: sid,
		NetType: "IN", AddrType: at, Address: ip.Unmap().String()}
}

// mediaIPFor is the address we write into SDP for a phone at dst.
func (s *Server) mediaIPFor(dst netip.Addr) netip.Addr {
	if s.b2b.Advertise.IsValid() {
		return s.b2b.Advertise
	}
	return s.qual.sourceIPFor(dst)
}

// offerCodecs orders our codecs by the caller's preference: the ones it
// offered first (relayed untouched), then the rest (transcoded).
func offerCodecs(aOffer *sdp.Session) []sdp.Codec {
	var out []sdp.Codec
	if aOffer != nil {
		if am := aOffer.Audio(); am != nil {
			for _, oc := range am.Codecs() {
				for _, ours := range ourCodecs {
					if ours.Same(oc) && !containsCodec(out, ours) {
						out = append(out, ours)
					}
				}
			}
		}
	}
	for _, ours := range ourCodecs {
		if !containsCodec(out, ours) {
			out = append(out, ours)
		}
	}
	return out
}

// allowCodecs keeps the codecs named in allow (all when allow is empty).
func allowCodecs(cs []sdp.Codec, allow []string) []sdp.Codec {
	if len(allow) == 0 {
		return cs
	}
	var out []sdp.Codec
	for _, c := range cs {
		for _, name := range allow {
			if strings.EqualFold(c.Name, name) {
				out = append(out, c)
				break
			}
		}
	}
	if len(out) == 0 {
		return cs
	}
	return out
}

func containsCodec(cs []sdp.Codec, c sdp.Codec) bool {
	for _, x := range cs {
		if x.Same(c) {
			return true
		}
	}
	return false
}

// stamp sets the o= line and marshals the SDP we send on one leg.
func stamp(t *sdp.OriginTracker, s *sdp.Session) []byte {
	t.Stamp(s)
	return s.Marshal()
}

// calleeOffer is the SDP offer sent to the callee (B leg).
func (c *b2bCall) calleeOffer(aOffer *sdp.Session, dst netip.Addr) ([]byte, error) {
	m := &c.media
	m.bIP = c.s.mediaIPFor(dst)
	if m.bOrigin == nil {
		m.bOrigin = sdp.NewOriginTracker(originFor(m.bIP, m.sid+1))
	}
	te := sdp.TelephoneEvent.PayloadType
	if aOffer != nil {
		if am := aOffer.Audio(); am != nil {
			for _, oc := range am.Codecs() {
				if oc.IsTelephoneEvent() && oc.ClockRate == 8000 {
					te = oc.PayloadType
				}
			}
		}
	}
	off, err := sdp.Build(sdp.Local{Addr: m.bIP, Port: int(m.bSess.LocalAddr().Port()), Codecs: allowCodecs(offerCodecs(aOffer), c.codecFilter),
		TelephoneEvent: te, Ptime: 20 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	m.bLocal = off
	return stamp(m.bOrigin, off), nil
}

// calleeAnswered takes the callee's SDP answer (183 or 200) and points leg B's
// session at it.
func (c *b2bCall) calleeAnswered(body []byte, sipSrc netip.Addr) error {
	ans, codecs, err := takeAnswer(c.media.bSess, body, sipSrc, "callee")
	if err != nil {
		return err
	}
	c.media.bRemote, c.media.bCodecs = ans, codecs
	return nil
}

// takeAnswer points sess at the SDP answer body of a phone (who) whose
// SIP comes from sipSrc: address, codecs, and whether it may be silent.
func takeAnswer(sess *media.Session, body []byte, sipSrc netip.Addr, who string) (*sdp.Session, []media.Codec, error) {
	ans, err := sdp.Parse(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s SDP: %w", who, err)
	}
	am := ans.Audio()
	if am == nil {
		return nil, nil, fmt.Errorf("%w: %s answered without audio", errNotAcceptable, who)
	}
	addr, err := ans.RTPAddr(am)
	if err != nil {
		return nil, nil, fmt.Errorf("%s SDP: %w", who, err)
	}
	codecs := mediaCodecs(am.Codecs())
	sess.SetCodecs(codecs...)
	sess.SetRemote(addr, sipSrc)
	sess.SetOnHold(mayBeSilent(ans, am))
	return ans, codecs, nil
}

// mayBeSilent reports whether the phone that wrote m in s may send no RTP
// without its leg being dead, so that the leg's RTP timeout is suspended
// (media.Session.SetOnHold): any direction but sendrecv. A phone answering
// a hold with recvonly or inactive sends nothing (RFC 3264 §6.1), and one
// holding with sendonly often sends nothing either (RFC 3264 §8.4).
// sdp.Session.Hold alone ("wants no media from us") missed the held side.
func mayBeSilent(s *sdp.Session, m *sdp.Media) bool { return s.EffectiveDirection(m) != sdp.SendRecv }

// callerAnswer answers the caller's offer with our address, preferring the
// codec the callee chose so the relay needs no transcoding.
func (c *b2bCall) callerAnswer(aOffer *sdp.Session) ([]byte, error) {
	m := &c.media
	// The callee's codec, so the relay need not transcode; with no callee
	// (switchd answers itself) the caller's preference (RFC 3264 §6.1: the
	// offer lists formats in order of preference).
	chosen := m.bCodecs
	if len(chosen) == 0 {
		chosen = mediaCodecs(aOffer.Audio().Codecs())
	}
	pref := preferFirst(chosen)
	ans, err := sdp.Answer(aOffer, sdp.Local{Addr: m.aIP, Port: int(m.aSess.LocalAddr().Port()), Codecs: pref,
		TelephoneEvent: sdp.TelephoneEvent.PayloadType, Ptime: 20 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotAcceptable, err)
	}
	am := ans.Audio()
	if am == nil {
		return nil, errNotAcceptable
	}
	// Answer with one speech codec (plus events), so both ends agree on what flows.
	trimToOneSpeechCodec(am)
	if err := c.setCaller(aOffer, mediaCodecs(am.Codecs())); err != nil {
		return nil, err
	}
	m.aLocal = ans
	return stamp(m.aOrigin, ans), nil
}

// setCaller points leg A's session at the caller's SDP.
func (c *b2bCall) setCaller(remote *sdp.Session, codecs []media.Codec) error {
	am := remote.Audio()
	if am == nil {
		return errNotAcceptable
	}
	addr, err := remote.RTPAddr(am)
	if err != nil {
		return fmt.Errorf("caller SDP: %w", err)
	}
	c.media.aRemote = remote
	c.media.aCodecs = codecs
	c.media.aSess.SetCodecs(codecs...)
	c.media.aSess.SetRemote(addr, c.src.Addr())
	c.media.aSess.SetOnHold(mayBeSilent(remote, am))
	return nil
}

// callerOffer is our offer to a caller that sent an INVITE without SDP
// (RFC 3261 §13.2.1: the offer goes in the 2xx, the answer in the ACK).
func (c *b2bCall) callerOffer() ([]byte, error) {
	m := &c.media
	off, err := sdp.Build(sdp.Local{Addr: m.aIP, Port: int(m.aSess.LocalAddr().Port()), Codecs: preferFirst(m.bCodecs),
		TelephoneEvent: sdp.TelephoneEvent.PayloadType, Ptime: 20 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	m.aLocal = off
	return stamp(m.aOrigin, off), nil
}

// callerAnsweredInAck takes the caller's answer from its ACK.
func (c *b2bCall) callerAnsweredInAck(body []byte) error {
	ans, err := sdp.Parse(body)
	if err != nil {
		return fmt.Errorf("caller SDP in ACK: %w", err)
	}
	am := ans.Audio()
	if am == nil {
		return errNotAcceptable
	}
	return c.setCaller(ans, mediaCodecs(am.Codecs()))
}

// startRelay (re)starts the relay with a plan for the codecs both legs use.
func (c *b2bCall) startRelay() error {
	m := &c.media
	plan, err := media.NewRelayConfig(m.aCodecs, m.bCodecs)
	if err != nil {
		return fmt.Errorf("%w: %w", errNotAcceptable, err)
	}
	c.stopRelay()
	r, err := media.NewRelay(m.aSess, m.bSess, plan)
	if err != nil {
		return err
	}
	r.SetTaps(m.aTap, m.bTap)
	c.watchDigits(r)
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err != nil {
		cancel()
		return err
	}
	m.relay, m.relayCancel = r, cancel
	m.planKey = codecKey(m.aCodecs) + "|" + codecKey(m.bCodecs)
	return nil
}

// preferFirst puts the callee's chosen speech codec first among ours.
func preferFirst(chosen []media.Codec) []sdp.Codec {
	out := make([]sdp.Codec, 0, len(ourCodecs))
	for _, mc := range chosen {
		for _, ours := range ourCodecs {
			if strings.EqualFold(mc.Name, ours.Name) && !containsCodec(out, ours) {
				out = append(out, ours)
			}
		}
	}
	for _, ours := range ourCodecs {
		if !containsCodec(out, ours) {
			out = append(out, ours)
		}
	}
	return out
}

// trimToOneSpeechCodec keeps the first speech codec and telephone-event in an m= section.
func trimToOneSpeechCodec(m *sdp.Media) {
	var keep []string
	speech := false
	for _, c := range m.Codecs() {
		if c.IsTelephoneEvent() || !speech {
			keep = append(keep, fmt.Sprint(c.PayloadType))
			speech = speech || !c.IsTelephoneEvent()
		}
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	var attrs []sdp.Attribute
	for _, a := range m.Attributes {
		if a.Key == "rtpmap" || a.Key == "fmtp" {
			pt, _, _ := strings.Cut(a.Value, " ")
			if !kept[pt] {
				continue
			}
		}
		attrs = append(attrs, a)
	}
	m.Formats, m.Attributes = keep, attrs
}

// mediaCodecs converts negotiated SDP codecs to the relay's codec type.
func mediaCodecs(cs []sdp.Codec) []media.Codec {
	out := make([]media.Codec, 0, len(cs))
	for _, c := range cs {
		out = append(out, media.Codec{Name: c.Name, PayloadType: c.PayloadType, ClockRate: c.ClockRate})
	}
	return out
}

// codecName is the first speech codec of a list, for CDRs.
func codecName(cs []media.Codec) string {
	for _, c := range cs {
		if !c.IsTelephoneEvent() {
			return c.Name
		}
	}
	return ""
}
