package media

import "sync"

// maxInterned bounds an internSet: past it, tables are no longer shared
// (still correct, only not deduplicated), so odd payload-type mappings
// cannot grow the engine without limit.
const maxInterned = 64

// internSet hands out one shared copy of each distinct immutable table
// (a leg's clock rates, a relay direction's plan). Nearly every call
// negotiates the same codecs, so sessions and relays share a handful of
// tables instead of holding 384–512 bytes each.
type internSet[T comparable] struct {
	mu sync.Mutex
	m  map[T]*T
}

// get returns the shared copy of *v, or v itself when the set is full.
// The caller must not modify v afterwards.
func (s *internSet[T]) get(v *T) *T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.m[*v]; ok {
		return p
	}
	if len(s.m) >= maxInterned {
		return v
	}
	if s.m == nil {
		s.m = make(map[T]*T)
	}
	s.m[*v] = v
	return v
}
