package sdp

import (
	"strconv"
	"strings"
)

// Marshal writes the session description with CRLF line endings in the
// order of RFC 8866 §5: v o s i u e p c b t r z k a, then each media section
// as m i c b k a (Fields are placed as described there). For anything Parse
// accepted, Parse(s.Marshal()) gives back an equal Session. Empty tokens in
// o= are written as "-" so the line stays parseable.
func (s *Session) Marshal() []byte {
	var w sdpWriter
	w.line('v', "0")
	o := s.Origin
	w.line('o', strings.Join([]string{
		tok(o.Username), tok(o.SessionID), strconv.FormatUint(o.Version, 10),
		tok(o.NetType), tok(o.AddrType), tok(o.Address)}, " "))
	name := s.Name
	if name == "" {
		name = " " // RFC 8866 §5.3: s= must not be empty
	}
	w.line('s', name)
	w.fields(s.Fields, sessionFieldRank, 0)
	w.connection(s.Connection)
	w.bandwidths(s.Bandwidths)
	for _, t := range s.Timings {
		w.line('t', strconv.FormatUint(t.Start, 10)+" "+strconv.FormatUint(t.Stop, 10))
		for _, r := range t.Repeats {
			w.line('r', r)
		}
	}
	w.fields(s.Fields, sessionFieldRank, 1)
	w.attributes(s.Attributes)
	for _, m := range s.Media {
		w.media(m)
	}
	return []byte(w.b.String())
}

// String returns Marshal as a string.
func (s *Session) String() string { return string(s.Marshal()) }

// String writes the m= line (without line ending), e.g.
// "m=audio 10000 RTP/AVP 0 8 101".
func (m *Media) String() string {
	var b strings.Builder
	b.WriteString("m=")
	b.WriteString(tok(m.Type))
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(m.Port))
	if m.PortCount > 0 {
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(m.PortCount))
	}
	b.WriteByte(' ')
	b.WriteString(tok(m.Proto))
	for _, f := range m.Formats {
		b.WriteByte(' ')
		b.WriteString(f)
	}
	return b.String()
}

// String writes the c= value, e.g. "IN IP4 192.0.2.1".
func (c *Connection) String() string {
	return tok(c.NetType) + " " + tok(c.AddrType) + " " + tok(c.Address)
}

func tok(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type sdpWriter struct{ b strings.Builder }

func (w *sdpWriter) line(t byte, v string) {
	w.b.WriteByte(t)
	w.b.WriteByte('=')
	w.b.WriteString(v)
	w.b.WriteString("\r\n")
}

func (w *sdpWriter) fields(fs []Field, rank func(byte) int, want int) {
	for _, f := range fs {
		if rank(f.Type) == want {
			w.line(f.Type, f.Value)
		}
	}
}

func (w *sdpWriter) connection(c *Connection) {
	if c != nil {
		w.line('c', c.String())
	}
}

func (w *sdpWriter) bandwidths(bs []Bandwidth) {
	for _, b := range bs {
		w.line('b', b.Type+":"+strconv.FormatUint(b.Value, 10))
	}
}

func (w *sdpWriter) attributes(as []Attribute) {
	for _, a := range as {
		if a.Value == "" {
			w.line('a', a.Key)
		} else {
			w.line('a', a.Key+":"+a.Value)
		}
	}
}

func (w *sdpWriter) media(m *Media) {
	w.b.WriteString(m.String())
	w.b.WriteString("\r\n")
	w.fields(m.Fields, mediaFieldRank, 0)
	w.connection(m.Connection)
	w.bandwidths(m.Bandwidths)
	w.fields(m.Fields, mediaFieldRank, 1)
	w.attributes(m.Attributes)
}
