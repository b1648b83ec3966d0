package sdp

import (
	"bytes"
	"sync"
)

// OriginTracker keeps the o= line of the SDP switchd sends on one leg. RFC
// 3264 §8 requires every description sent in a session to carry the same o=
// line except sess-version, which grows by exactly one whenever the
// description changes and stays the same when identical SDP is sent again
// (for example when answering a session-refresh re-INVITE, RFC 4028). It is
// safe for concurrent use.
type OriginTracker struct {
	mu     sync.Mutex
	origin Origin
	last   []byte // the last description stamped; nil before the first
}

// NewOriginTracker returns a tracker whose first Stamp writes o as is
// (o.Version included).
func NewOriginTracker(o Origin) *OriginTracker {
	return &OriginTracker{origin: o}
}

// Stamp sets s.Origin for sending s: the tracked o= line, its version
// incremented by one if s differs (anywhere but o=) from the description
// stamped before, unchanged otherwise. Call it once for each description
// actually sent, just before marshalling it. It returns the o= line written.
func (t *OriginTracker) Stamp(s *Session) Origin {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.Origin = t.origin
	body := s.Marshal()
	if t.last != nil && !bytes.Equal(body, t.last) {
		t.origin.Version++ // wraps after 2^64-1 sends, never reached
		s.Origin = t.origin
		body = s.Marshal()
	}
	t.last = body
	return t.origin
}

// Origin returns the o= line of the last stamped description (before the
// first Stamp, the one given to NewOriginTracker).
func (t *OriginTracker) Origin() Origin {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.origin
}
