package siptest

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// SDP is the part of a session description (RFC 8866) the phone reads and
// writes: the origin, and the first audio stream's address, formats and
// direction. The phone parses SDP itself, independently of switchd's
// media/sdp package, so that a bug there cannot hide in both ends.
type SDP struct {
	Raw       string
	Origin    Origin
	Addr      netip.Addr       // c= of the audio stream (media level, else session level)
	Port      int              // m=audio port
	Formats   []uint8          // m=audio payload types, in order of preference
	RTPMap    map[uint8]string // a=rtpmap values by payload type ("PCMA/8000")
	Direction string           // sendrecv (the default), sendonly, recvonly or inactive
}

// Origin is an o= line (RFC 8866 §5.2).
type Origin struct {
	Username  string
	SessionID string
	Version   uint64
	Address   string
}

// Direction attribute values (RFC 3264 §5.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// ParseSDP parses a session description with one audio stream.
func ParseSDP(b []byte) (*SDP, error) {
	s := &SDP{Raw: string(b), RTPMap: map[uint8]string{}}
	var sessionAddr, mediaAddr netip.Addr
	var sessionDir, mediaDir string
	inAudio, seenAudio := false, false
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		key, val := line[0], line[2:]
		if key == 'm' {
			inAudio = !seenAudio && strings.HasPrefix(val, "audio ")
			if inAudio {
				seenAudio = true
				f := strings.Fields(val)
				if len(f) < 4 {
					return nil, fmt.Errorf("sdp: bad m= line %q", line)
				}
				port, err := strconv.Atoi(f[1])
				if err != nil {
					return nil, fmt.Errorf("sdp: bad m= port %q", f[1])
				}
				s.Port = port
				for _, pt := range f[3:] {
					n, err := strconv.ParseUint(pt, 10, 7)
					if err != nil {
						return nil, fmt.Errorf("sdp: bad payload type %q", pt)
					}
					s.Formats = append(s.Formats, uint8(n))
				}
			}
			continue
		}
		if seenAudio && !inAudio {
			continue // another stream's lines
		}
		switch key {
		case 'o':
			f := strings.Fields(val)
			if len(f) != 6 {
				return nil, fmt.Errorf("sdp: bad o= line %q", line)
			}
			v, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("sdp: bad o= version %q", f[2])
			}
			s.Origin = Origin{Username: f[0], SessionID: f[1], Version: v, Address: f[5]}
		case 'c':
			f := strings.Fields(val)
			if len(f) != 3 {
				return nil, fmt.Errorf("sdp: bad c= line %q", line)
			}
			a, err := netip.ParseAddr(f[2])
			if err != nil {
				return nil, fmt.Errorf("sdp: bad c= address %q", f[2])
			}
			if inAudio {
				mediaAddr = a
			} else {
				sessionAddr = a
			}
		case 'a':
			name, value, _ := strings.Cut(val, ":")
			switch name {
			case SendRecv, SendOnly, RecvOnly, Inactive:
				if inAudio {
					mediaDir = name
				} else {
					sessionDir = name
				}
			case "rtpmap":
				pt, enc, ok := strings.Cut(value, " ")
				n, err := strconv.ParseUint(pt, 10, 7)
				if ok && err == nil && inAudio {
					s.RTPMap[uint8(n)] = enc
				}
			}
		}
	}
	if !seenAudio {
		return nil, errors.New("sdp: no audio stream")
	}
	s.Addr = sessionAddr
	if mediaAddr.IsValid() {
		s.Addr = mediaAddr
	}
	s.Direction = SendRecv
	if sessionDir != "" {
		s.Direction = sessionDir
	}
	if mediaDir != "" {
		s.Direction = mediaDir
	}
	return s, nil
}

// Codecs returns the G.711 codecs of the audio stream in its order of
// preference (by static payload type, or by rtpmap name).
func (s *SDP) Codecs() []Codec {
	var out []Codec
	for _, pt := range s.Formats {
		if c, ok := s.codecOf(pt); ok {
			out = append(out, c)
		}
	}
	return out
}

func (s *SDP) codecOf(pt uint8) (Codec, bool) {
	if enc, ok := s.RTPMap[pt]; ok {
		name, _, _ := strings.Cut(enc, "/")
		c, ok := codecByName(name)
		c.PayloadType = pt
		return c, ok
	}
	return codecByPT(pt)
}

// TelephoneEvent returns the payload type of telephone-event/8000 (RFC 4733).
func (s *SDP) TelephoneEvent() (uint8, bool) {
	for _, pt := range s.Formats {
		if strings.EqualFold(s.RTPMap[pt], "telephone-event/8000") {
			return pt, true
		}
	}
	return 0, false
}

// RTPAddr is where the stream's RTP goes: c= and the m= port.
func (s *SDP) RTPAddr() netip.AddrPort { return netip.AddrPortFrom(s.Addr, uint16(s.Port)) }

// localSDP is what the phone writes: its o= line, address, codecs and direction.
type localSDP struct {
	origin    Origin
	addr      netip.AddrPort
	codecs    []Codec
	te        int // telephone-event payload type; <0 for none
	direction string
}

// marshal renders the description (RFC 8866 §5 field order).
func (l *localSDP) marshal() []byte {
	var b strings.Builder
	pts := make([]string, 0, len(l.codecs)+1)
	for _, c := range l.codecs {
		pts = append(pts, strconv.Itoa(int(c.PayloadType)))
	}
	if l.te >= 0 {
		pts = append(pts, strconv.Itoa(l.te))
	}
	ip := l.addr.Addr().String()
	fmt.Fprintf(&b, "v=0\r\no=%s %s %d IN IP4 %s\r\ns=siptest\r\nc=IN IP4 %s\r\nt=0 0\r\n",
		l.origin.Username, l.origin.SessionID, l.origin.Version, ip, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", l.addr.Port(), strings.Join(pts, " "))
	for _, c := range l.codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s\r\n", c.PayloadType, c)
	}
	if l.te >= 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", l.te, l.te)
	}
	fmt.Fprintf(&b, "a=ptime:20\r\na=%s\r\n", l.direction)
	return []byte(b.String())
}

// answerDirection is the direction to answer an offered one with when we
// want sendrecv (RFC 3264 §6.1).
func answerDirection(offered string) string {
	switch offered {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// sends reports whether a side that wrote dir sends media.
func sends(dir string) bool { return dir == SendRecv || dir == SendOnly || dir == "" }

// pickCodec returns the first codec of offered that allowed contains.
func pickCodec(offered, allowed []Codec) (Codec, bool) {
	for _, o := range offered {
		for _, a := range allowed {
			if a.Name == o.Name {
				return o, true
			}
		}
	}
	return Codec{}, false
}
