package sdp

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Parse reads a session description (RFC 8866 §5). Lines may end in CRLF or
// a bare LF; trailing blanks and empty lines are ignored. Parse is liberal
// about the order of lines after v= (RFC 8866 §5 fixes one, some phones do
// not keep it) but rejects, with a *ParseError wrapping ErrMalformed, input
// over MaxSize bytes or with more than MaxMedia m= lines, a missing v=, o= or
// s=, a v= other than 0, a duplicate v=, o=, s= or session-level c=, lines
// that are not "<letter>=<value>", and o=, c=, b=, t= or m= lines that do not
// follow their grammar (c= must be network type IN and address type IP4 or
// IP6).
func Parse(b []byte) (*Session, error) {
	if len(b) > MaxSize {
		return nil, descErr("description is %d bytes, over the %d-byte limit", len(b), MaxSize)
	}
	p := parser{s: &Session{}}
	n := 0
	for rest := b; len(rest) > 0; {
		var raw []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			raw, rest = rest[:i], rest[i+1:]
		} else {
			raw, rest = rest, nil
		}
		n++
		line := strings.TrimRight(strings.TrimSuffix(string(raw), "\r"), " \t")
		if line == "" {
			continue
		}
		if err := p.line(n, line); err != nil {
			return nil, err
		}
	}
	switch {
	case !p.seenV:
		return nil, descErr("empty description: missing v= line")
	case !p.seenO:
		return nil, descErr("missing o= line")
	case !p.seenS:
		return nil, descErr("missing s= line")
	}
	sortFields(p.s.Fields, sessionFieldRank)
	for _, m := range p.s.Media {
		sortFields(m.Fields, mediaFieldRank)
	}
	return p.s, nil
}

type parser struct {
	s                   *Session
	cur                 *Media // media section being read; nil at session level
	seenV, seenO, seenS bool
}

func (p *parser) line(n int, line string) error {
	if len(line) < 2 || line[1] != '=' || !isLetter(line[0]) {
		return lineErr(n, line, "not a <type>=<value> line")
	}
	if strings.ContainsAny(line, "\x00\r") {
		return lineErr(n, line, "control character in line")
	}
	typ, val := line[0], line[2:]
	if !p.seenV {
		if typ != 'v' {
			return lineErr(n, line, "missing v= line: a description starts with v=0")
		}
	}
	s, m := p.s, p.cur
	switch typ {
	case 'v':
		if p.seenV {
			return lineErr(n, line, "duplicate v= line")
		}
		if val != "0" {
			return lineErr(n, line, "unsupported protocol version (only v=0 exists)")
		}
		p.seenV = true
	case 'o', 's':
		if m != nil {
			return lineErr(n, line, "%c= line inside a media section", typ)
		}
		if typ == 's' {
			if p.seenS {
				return lineErr(n, line, "duplicate s= line")
			}
			p.seenS, s.Name = true, val
			return nil
		}
		if p.seenO {
			return lineErr(n, line, "duplicate o= line")
		}
		o, why := parseOrigin(val)
		if why != "" {
			return lineErr(n, line, "%s", why)
		}
		p.seenO, s.Origin = true, o
	case 'c':
		c, why := parseConnection(val)
		if why != "" {
			return lineErr(n, line, "%s", why)
		}
		switch {
		case m == nil && s.Connection != nil:
			return lineErr(n, line, "duplicate session-level c= line")
		case m == nil:
			s.Connection = c
		case m.Connection == nil:
			m.Connection = c
		default: // layered multicast: further c= lines are kept verbatim
			m.Fields = append(m.Fields, Field{typ, val})
		}
	case 'b':
		bw, why := parseBandwidth(val)
		if why != "" {
			return lineErr(n, line, "%s", why)
		}
		if m == nil {
			s.Bandwidths = append(s.Bandwidths, bw)
		} else {
			m.Bandwidths = append(m.Bandwidths, bw)
		}
	case 't', 'r':
		if m != nil { // out of place; kept, not interpreted
			m.Fields = append(m.Fields, Field{typ, val})
			return nil
		}
		if typ == 'r' {
			if len(s.Timings) == 0 {
				return lineErr(n, line, "r= line before any t= line")
			}
			t := &s.Timings[len(s.Timings)-1]
			t.Repeats = append(t.Repeats, val)
			return nil
		}
		t, why := parseTiming(val)
		if why != "" {
			return lineErr(n, line, "%s", why)
		}
		s.Timings = append(s.Timings, t)
	case 'a':
		k, v, _ := strings.Cut(val, ":")
		k = strings.TrimRight(k, " \t") // "a=x :y" is read as "a=x:y"
		if k == "" {
			return lineErr(n, line, "empty attribute name")
		}
		if m == nil {
			s.Attributes = append(s.Attributes, Attribute{k, v})
		} else {
			m.Attributes = append(m.Attributes, Attribute{k, v})
		}
	case 'm':
		if len(s.Media) == MaxMedia {
			return lineErr(n, line, "more than %d m= lines", MaxMedia)
		}
		md, why := parseMedia(val)
		if why != "" {
			return lineErr(n, line, "bad m= line: %s", why)
		}
		s.Media = append(s.Media, md)
		p.cur = md
	default: // i=, u=, e=, p=, z=, k= and unknown letters
		if m == nil {
			s.Fields = append(s.Fields, Field{typ, val})
		} else {
			m.Fields = append(m.Fields, Field{typ, val})
		}
	}
	return nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// parseOrigin reads "<username> <sess-id> <sess-version> <nettype>
// <addrtype> <unicast-address>" (RFC 8866 §5.2). why is "" on success.
func parseOrigin(v string) (o Origin, why string) {
	f := strings.Fields(v)
	if len(f) != 6 {
		return o, "o= needs 6 fields: username sess-id sess-version nettype addrtype address"
	}
	ver, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return o, "bad sess-version " + strconv.Quote(f[2])
	}
	return Origin{Username: f[0], SessionID: f[1], Version: ver, NetType: f[3], AddrType: f[4], Address: f[5]}, ""
}

// parseConnection reads "<nettype> <addrtype> <connection-address>" (RFC
// 8866 §5.7).
func parseConnection(v string) (*Connection, string) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return nil, "c= needs 3 fields: nettype addrtype address"
	}
	if f[0] != "IN" {
		return nil, "unknown network type " + strconv.Quote(f[0]) + " (want IN)"
	}
	var maxSuffixes int
	switch f[1] {
	case "IP4":
		maxSuffixes = 2 // /ttl/count
	case "IP6":
		maxSuffixes = 1 // /count
	default:
		return nil, "unknown address type " + strconv.Quote(f[1]) + " (want IP4 or IP6)"
	}
	parts := strings.Split(f[2], "/")
	host, suffixes := parts[0], parts[1:]
	if len(suffixes) > maxSuffixes {
		return nil, "bad connection address " + strconv.Quote(f[2])
	}
	for _, x := range suffixes {
		if _, err := strconv.ParseUint(x, 10, 32); err != nil {
			return nil, "bad connection address " + strconv.Quote(f[2])
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		switch {
		case a.Zone() != "":
			return nil, "IPv6 zone in connection address " + strconv.Quote(host)
		case f[1] == "IP4" && !a.Is4(), f[1] == "IP6" && !a.Is6():
			return nil, "address " + strconv.Quote(host) + " does not match address type " + f[1]
		}
	} else if !isHostName(host) {
		return nil, "bad connection address " + strconv.Quote(host)
	}
	return &Connection{NetType: f[0], AddrType: f[1], Address: f[2]}, ""
}

// isHostName reports whether h looks like an FQDN (RFC 8866 §9 allows one
// in c=); IP literals are checked before.
func isHostName(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && c != '-' && c != '.' && c != '_' {
			return false
		}
	}
	return true
}

// parseBandwidth reads "<bwtype>:<bandwidth>" (RFC 8866 §5.8).
func parseBandwidth(v string) (Bandwidth, string) {
	t, val, ok := strings.Cut(v, ":")
	if !ok || t == "" || strings.ContainsAny(t, " \t") {
		return Bandwidth{}, "b= must be <bwtype>:<bandwidth>"
	}
	n, err := strconv.ParseUint(val, 10, 64)
	if err != nil {
		return Bandwidth{}, "bad bandwidth " + strconv.Quote(val)
	}
	return Bandwidth{Type: t, Value: n}, ""
}

// parseTiming reads "<start-time> <stop-time>" (RFC 8866 §5.9).
func parseTiming(v string) (Timing, string) {
	f := strings.Fields(v)
	if len(f) != 2 {
		return Timing{}, "t= needs 2 fields: start-time stop-time"
	}
	start, err1 := strconv.ParseUint(f[0], 10, 64)
	stop, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return Timing{}, "bad time in t= line"
	}
	return Timing{Start: start, Stop: stop}, ""
}

// parseMedia reads "<media> <port>[/<number of ports>] <proto> <fmt> ..."
// (RFC 8866 §5.14). A rejected stream (port 0) may come without formats;
// an active one needs at least one.
func parseMedia(v string) (*Media, string) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return nil, "need <media> <port> <proto> <fmt> ..."
	}
	portStr, countStr, hasCount := strings.Cut(f[1], "/")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, "bad port " + strconv.Quote(f[1])
	}
	m := &Media{Type: f[0], Port: int(port), Proto: f[2]}
	if hasCount {
		c, err := strconv.ParseUint(countStr, 10, 16)
		if err != nil || c == 0 {
			return nil, "bad port count " + strconv.Quote(f[1])
		}
		m.PortCount = int(c)
	}
	if len(f) == 3 && m.Port != 0 {
		return nil, "no media formats"
	}
	if len(f) > 3 {
		m.Formats = f[3:]
	}
	return m, ""
}

// Field ranks: 0 is written before c= (after s= or m=), 1 before a=.
func sessionFieldRank(t byte) int {
	switch t {
	case 'i', 'u', 'e', 'p':
		return 0
	}
	return 1
}

func mediaFieldRank(t byte) int {
	if t == 'i' {
		return 0
	}
	return 1
}

// sortFields puts fields in the order Marshal writes them, keeping input
// order within a rank, so that Parse(Marshal(s)) equals s.
func sortFields(fs []Field, rank func(byte) int) {
	slices.SortStableFunc(fs, func(a, b Field) int { return rank(a.Type) - rank(b.Type) })
}
