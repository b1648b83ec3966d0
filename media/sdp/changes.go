package sdp

import (
	"slices"
	"strconv"
	"strings"
)

// Changes lists what a new remote description (typically a re-INVITE offer,
// RFC 3264 §8) changes in the audio stream switchd anchors, compared with the
// previous one from the same peer. The audio stream is Session.Audio of each.
type Changes struct {
	Hold      bool // the peer puts the call on hold (Session.Hold became true)
	Resume    bool // the peer takes the call off hold (Session.Hold became false)
	Direction bool // the effective direction differs (a hold or resume is one too)
	// Address: the new description gives a usable RTP destination
	// (address and port) other than the previous one. Going to an
	// old-style hold address (0.0.0.0) is reported as Hold, not Address.
	Address bool
	Codecs  bool // the codec list (payload types, encodings, fmtp or order) differs
	// Streams: the number or types of m= lines differ, or an active audio
	// stream appeared or went away (port 0 or removed).
	Streams bool
}

// Compare reports what next changes compared with prev (both from the same
// peer). Identical descriptions, as in a session refresh, give no changes.
func Compare(prev, next *Session) Changes {
	var c Changes
	if len(prev.Media) != len(next.Media) {
		c.Streams = true
	} else {
		for i := range prev.Media {
			if !strings.EqualFold(prev.Media[i].Type, next.Media[i].Type) {
				c.Streams = true
			}
		}
	}
	pa, na := prev.Audio(), next.Audio()
	if pa == nil || na == nil {
		c.Streams = c.Streams || (pa == nil) != (na == nil)
		return c
	}
	ph, nh := prev.Hold(pa), next.Hold(na)
	c.Hold, c.Resume = !ph && nh, ph && !nh
	c.Direction = prev.EffectiveDirection(pa) != next.EffectiveDirection(na)
	if nc := next.ConnectionFor(na); nc != nil && !nc.IsHold() {
		c.Address = destination(prev, pa) != destination(next, na)
	}
	c.Codecs = !slices.Equal(pa.Codecs(), na.Codecs())
	return c
}

// destination is a comparable form of a stream's RTP destination.
func destination(s *Session, m *Media) string {
	port := strconv.Itoa(m.Port)
	c := s.ConnectionFor(m)
	if c == nil {
		return ":" + port
	}
	if a, ok := c.Addr(); ok {
		return a.String() + " " + port
	}
	return strings.ToLower(c.Address) + " " + port
}

// Any reports whether anything changed.
func (c Changes) Any() bool { return c != Changes{} }

// String lists the changes, e.g. "hold,direction", or "none".
func (c Changes) String() string {
	var parts []string
	for _, f := range []struct {
		set  bool
		name string
	}{
		{c.Hold, "hold"}, {c.Resume, "resume"}, {c.Direction, "direction"},
		{c.Address, "address"}, {c.Codecs, "codecs"}, {c.Streams, "streams"},
	} {
		if f.set {
			parts = append(parts, f.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}
