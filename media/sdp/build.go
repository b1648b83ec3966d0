package sdp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultUsername is the o= username switchd writes (RFC 8866 §5.2).
const DefaultUsername = "switchd"

// Local describes switchd's side of one leg's audio: what Build offers and
// what Answer accepts.
type Local struct {
	Username  string // o= username; "" means DefaultUsername
	SessionID uint64 // o= sess-id, fixed for the leg (RFC 3264 §8)
	Version   uint64 // o= sess-version; an OriginTracker overrides it
	// Addr is where the phone sends RTP, written in c= and o= as IP4 or IP6
	// (an IPv4-mapped IPv6 address is written as IPv4, a zone is dropped).
	Addr netip.Addr
	Port int // RTP port, 1–65535; RTCP is on Port+1 (RFC 3550 §11)
	// Codecs are ours in preference order, with their payload types (for
	// an offer) and fmtp. Answer replaces the payload types with the offer's.
	Codecs []Codec
	// TelephoneEvent, when not 0, adds telephone-event/8000 with fmtp
	// "0-16" (RFC 4733) at this payload type after Codecs, unless Codecs
	// already lists telephone-event/8000.
	TelephoneEvent uint8
	Ptime          time.Duration // a=ptime, whole milliseconds; 0 writes none
	Direction      Direction     // a= direction; DirectionUnknown writes sendrecv
}

// codecs returns Codecs with the TelephoneEvent one added.
func (l *Local) codecs() []Codec {
	cs := slices.Clone(l.Codecs)
	if l.TelephoneEvent == 0 || slices.ContainsFunc(cs, TelephoneEvent.Same) {
		return cs
	}
	te := TelephoneEvent
	te.PayloadType = l.TelephoneEvent
	return append(cs, te)
}

// Build returns the SDP switchd sends on a leg (RFC 3264 §5): one audio
// stream over RTP/AVP at local.Addr and local.Port, every codec with an
// a=rtpmap (static ones too, as most phones write them) and its a=fmtp, then
// a=ptime and the direction attribute. For example:
//
//	v=0
//	o=switchd 42 42 IN IP4 192.0.2.1
//	s=switchd
//	c=IN IP4 192.0.2.1
//	t=0 0
//	m=audio 10000 RTP/AVP 0 8 101
//	a=rtpmap:0 PCMU/8000
//	a=rtpmap:8 PCMA/8000
//	a=rtpmap:101 telephone-event/8000
//	a=fmtp:101 0-16
//	a=ptime:20
//	a=sendrecv
//
// It fails when Addr is invalid or unspecified, Port is out of range, there
// is no codec, or two codecs share a payload type.
func Build(local Local) (*Session, error) {
	if !local.Addr.IsValid() || local.Addr.IsUnspecified() {
		return nil, errors.New("sdp: build: no usable local address")
	}
	if local.Port < 1 || local.Port > 65535 {
		return nil, fmt.Errorf("sdp: build: RTP port %d out of range", local.Port)
	}
	codecs := local.codecs()
	if len(codecs) == 0 {
		return nil, errors.New("sdp: build: no codecs")
	}
	addr := local.Addr.Unmap().WithZone("")
	addrType := "IP6"
	if addr.Is4() {
		addrType = "IP4"
	}
	user := local.Username
	if user == "" {
		user = DefaultUsername
	}
	s := &Session{
		Origin: Origin{Username: user, SessionID: strconv.FormatUint(local.SessionID, 10),
			Version: local.Version, NetType: "IN", AddrType: addrType, Address: addr.String()},
		Name:       DefaultUsername,
		Connection: &Connection{NetType: "IN", AddrType: addrType, Address: addr.String()},
		Timings:    []Timing{{}},
	}
	m := &Media{Type: "audio", Port: local.Port, Proto: "RTP/AVP"}
	seen := map[uint8]bool{}
	for _, c := range codecs {
		if c.PayloadType > 127 || c.Name == "" || c.ClockRate == 0 || strings.ContainsAny(c.Name, " /\r\n") || strings.ContainsAny(c.Fmtp, "\r\n") {
			return nil, fmt.Errorf("sdp: build: invalid codec %d %s", c.PayloadType, c)
		}
		if seen[c.PayloadType] {
			return nil, fmt.Errorf("sdp: build: payload type %d used twice", c.PayloadType)
		}
		seen[c.PayloadType] = true
		pt := strconv.Itoa(int(c.PayloadType))
		m.Formats = append(m.Formats, pt)
		m.Attributes = append(m.Attributes, Attribute{"rtpmap", pt + " " + c.String()})
		if c.Fmtp != "" {
			m.Attributes = append(m.Attributes, Attribute{"fmtp", pt + " " + c.Fmtp})
		}
	}
	if ms := local.Ptime.Milliseconds(); ms > 0 {
		m.Attributes = append(m.Attributes, Attribute{"ptime", strconv.FormatInt(ms, 10)})
	}
	m.Attributes = append(m.Attributes, local.Direction.Attribute())
	s.Media = []*Media{m}
	return s, nil
}
