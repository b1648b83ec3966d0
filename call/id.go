package call

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// ID identifies one contact (call or chat) for its whole life: every log
// line, event, CDR, recording and transcript about it carries it. It is a
// UUIDv7 (RFC 9562 §5.7) in its canonical lowercase text form, so IDs sort
// by creation time both as UUIDs and as strings.
type ID string

// idGen keeps NewID monotonic within the process (RFC 9562 §6.2, method 1:
// a 12-bit counter in rand_a).
var idGen struct {
	mu  sync.Mutex
	ms  int64  // unix_ts_ms of the last ID
	ctr uint16 // its rand_a counter (12 bits)
}

// NewID returns a new UUIDv7 whose timestamp is now's Unix milliseconds.
// IDs from one process strictly increase: within one millisecond, rand_a is
// a counter seeded at random with its top bit clear (RFC 9562 §6.2 counter
// rollover guard, so at least 2048 IDs fit in a millisecond); when the
// counter does overflow, or now goes backwards, the timestamp of the last ID
// is reused or advanced by one millisecond instead. rand_b (62 bits) comes
// from crypto/rand.
func NewID(now time.Time) ID {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand.Read, Go 1.24+)
	seed := uint16(b[6]&0x07)<<8 | uint16(b[7])

	ms := now.UnixMilli()
	idGen.mu.Lock()
	if ms > idGen.ms {
		idGen.ms, idGen.ctr = ms, seed
	} else {
		idGen.ctr++
		if idGen.ctr > 0xFFF {
			idGen.ms++
			idGen.ctr = seed
		}
		ms = idGen.ms
	}
	ctr := idGen.ctr
	idGen.mu.Unlock()

	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(ms)&(1<<48-1))
	copy(b[0:6], ts[2:])
	b[6] = 0x70 | byte(ctr>>8) // version 7
	b[7] = byte(ctr)
	b[8] = b[8]&0x3F | 0x80 // variant 10
	return ID(format(b))
}

func format(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// ParseID checks that s is a UUIDv7 in canonical form (lowercase or
// uppercase hex, hyphens at 8-4-4-4-12) and returns it lowercased.
func ParseID(s string) (ID, error) {
	b, ok := decode(s)
	if !ok || b[6]>>4 != 7 || b[8]>>6 != 2 {
		return "", fmt.Errorf("%w: %q is not a UUIDv7", ErrInvalidValue, s)
	}
	return ID(format(b)), nil
}

func decode(s string) ([16]byte, bool) {
	var b [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	hexs := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if n, err := hex.Decode(b[:], []byte(hexs)); err != nil || n != 16 {
		return b, false
	}
	return b, true
}

// Time returns the creation time encoded in the ID (millisecond
// precision), or the zero time if id is not a UUID.
func (id ID) Time() time.Time {
	b, ok := decode(string(id))
	if !ok {
		return time.Time{}
	}
	var ts [8]byte
	copy(ts[2:], b[0:6])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ts[:])))
}

// String returns the ID's text.
func (id ID) String() string { return string(id) }

// IsZero reports whether the ID is empty.
func (id ID) IsZero() bool { return id == "" }
