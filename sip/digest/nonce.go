package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
	"time"
)

// Nonces issues and checks stateless nonces: a timestamp and an HMAC over it
// with a per-process secret, so any server instance that shares the secret
// can check a nonce without remembering it, and a nonce older than the TTL is
// recognised as stale (RFC 7616 §3.3 "stale").
type Nonces struct {
	key  [32]byte
	ttl  time.Duration
	macs sync.Pool // keyed HMAC-SHA256 states: keying one costs two block hashes and allocations
}

// NonceState is the outcome of checking a nonce.
type NonceState uint8

// Nonce states. The zero value means the nonce was not issued by us.
const (
	NonceInvalid NonceState = iota
	NonceValid
	NonceStale
)

// String names the state for logs.
func (s NonceState) String() string {
	switch s {
	case NonceValid:
		return "valid"
	case NonceStale:
		return "stale"
	default:
		return "invalid"
	}
}

// NewNonces returns a nonce issuer with a fresh random secret.
func NewNonces(ttl time.Duration) (*Nonces, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("digest: nonce secret: %w", err)
	}
	return NewNoncesWithKey(key, ttl), nil
}

// NewNoncesWithKey returns a nonce issuer with a given secret (tests, or
// several servers sharing nonces).
func NewNoncesWithKey(key [32]byte, ttl time.Duration) *Nonces {
	n := &Nonces{key: key, ttl: ttl}
	n.macs.New = func() any { return hmac.New(sha256.New, n.key[:]) }
	return n
}

const (
	nonceTSLen  = 8
	nonceMACLen = 16
	// NonceLen is the length of an encoded nonce.
	NonceLen = (nonceTSLen + nonceMACLen + 2) / 3 * 4
)

// Issue returns a nonce for time now.
func (n *Nonces) Issue(now time.Time) string {
	var raw [nonceTSLen + nonceMACLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTSLen], uint64(now.UnixNano()))
	n.mac(raw[:nonceTSLen], raw[nonceTSLen:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// Check reports whether nonce was issued by n and whether it is still fresh at now.
func (n *Nonces) Check(nonce string, now time.Time) NonceState {
	var raw [nonceTSLen + nonceMACLen]byte
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != len(raw) {
		return NonceInvalid
	}
	// DecodedLen matched, so the nonce is 32 or 33 characters: copy it whole
	// to the stack and decode without allocating.
	var enc [NonceLen + 1]byte
	if _, err := base64.RawURLEncoding.Decode(raw[:], enc[:copy(enc[:], nonce)]); err != nil {
		return NonceInvalid
	}
	var want [nonceMACLen]byte
	n.mac(raw[:nonceTSLen], want[:])
	if !hmac.Equal(want[:], raw[nonceTSLen:]) {
		return NonceInvalid
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:nonceTSLen])))
	if age := now.Sub(issued); age > n.ttl || age < -time.Minute {
		return NonceStale
	}
	return NonceValid
}

func (n *Nonces) mac(ts, out []byte) {
	m := n.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(ts)
	var sum [sha256.Size]byte
	copy(out, m.Sum(sum[:0]))
	n.macs.Put(m)
}
