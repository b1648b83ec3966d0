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

// Errors returned by this package.
var (
	ErrUnsupportedAlgorithm = errors.New("digest: unsupported algorithm")
	ErrMalformed            = errors.New("digest: malformed credentials")
)

// H returns the lowercase hex digest of the colon-joined parts.
func (a Algorithm) H(parts ...string) string {
	var buf [256]byte
	msg := buf[:0]
	for i, p := range parts {
		if i > 0 {
			msg = append(msg, ':')
		}
		msg = append(msg, p...)
	}
	var out [hexLen]byte
	return string(a.appendHex(out[:0], msg))
}

// hexLen is the longest hex digest (SHA-256).
const hexLen = 2 * sha256.Size

// appendHex appends the lowercase hex digest of msg to dst. Digests are
// computed on the stack: the request path runs three per authenticated
// request.
func (a Algorithm) appendHex(dst, msg []byte) []byte {
	if a == SHA256 {
		sum := sha256.Sum256(msg)
		return hex.AppendEncode(dst, sum[:])
	}
	sum := md5.Sum(msg)
	return hex.AppendEncode(dst, sum[:])
}

// HA1 computes H(username:realm:password) (RFC 2617 §3.2.2.2).
func HA1(a Algorithm, username, realm, password string) string {
	return a.H(username, realm, password)
}

// Response computes the expected request-digest for credentials c, given the
// stored HA1 and the request method (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1).
func Response(a Algorithm, ha1, method string, c *Credentials) string {
	var out [hexLen]byte
	return string(appendResponse(out[:0], a, ha1, method, c))
}

// appendResponse appends the request-digest of Response to dst.
func appendResponse(dst []byte, a Algorithm, ha1, method string, c *Credentials) []byte {
	var buf [512]byte
	msg := append(buf[:0], method...)
	msg = append(msg, ':')
	msg = append(msg, c.URI...)
	var ha2 [hexLen]byte
	h2 := a.appendHex(ha2[:0], msg)

	msg = append(buf[:0], ha1...)
	msg = append(msg, ':')
	msg = append(msg, c.Nonce...)
	if c.QOP != "" {
		msg = append(msg, ':')
		msg = append(msg, c.NC...)
		msg = append(msg, ':')
		msg = append(msg, c.CNonce...)
		msg = append(msg, ':')
		msg = append(msg, c.QOP...)
	}
	msg = append(msg, ':')
	msg = append(msg, h2...)
	return a.appendHex(dst, msg)
}

// Verify reports whether c carries the right response for ha1 and method.
// The response compares case-insensitively; the comparison is constant-time.
func Verify(ha1, method string, c *Credentials) bool {
	var out [hexLen]byte
	want := appendResponse(out[:0], c.Algorithm, ha1, method, c)
	// A hex digest is ASCII, and no non-ASCII character lowercases to a
	// hex digit: a response of another length, or with a non-ASCII byte,
	// cannot match.
	if len(c.Response) != len(want) {
		return false
	}
	var got [hexLen]byte
	for i := 0; i < len(want); i++ {
		ch := c.Response[i]
		if ch >= 0x80 {
			return false
		}
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		got[i] = ch
	}
	return subtle.ConstantTimeCompare(want, got[:len(want)]) == 1
}
