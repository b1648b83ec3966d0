// Package digest implements the server side of SIP/HTTP digest access
// authentication: RFC 2617 (MD5, qop=auth), RFC 7616 (SHA-256) as applied to
// SIP by RFC 8760, and RFC 3261 §22.4.
//
// Only HA1 values (H(username:realm:password)) are ever stored; the password
// itself is needed once, when the HA1 is computed.
package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Algorithm is a digest hash algorithm (RFC 7616 §3.3, RFC 8760 §2).
type Algorithm uint8

// Algorithms known to switchd. The zero value is unknown.
const (
	AlgorithmUnknown Algorithm = iota
	MD5
	SHA256
)

// String returns the algorithm token as it appears on the wire.
func (a Algorithm) String() string {
	switch a {
	case MD5:
		return "MD5"
	case SHA256:
		return "SHA-256"
	default:
		return "unknown"
	}
}

// ParseAlgorithm maps a wire token (case-insensitive) to an Algorithm.
// An empty token means MD5 (RFC 2617 §3.2.1).
func ParseAlgorithm(s string) (Algorithm, error) {
	switch strings.ToUpper(s) {
	case "", "MD5":
		return MD5, nil
	case "SHA-256":
		return SHA256, nil
	default:
		return AlgorithmUnknown, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, s)
	}
}

func (a Algorithm) newHash() hash.Hash {
	if a == SHA256 {
		return sha256.New()
	}
	return md5.New()
}

// Errors returned by this package.
var (
	ErrUnsupportedAlgorithm = errors.New("digest: unsupported algorithm")
	ErrMalformed            = errors.New("digest: malformed credentials")
)

// H returns the lowercase hex digest of the colon-joined parts.
func (a Algorithm) H(parts ...string) string {
	h := a.newHash()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// HA1 computes H(username:realm:password) (RFC 2617 §3.2.2.2).
func HA1(a Algorithm, username, realm, password string) string {
	return a.H(username, realm, password)
}

// Response computes the expected request-digest for credentials c, given the
// stored HA1 and the request method (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1).
func Response(a Algorithm, ha1, method string, c *Credentials) string {
	ha2 := a.H(method, c.URI)
	if c.QOP == "" {
		return a.H(ha1, c.Nonce, ha2)
	}
	return a.H(ha1, c.Nonce, c.NC, c.CNonce, c.QOP, ha2)
}

// Verify reports whether c carries the right response for ha1 and method.
// The comparison is constant-time.
func Verify(ha1, method string, c *Credentials) bool {
	want := Response(c.Algorithm, ha1, method, c)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
}
