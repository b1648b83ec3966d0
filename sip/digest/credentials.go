package digest

import (
	"fmt"
	"strings"
)

// Credentials are the fields of an Authorization or Proxy-Authorization
// header with the Digest scheme (RFC 3261 §25.1 "credentials").
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm Algorithm
	CNonce    string
	Opaque    string
	QOP       string
	NC        string
}

// maxHeaderLen bounds what ParseCredentials looks at; real headers are a few
// hundred bytes.
const maxHeaderLen = 4096

// ParseCredentials parses a "Digest k=v, k="v"…" header value. Unknown
// parameters are ignored (RFC 2617 §3.2.2 auth-param); missing mandatory ones
// (username, realm, nonce, uri, response) are an error, as are qop without
// nc/cnonce and an unsupported algorithm.
func ParseCredentials(v string) (*Credentials, error) {
	if len(v) > maxHeaderLen {
		return nil, fmt.Errorf("%w: header longer than %d bytes", ErrMalformed, maxHeaderLen)
	}
	v = strings.TrimSpace(v)
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return nil, fmt.Errorf("%w: scheme %q is not Digest", ErrMalformed, scheme)
	}
	c := &Credentials{}
	var alg string
	err := EachParam(rest, func(k, val string) {
		switch strings.ToLower(k) {
		case "username":
			c.Username = val
		case "realm":
			c.Realm = val
		case "nonce":
			c.Nonce = val
		case "uri":
			c.URI = val
		case "response":
			c.Response = val
		case "algorithm":
			alg = val
		case "cnonce":
			c.CNonce = val
		case "opaque":
			c.Opaque = val
		case "qop":
			c.QOP = strings.ToLower(val)
		case "nc":
			c.NC = val
		}
	})
	if err != nil {
		return nil, err
	}
	if c.Algorithm, err = ParseAlgorithm(alg); err != nil {
		return nil, err
	}
	switch {
	case c.Username == "":
		return nil, fmt.Errorf("%w: no username", ErrMalformed)
	case c.Nonce == "":
		return nil, fmt.Errorf("%w: no nonce", ErrMalformed)
	case c.Response == "":
		return nil, fmt.Errorf("%w: no response", ErrMalformed)
	case c.URI == "":
		return nil, fmt.Errorf("%w: no uri", ErrMalformed)
	}
	switch c.QOP {
	case "":
	case "auth":
		if c.NC == "" || c.CNonce == "" {
			return nil, fmt.Errorf("%w: qop=auth without nc and cnonce", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported qop %q", ErrMalformed, c.QOP)
	}
	return c, nil
}

// EachParam walks a comma-separated list of name=value pairs where a value
// is a token or a quoted-string with backslash escapes (RFC 3261 §25.1), as
// in Authorization and WWW-Authenticate values. A bare token without "="
// followed by a comma (an unquoted list such as qop=auth,auth-int) is
// skipped. Errors wrap ErrMalformed.
func EachParam(s string, fn func(k, v string)) error {
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if comma := strings.IndexByte(s[i:], ','); comma >= 0 && (eq < 0 || comma < eq) {
			i += comma
			continue
		}
		if eq <= 0 {
			return fmt.Errorf("%w: parameter without value at %q", ErrMalformed, trimForError(s[i:]))
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val string
		if i < len(s) && s[i] == '"' {
			i++
			// Most quoted values have no escapes: take them as a substring.
			start, plain := i, true
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					plain = false
					break
				}
				i++
			}
			if plain {
				if i >= len(s) {
					return fmt.Errorf("%w: unterminated quoted value for %s", ErrMalformed, key)
				}
				val = s[start:i]
				i++
				fn(key, val)
				continue
			}
			i = start
			var b strings.Builder
			closed := false
			for i < len(s) {
				ch := s[i]
				if ch == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if ch == '"' {
					closed = true
					break
				}
				b.WriteByte(ch)
			}
			if !closed {
				return fmt.Errorf("%w: unterminated quoted value for %s", ErrMalformed, key)
			}
			val = b.String()
		} else {
			j := i
			for j < len(s) && s[j] != ',' {
				j++
			}
			val = strings.TrimSpace(s[i:j])
			i = j
		}
		fn(key, val)
	}
}

func trimForError(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// Challenge renders a WWW-Authenticate / Proxy-Authenticate value
// (RFC 3261 §22.4, RFC 8760 §2.4).
func Challenge(a Algorithm, realm, nonce string, stale bool) string {
	var b strings.Builder
	b.Grow(128)
	b.WriteString(`Digest realm="`)
	b.WriteString(realm)
	b.WriteString(`", nonce="`)
	b.WriteString(nonce)
	b.WriteString(`", algorithm=`)
	b.WriteString(a.String())
	b.WriteString(`, qop="auth"`)
	if stale {
		b.WriteString(", stale=true")
	}
	return b.String()
}
