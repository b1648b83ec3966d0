package sdp

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Codec is one RTP payload format of a stream: its payload type, the
// encoding from a=rtpmap (or the RFC 3551 static table) and its a=fmtp
// parameters (RFC 8866 §6.6, §6.15).
type Codec struct {
	PayloadType uint8  // 0–127
	Name        string // encoding name, e.g. "PCMU", "opus", "telephone-event"; compared case-insensitively (RFC 4855 §3)
	ClockRate   uint32 // Hz
	Channels    uint16 // 0 when not stated, which means 1 (RFC 8866 §6.6)
	Fmtp        string // a=fmtp parameters, "" when none
}

// Codecs switchd commonly offers. The static payload types are those of RFC
// 3551 §6 table 4 (G.722's RTP clock is 8000 Hz though it samples at 16 kHz).
var (
	PCMU = Codec{PayloadType: 0, Name: "PCMU", ClockRate: 8000}
	GSM  = Codec{PayloadType: 3, Name: "GSM", ClockRate: 8000}
	PCMA = Codec{PayloadType: 8, Name: "PCMA", ClockRate: 8000}
	G722 = Codec{PayloadType: 9, Name: "G722", ClockRate: 8000}
	G729 = Codec{PayloadType: 18, Name: "G729", ClockRate: 8000}
	// TelephoneEvent is RFC 4733 DTMF at the usual dynamic payload type 101,
	// receiving events 0–15 (digits) and 16 (flash).
	TelephoneEvent = Codec{PayloadType: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"}
)

// staticAudio is RFC 3551 §6 table 4: the audio payload types usable without
// a=rtpmap.
var staticAudio = map[uint8]Codec{
	0:  PCMU,
	3:  GSM,
	4:  {PayloadType: 4, Name: "G723", ClockRate: 8000},
	5:  {PayloadType: 5, Name: "DVI4", ClockRate: 8000},
	6:  {PayloadType: 6, Name: "DVI4", ClockRate: 16000},
	7:  {PayloadType: 7, Name: "LPC", ClockRate: 8000},
	8:  PCMA,
	9:  G722,
	10: {PayloadType: 10, Name: "L16", ClockRate: 44100, Channels: 2},
	11: {PayloadType: 11, Name: "L16", ClockRate: 44100},
	12: {PayloadType: 12, Name: "QCELP", ClockRate: 8000},
	13: {PayloadType: 13, Name: "CN", ClockRate: 8000},
	14: {PayloadType: 14, Name: "MPA", ClockRate: 90000},
	15: {PayloadType: 15, Name: "G728", ClockRate: 8000},
	16: {PayloadType: 16, Name: "DVI4", ClockRate: 11025},
	17: {PayloadType: 17, Name: "DVI4", ClockRate: 22050},
	18: G729,
}

// String writes the codec as in a=rtpmap, e.g. "PCMU/8000", "opus/48000/2".
func (c Codec) String() string {
	s := c.Name + "/" + strconv.FormatUint(uint64(c.ClockRate), 10)
	if c.Channels > 0 {
		s += "/" + strconv.FormatUint(uint64(c.Channels), 10)
	}
	return s
}

// Same reports whether c and o are the same encoding: name (case-insensitive),
// clock rate and channel count (0 counting as 1). Payload types and fmtp are
// not compared (RFC 3264 §6.1 matches formats by encoding, not number).
func (c Codec) Same(o Codec) bool {
	return strings.EqualFold(c.Name, o.Name) && c.ClockRate == o.ClockRate && c.channels() == o.channels()
}

func (c Codec) channels() uint16 { return max(c.Channels, 1) }

// IsTelephoneEvent reports whether c is RFC 4733 telephone-event.
func (c Codec) IsTelephoneEvent() bool { return strings.EqualFold(c.Name, "telephone-event") }

// isAuxiliary reports whether c carries no speech of its own: DTMF events
// (RFC 4733) and comfort noise (RFC 3389). An answer needs at least one
// codec that is not.
func (c Codec) isAuxiliary() bool {
	return c.IsTelephoneEvent() || strings.EqualFold(c.Name, "CN")
}

// Codecs returns the stream's RTP payload formats in m= line order (the
// sender's preference, RFC 3264 §5.1), each described by its a=rtpmap, or by
// the RFC 3551 static table when there is none, plus its a=fmtp. Formats that
// are not payload type numbers, and dynamic ones without a valid a=rtpmap,
// are left out; duplicates are listed once.
func (m *Media) Codecs() []Codec {
	rtpmap := map[uint8]Codec{}
	fmtp := map[uint8]string{}
	for _, a := range m.Attributes {
		switch a.Key {
		case "rtpmap":
			if pt, c, ok := parseRTPMap(a.Value); ok {
				if _, dup := rtpmap[pt]; !dup {
					rtpmap[pt] = c
				}
			}
		case "fmtp":
			ptStr, params, _ := strings.Cut(a.Value, " ")
			if pt, ok := parsePT(ptStr); ok {
				if _, dup := fmtp[pt]; !dup {
					fmtp[pt] = strings.TrimSpace(params)
				}
			}
		}
	}
	var cs []Codec
	seen := map[uint8]bool{}
	for _, f := range m.Formats {
		pt, ok := parsePT(f)
		if !ok || seen[pt] {
			continue
		}
		c, ok := rtpmap[pt]
		if !ok {
			if c, ok = staticAudio[pt]; !ok {
				continue
			}
		}
		seen[pt] = true
		c.PayloadType, c.Fmtp = pt, fmtp[pt]
		cs = append(cs, c)
	}
	return cs
}

func parsePT(s string) (uint8, bool) {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n > 127 {
		return 0, false
	}
	return uint8(n), true
}

// parseRTPMap reads "<payload type> <encoding name>/<clock rate>[/<encoding
// parameters>]" (RFC 8866 §6.6).
func parseRTPMap(v string) (uint8, Codec, bool) {
	ptStr, enc, _ := strings.Cut(v, " ")
	pt, ok := parsePT(ptStr)
	if !ok {
		return 0, Codec{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return 0, Codec{}, false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || rate == 0 {
		return 0, Codec{}, false
	}
	c := Codec{PayloadType: pt, Name: parts[0], ClockRate: uint32(rate)}
	if len(parts) == 3 {
		ch, err := strconv.ParseUint(parts[2], 10, 16)
		if err != nil || ch == 0 {
			return 0, Codec{}, false
		}
		c.Channels = uint16(ch)
	}
	return pt, c, true
}

// Ptime returns the packet time of a=ptime (RFC 8866 §6.4) on the stream,
// or at session level when the stream has none; 0 when absent or invalid.
// Fractional values ("20.0") are accepted.
func (s *Session) Ptime(m *Media) time.Duration { return s.msAttr(m, "ptime") }

// MaxPtime returns a=maxptime (RFC 8866 §6.5) like Ptime does a=ptime.
func (s *Session) MaxPtime(m *Media) time.Duration { return s.msAttr(m, "maxptime") }

func (s *Session) msAttr(m *Media, key string) time.Duration {
	v, ok := m.Attr(key)
	if !ok {
		if v, ok = s.Attr(key); !ok {
			return 0
		}
	}
	ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(ms > 0 && ms <= 10000) {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// ConnectionFor returns the c= line that applies to m: its own, else the
// session-level one (RFC 8866 §5.7); nil if neither exists, which RFC 8866
// forbids for an active stream.
func (s *Session) ConnectionFor(m *Media) *Connection {
	if m.Connection != nil {
		return m.Connection
	}
	return s.Connection
}

// Addr returns the connection address as an IP, without any multicast
// "/ttl/count" suffix; ok is false for a host name.
func (c *Connection) Addr() (netip.Addr, bool) {
	host, _, _ := strings.Cut(c.Address, "/")
	a, err := netip.ParseAddr(host)
	return a, err == nil
}

// IsHold reports whether the address is 0.0.0.0 (or ::), the RFC 2543 way of
// putting a call on hold: RFC 3264 §8.4 says no RTP or RTCP is then to be
// sent to the peer.
func (c *Connection) IsHold() bool {
	a, ok := c.Addr()
	return ok && a.IsUnspecified()
}

// RTPAddr returns where to send the stream's RTP: the connection address
// that applies (ConnectionFor) and the m= port. It fails when there is no
// c= line or the address is a host name. An old-style hold address
// (0.0.0.0) is returned as is; check IsHold or Session.Hold.
func (s *Session) RTPAddr(m *Media) (netip.AddrPort, error) {
	c := s.ConnectionFor(m)
	if c == nil {
		return netip.AddrPort{}, ErrNoAddress
	}
	a, ok := c.Addr()
	if !ok {
		return netip.AddrPort{}, ErrNoAddress
	}
	return netip.AddrPortFrom(a, uint16(m.Port)), nil
}

// RTCP is the a=rtcp attribute (RFC 3605): the port, and optionally the
// address, on which the sender wants RTCP when it is not the RTP port + 1.
type RTCP struct {
	Port       int         // RTCP port
	Connection *Connection // nil when the attribute gives only a port
}

// RTCP returns the stream's a=rtcp attribute (RFC 3605 §2.1); ok is false
// when it is absent or malformed.
func (m *Media) RTCP() (r RTCP, ok bool) {
	v, ok := m.Attr("rtcp")
	if !ok {
		return RTCP{}, false
	}
	portStr, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return RTCP{}, false
	}
	r.Port = int(port)
	if rest = strings.TrimSpace(rest); rest != "" {
		c, why := parseConnection(rest)
		if why != "" {
			return RTCP{}, false
		}
		r.Connection = c
	}
	return r, true
}

// RTCPMux reports whether the stream offers RTP/RTCP multiplexing on one
// port (a=rtcp-mux, RFC 5761 §5.1.1).
func (m *Media) RTCPMux() bool {
	_, ok := m.Attr("rtcp-mux")
	return ok
}
