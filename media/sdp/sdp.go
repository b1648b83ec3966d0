// Package sdp parses and writes session descriptions (RFC 8866, which
// obsoletes RFC 4566) and holds the RFC 3264 offer/answer logic switchd needs
// to anchor audio: every SDP the B2BUA sends is built here, pointing the
// phone's RTP at switchd, and never copied from the other leg.
//
// Parse keeps every line of the input (unknown ones too) so that Marshal
// writes back an equivalent description; the audio helpers (Codecs,
// Session.Direction, Session.RTPAddr …), Negotiate, Answer, Build,
// OriginTracker and Compare sit on top of that model.
package sdp

import "strings"

// Limits on the input Parse accepts; anything larger is rejected with
// ErrMalformed rather than processed.
const (
	// MaxSize is the largest session description accepted, in bytes.
	MaxSize = 256 << 10
	// MaxMedia is the largest number of m= lines accepted.
	MaxMedia = 64
)

// Session is one session description (RFC 8866 §5). Lines without a typed
// field here are kept in Fields, so nothing read by Parse is lost. The
// protocol version (v=) is always 0 and not stored.
type Session struct {
	Origin     Origin      // o= (RFC 8866 §5.2)
	Name       string      // s= (RFC 8866 §5.3); "" is written as "s= "
	Connection *Connection // session-level c= (RFC 8866 §5.7); nil if absent
	Bandwidths []Bandwidth // session-level b= (RFC 8866 §5.8)
	Timings    []Timing    // t= with its r= lines (RFC 8866 §5.9, §5.10)
	Attributes []Attribute // session-level a= in order (RFC 8866 §5.13)
	// Fields holds the other session-level lines (i=, u=, e=, p=, z=, k= and
	// unknown type letters) in input order, grouped by where RFC 8866 §5
	// places them (see Field).
	Fields []Field
	Media  []*Media // m= sections in order (RFC 8866 §5.14)
}

// Origin is the o= line (RFC 8866 §5.2). For one session the fields stay
// fixed and only Version changes, by one each time the description changes
// (RFC 3264 §8).
type Origin struct {
	Username  string // "-" when the host has no user ids
	SessionID string // numeric string, kept as sent
	Version   uint64 // sess-version
	NetType   string // "IN"
	AddrType  string // "IP4" or "IP6"
	Address   string // the creator's address, as sent
}

// Connection is a c= line (RFC 8866 §5.7). Parse accepts only network type
// IN with address type IP4 or IP6.
type Connection struct {
	NetType  string // "IN"
	AddrType string // "IP4" or "IP6"
	// Address is the connection address as sent: an IP literal (with
	// "/ttl[/count]" for multicast) or, rarely, a host name.
	Address string
}

// Bandwidth is a b= line (RFC 8866 §5.8), e.g. {"AS", 64} or {"TIAS", 64000}.
type Bandwidth struct {
	Type  string // bwtype: "AS", "CT", "TIAS", …
	Value uint64 // kilobits per second for AS and CT, bits per second for TIAS (RFC 3890)
}

// Timing is a t= line and the r= lines that follow it (RFC 8866 §5.9,
// §5.10). SIP sessions use "t=0 0".
type Timing struct {
	Start, Stop uint64   // NTP seconds; 0 means unbounded
	Repeats     []string // r= values, as sent
}

// Attribute is an a= line (RFC 8866 §5.13): "a=Key" for a property
// attribute (Value ""), "a=Key:Value" otherwise.
type Attribute struct {
	Key   string // attribute name, e.g. "rtpmap"
	Value string // what follows the first ":", "" for a property attribute
}

// Field is a line kept verbatim: Type is its type letter, Value what follows
// "=". Marshal writes fields at the place RFC 8866 §5 gives them: i=, u=, e=
// and p= right after s= (i= right after m= in a media section), all other
// letters (z=, k=, repeated media c=, unknown letters) just before the a=
// lines. Parse stores them in that order, keeping input order within a group.
type Field struct {
	Type  byte   // type letter
	Value string // the rest of the line after "="
}

// Media is one media description: an m= line (RFC 8866 §5.14) and the lines
// up to the next m=.
type Media struct {
	Type      string   // "audio", "video", "application", …
	Port      int      // transport port; 0 rejects or disables the stream (RFC 3264 §6, §8.2)
	PortCount int      // the "/<number of ports>" suffix; 0 when absent
	Proto     string   // "RTP/AVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVPF", …
	Formats   []string // media formats; RTP payload type numbers for RTP profiles
	// Connection is the media-level c= line; nil means the session-level
	// one applies (RFC 8866 §5.7). Further c= lines (layered multicast) are
	// kept in Fields.
	Connection *Connection
	Bandwidths []Bandwidth // media-level b=
	Attributes []Attribute // media-level a= in order
	Fields     []Field     // other media-level lines (i=, k=, unknown letters)
}

// Attr returns the value of the first session-level attribute named key
// (case-sensitive, RFC 8866 §5.13) and whether it is present.
func (s *Session) Attr(key string) (string, bool) { return findAttr(s.Attributes, key) }

// Attr returns the value of the first media-level attribute named key and
// whether it is present.
func (m *Media) Attr(key string) (string, bool) { return findAttr(m.Attributes, key) }

// AttrValues returns the values of every media-level attribute named key, in
// order (e.g. all "rtpmap" lines).
func (m *Media) AttrValues(key string) []string {
	var vs []string
	for _, a := range m.Attributes {
		if a.Key == key {
			vs = append(vs, a.Value)
		}
	}
	return vs
}

func findAttr(as []Attribute, key string) (string, bool) {
	for _, a := range as {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// IsAudio reports whether the stream is an audio stream (m=audio).
func (m *Media) IsAudio() bool { return strings.EqualFold(m.Type, "audio") }

// Disabled reports whether the stream is rejected or disabled, i.e. its port
// is 0 (RFC 3264 §6, §8.2).
func (m *Media) Disabled() bool { return m.Port == 0 }

// Anchorable reports whether switchd can take the stream: audio over plain
// RTP/AVP (RFC 3551) with a non-zero port. SRTP and WebRTC profiles
// (RTP/SAVP, UDP/TLS/RTP/SAVPF) are not.
func (m *Media) Anchorable() bool {
	return m.IsAudio() && !m.Disabled() && strings.EqualFold(m.Proto, "RTP/AVP")
}

// Audio returns the first Anchorable stream, or nil. It is the stream
// Answer accepts when it has a common codec, and the one Compare looks at;
// RFC 3264 §8 keeps m= lines in place across re-offers.
func (s *Session) Audio() *Media {
	for _, m := range s.Media {
		if m.Anchorable() {
			return m
		}
	}
	return nil
}
