package sip

import (
	"errors"
	"fmt"
	"strings"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/sip/digest"
)

// ClientCredentials are what switchd presents to a carrier that challenges
// its requests (RFC 3261 §22.2).
type ClientCredentials struct {
	Username string
	Password string
	// Realm, when set, is the only realm these credentials answer; a
	// challenge for another realm is refused with ErrAuthRealm, so a
	// password is never hashed for a party it was not meant for. "" answers
	// any realm.
	Realm string
}

// Errors of the client side of digest authentication.
var (
	// ErrAuthRealm: the challenge names a realm the credentials are not for.
	ErrAuthRealm = errors.New("sip: challenge realm does not match the credentials")
	// ErrAuthChallenge: the 401/407 carries no challenge switchd can answer
	// (no Digest challenge, an unsupported algorithm or qop, no nonce).
	ErrAuthChallenge = errors.New("sip: no usable digest challenge")
	// ErrAuthRejected: the peer challenged again a request that already
	// answered a fresh challenge (and did not say the nonce was stale).
	ErrAuthRejected = errors.New("sip: credentials rejected")
)

// digestChallenge is one parsed WWW-Authenticate or Proxy-Authenticate
// value with the Digest scheme (RFC 3261 §22.4, RFC 7616 §3.3, RFC 8760 §2.3).
type digestChallenge struct {
	proxy  bool // from Proxy-Authenticate (407): answer with Proxy-Authorization
	realm  string
	nonce  string
	opaque string
	alg    digest.Algorithm
	// algToken is the algorithm as the challenge spelled it ("" when
	// absent): echoed back only when the challenge named one (RFC 2069
	// servers know no algorithm parameter).
	algToken string
	qopAuth  bool // qop offered and includes "auth"
	stale    bool
}

// authHeaderNames returns the challenge and answer header names for a 401 or 407.
func authHeaderNames(code int) (challenge, answer string, ok bool) {
	switch code {
	case gosip.StatusUnauthorized:
		return "WWW-Authenticate", "Authorization", true
	case gosip.StatusProxyAuthRequired:
		return "Proxy-Authenticate", "Proxy-Authorization", true
	}
	return "", "", false
}

// maxChallengeLen bounds the challenge value parseChallenge looks at (real
// ones are a few hundred bytes); it keeps our answer within what
// registrars accept.
const maxChallengeLen = 1024

func isControl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

// parseChallenge parses one "Digest k=v, …" challenge. Unknown parameters
// are ignored (RFC 7616 §3.3 auth-param); a challenge without a nonce, with
// an algorithm other than MD5 or SHA-256 (the -sess variants included), or
// offering only qop values other than "auth" is ErrAuthChallenge.
func parseChallenge(v string, proxy bool) (digestChallenge, error) {
	c := digestChallenge{proxy: proxy}
	if len(v) > maxChallengeLen {
		return c, fmt.Errorf("%w: challenge longer than %d bytes", ErrAuthChallenge, maxChallengeLen)
	}
	if i := strings.IndexFunc(v, isControl); i >= 0 {
		// Never copied into our answer: a bare LF would split the header.
		return c, fmt.Errorf("%w: control character at byte %d", ErrAuthChallenge, i)
	}
	v = strings.TrimSpace(v)
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return c, fmt.Errorf("%w: scheme %q is not Digest", ErrAuthChallenge, truncate(scheme, 32))
	}
	var qop string
	var hasQop bool
	err := eachAuthParam(rest, func(k, val string) {
		switch strings.ToLower(k) {
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "opaque":
			c.opaque = val
		case "algorithm":
			c.algToken = val
		case "qop":
			qop, hasQop = val, true
		case "stale":
			c.stale = strings.EqualFold(val, "true")
		}
	})
	if err != nil {
		return c, err
	}
	if c.alg, err = digest.ParseAlgorithm(c.algToken); err != nil {
		return c, fmt.Errorf("%w: %w", ErrAuthChallenge, err)
	}
	if c.nonce == "" {
		return c, fmt.Errorf("%w: no nonce", ErrAuthChallenge)
	}
	if hasQop {
		for _, q := range strings.Split(qop, ",") {
			if strings.EqualFold(strings.TrimSpace(q), "auth") {
				c.qopAuth = true
			}
		}
		if !c.qopAuth {
			return c, fmt.Errorf("%w: qop %q offers no \"auth\"", ErrAuthChallenge, truncate(qop, 32))
		}
	}
	return c, nil
}

// eachAuthParam is digest.EachParam with its errors as ErrAuthChallenge.
func eachAuthParam(s string, fn func(k, v string)) error {
	if err := digest.EachParam(s, fn); err != nil {
		return fmt.Errorf("%w: %w", ErrAuthChallenge, err)
	}
	return nil
}

// pickChallenge chooses, among the challenges of a 401/407, the strongest
// one the credentials can answer: SHA-256 before MD5 (RFC 8760 §2.4), the
// first offered among equals. It is ErrAuthRealm when usable challenges
// exist only for other realms.
func pickChallenge(res *gosip.Response, cred ClientCredentials) (digestChallenge, error) {
	name, _, ok := authHeaderNames(int(res.StatusCode))
	if !ok {
		return digestChallenge{}, fmt.Errorf("%w: status %d is not a challenge", ErrAuthChallenge, res.StatusCode)
	}
	var (
		best     digestChallenge
		found    bool
		lastErr  error
		realmErr error
	)
	for _, h := range res.GetHeaders(name) {
		c, err := parseChallenge(h.Value(), res.StatusCode == gosip.StatusProxyAuthRequired)
		if err != nil {
			lastErr = err
			continue
		}
		if cred.Realm != "" && c.realm != cred.Realm {
			realmErr = fmt.Errorf("%w: challenged for %q, credentials are for %q", ErrAuthRealm, truncate(c.realm, 64), cred.Realm)
			continue
		}
		if !found || strength(c.alg) > strength(best.alg) {
			best, found = c, true
		}
	}
	switch {
	case found:
		return best, nil
	case realmErr != nil:
		return digestChallenge{}, realmErr
	case lastErr != nil:
		return digestChallenge{}, lastErr
	}
	return digestChallenge{}, fmt.Errorf("%w: %d without %s", ErrAuthChallenge, res.StatusCode, name)
}

func strength(a digest.Algorithm) int {
	if a == digest.SHA256 {
		return 2
	}
	return 1
}

// answer renders the Authorization (or Proxy-Authorization) header for
// method and digest-uri uri (the Request-URI, RFC 3261 §22.4), using nonce
// count nc for qop=auth. cnonce is the client nonce; with no qop (RFC 2069)
// it is unused.
func (c *digestChallenge) answer(method, uri string, cred ClientCredentials, nc uint32, cnonce string) gosip.Header {
	dc := &digest.Credentials{Username: cred.Username, Realm: c.realm, Nonce: c.nonce, URI: uri, Algorithm: c.alg}
	if c.qopAuth {
		dc.QOP, dc.NC, dc.CNonce = "auth", fmt.Sprintf("%08x", nc), cnonce
	}
	resp := digest.Response(c.alg, digest.HA1(c.alg, cred.Username, c.realm, cred.Password), method, dc)

	// nonce before cnonce: naive parsers (sipp 3.6) find "nonce=" inside "cnonce=".
	var b strings.Builder
	b.Grow(256)
	b.WriteString("Digest username=")
	b.WriteString(quoteParam(cred.Username))
	b.WriteString(", realm=")
	b.WriteString(quoteParam(c.realm))
	b.WriteString(", nonce=")
	b.WriteString(quoteParam(c.nonce))
	b.WriteString(", uri=")
	b.WriteString(quoteParam(uri))
	b.WriteString(`, response="`)
	b.WriteString(resp)
	b.WriteByte('"')
	if c.algToken != "" {
		b.WriteString(", algorithm=")
		b.WriteString(c.alg.String())
	}
	if c.qopAuth {
		b.WriteString(`, cnonce="`)
		b.WriteString(cnonce)
		b.WriteString(`", qop=auth, nc=`)
		b.WriteString(dc.NC)
	}
	if c.opaque != "" {
		b.WriteString(", opaque=")
		b.WriteString(quoteParam(c.opaque))
	}
	name := "Authorization"
	if c.proxy {
		name = "Proxy-Authorization"
	}
	return gosip.NewHeader(name, b.String())
}

// quoteParam renders s as a quoted-string (RFC 3261 §25.1).
func quoteParam(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// newCNonce returns a fresh client nonce.
func newCNonce() string { return randHex(8) }

// authorize builds the Authorization (401) or Proxy-Authorization (407)
// header answering res's challenge for req, with nonce count nc (1 for the
// first use of a nonce; RFC 7616 §3.4 wants it incremented on every reuse).
// It picks the strongest challenge offered; it is ErrAuthRealm when the
// realm is not the credentials' one, and ErrAuthChallenge when nothing in
// res can be answered.
func authorize(req *gosip.Request, res *gosip.Response, cred ClientCredentials, nc uint32) (gosip.Header, error) {
	c, err := pickChallenge(res, cred)
	if err != nil {
		return nil, err
	}
	return c.answer(string(req.Method), req.Recipient.String(), cred, nc, newCNonce()), nil
}

// withAuth returns a new request for re-sending req after the challenge
// res (RFC 3261 §22.2, §8.1.3.5): the same Request-URI, Call-ID, From (and
// tag), To and body, CSeq + 1, no Via (Server.send adds one with a new
// branch), and the answer to res in place of any earlier answer for the
// same realm. req itself is not modified, so a transaction still holding it
// (e.g. one ACKing the 401/407 of an INVITE) is not disturbed.
func withAuth(req *gosip.Request, res *gosip.Response, cred ClientCredentials) (*gosip.Request, error) {
	c, err := pickChallenge(res, cred)
	if err != nil {
		return nil, err
	}
	if req.CSeq() == nil {
		return nil, fmt.Errorf("sip: %s without CSeq cannot be re-sent", req.Method)
	}
	h := c.answer(string(req.Method), req.Recipient.String(), cred, 1, newCNonce())
	return resend(req, h, c.realm), nil
}

// resend copies req for a new transaction with CSeq + 1, no Via, and auth
// replacing the answers of the same kind for realm.
func resend(req *gosip.Request, auth gosip.Header, realm string) *gosip.Request {
	out := gosip.NewRequest(req.Method, *req.Recipient.Clone())
	out.SipVersion = req.SipVersion
	for _, h := range req.Headers() {
		switch {
		case strings.EqualFold(h.Name(), "Via"):
			continue
		case strings.EqualFold(h.Name(), auth.Name()) && answersRealm(h.Value(), realm):
			continue
		}
		out.AppendHeader(gosip.HeaderClone(h))
	}
	out.AppendHeader(auth)
	if cseq := out.CSeq(); cseq != nil {
		cseq.SeqNo++
	}
	if body := req.Body(); body != nil {
		out.SetBody(append([]byte(nil), body...))
	}
	out.SetTransport(req.Transport())
	out.SetDestination(req.Destination())
	out.Laddr = req.Laddr
	return out
}

// answersRealm reports whether an Authorization value is for realm (or
// unreadable, in which case it is replaced too).
func answersRealm(v, realm string) bool {
	var got string
	found := false
	_, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	if err := eachAuthParam(rest, func(k, val string) {
		if strings.EqualFold(k, "realm") {
			got, found = val, true
		}
	}); err != nil || !found {
		return true
	}
	return got == realm
}
