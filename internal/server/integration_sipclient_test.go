package server_test

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawClient is a minimal SIP UAC over UDP for the cases sipp cannot
// express: malformed requests, SHA-256 digest, exact control over headers.
// Its digest computation is written here from RFC 2617/7616, independently
// of the server's sip/digest package.
type rawClient struct {
	t      *testing.T
	conn   *net.UDPConn
	server *net.UDPAddr
	local  string // ip:port of conn
}

func newRawClient(t *testing.T, localIP, server string) *rawClient {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(localIP)})
	if err != nil {
		t.Fatalf("listen udp on %s: %v", localIP, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, server: raddr, local: conn.LocalAddr().String()}
}

func (c *rawClient) send(msg string) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDP([]byte(msg), c.server); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// errNoAnswer is returned by recv when nothing came within the timeout.
var errNoAnswer = errors.New("no answer")

// recv reads the next SIP response (requests, e.g. qualify OPTIONS, are skipped).
func (c *rawClient) recv(timeout time.Duration) (*sipResponse, error) {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 65535)
	for {
		if err := c.conn.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		n, _, err := c.conn.ReadFromUDP(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, errNoAnswer
		}
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
			continue
		}
		return parseResponse(string(buf[:n]))
	}
}

// roundTrip sends msg and returns the response; no answer fails the test.
func (c *rawClient) roundTrip(msg string) *sipResponse {
	c.t.Helper()
	c.send(msg)
	res, err := c.recv(2 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for the answer to\n%s\n: %v", msg, err)
	}
	return res
}

// sipResponse is a parsed response.
type sipResponse struct {
	Code    int
	Reason  string
	headers map[string][]string // by lower-case name
	Raw     string
}

func parseResponse(s string) (*sipResponse, error) {
	head, _, _ := strings.Cut(s, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	parts := strings.SplitN(lines[0], " ", 3)
	if len(parts) < 2 {
		return nil, fmt.Errorf("bad status line %q", lines[0])
	}
	code, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, fmt.Errorf("bad status line %q", lines[0])
	}
	r := &sipResponse{Code: code, headers: map[string][]string{}, Raw: s}
	if len(parts) == 3 {
		r.Reason = parts[2]
	}
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k := strings.ToLower(strings.TrimSpace(name))
		r.headers[k] = append(r.headers[k], strings.TrimSpace(val))
	}
	return r, nil
}

func (r *sipResponse) all(name string) []string { return r.headers[strings.ToLower(name)] }

func (r *sipResponse) get(name string) string {
	if v := r.all(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// regRequest describes a REGISTER built by rawClient.register.
type regRequest struct {
	User     string // From user (and To unless AOR is set)
	AOR      string
	CallID   string
	CSeq     int
	Contacts []string // Contact header values; nil: <sip:user@local>
	Expires  string   // Expires header value; "" leaves it out
	Auth     string   // Authorization header value
	Extra    []string // further header lines
	Omit     string   // a header name to leave out (e.g. "Call-ID")
}

func (c *rawClient) register(r regRequest) string {
	aor := r.AOR
	if aor == "" {
		aor = r.User
	}
	if r.CallID == "" {
		r.CallID = randToken() + "@rawclient"
	}
	if r.CSeq == 0 {
		r.CSeq = 1
	}
	contacts := r.Contacts
	if contacts == nil {
		contacts = []string{fmt.Sprintf("<sip:%s@%s>", r.User, c.local)}
	}
	host := c.server.IP.String()
	hdrs := []string{
		fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport", c.local, randToken()),
		"Max-Forwards: 70",
		fmt.Sprintf("From: <sip:%s@%s>;tag=%s", r.User, host, randToken()),
		fmt.Sprintf("To: <sip:%s@%s>", aor, host),
		"Call-ID: " + r.CallID,
		fmt.Sprintf("CSeq: %d REGISTER", r.CSeq),
	}
	for _, ct := range contacts {
		hdrs = append(hdrs, "Contact: "+ct)
	}
	if r.Expires != "" {
		hdrs = append(hdrs, "Expires: "+r.Expires)
	}
	if r.Auth != "" {
		hdrs = append(hdrs, "Authorization: "+r.Auth)
	}
	hdrs = append(hdrs, "User-Agent: rawclient")
	hdrs = append(hdrs, r.Extra...)
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER %s SIP/2.0\r\n", c.requestURI())
	for _, h := range hdrs {
		if r.Omit != "" && strings.HasPrefix(strings.ToLower(h), strings.ToLower(r.Omit)+":") {
			continue
		}
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

func (c *rawClient) requestURI() string { return "sip:" + c.server.String() }

// challenge is one parsed WWW-Authenticate header.
type challenge struct {
	Realm, Nonce, Algorithm, QOP string
}

func parseChallenge(h string) (challenge, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return challenge{}, fmt.Errorf("not a Digest challenge: %q", h)
	}
	var ch challenge
	for _, p := range splitParams(rest) {
		k, v, _ := strings.Cut(p, "=")
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "realm":
			ch.Realm = v
		case "nonce":
			ch.Nonce = v
		case "algorithm":
			ch.Algorithm = v
		case "qop":
			ch.QOP = v
		}
	}
	if ch.Realm == "" || ch.Nonce == "" {
		return challenge{}, fmt.Errorf("challenge without realm or nonce: %q", h)
	}
	return ch, nil
}

// splitParams splits on commas outside quotes.
func splitParams(s string) []string {
	var out []string
	inQ, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQ = !inQ
		case ',':
			if !inQ {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// authorization computes a qop=auth Authorization value (RFC 7616 §3.4).
func authorization(ch challenge, user, password, method, uri string) string {
	var newHash func() hash.Hash
	switch strings.ToUpper(ch.Algorithm) {
	case "", "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		panic("unsupported algorithm " + ch.Algorithm)
	}
	h := func(s string) string {
		x := newHash()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	cnonce, nc := randToken(), "00000001"
	ha1 := h(user + ":" + ch.Realm + ":" + password)
	ha2 := h(method + ":" + uri)
	resp := h(ha1 + ":" + ch.Nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	alg := ch.Algorithm
	if alg == "" {
		alg = "MD5"
	}
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"`,
		user, ch.Realm, ch.Nonce, uri, resp, alg, nc, cnonce)
}

// challenges returns the Digest challenges of a 401, in order.
func challenges(t *testing.T, res *sipResponse) []challenge {
	t.Helper()
	if res.Code != 401 {
		t.Fatalf("expected 401, got %d %s\n%s", res.Code, res.Reason, res.Raw)
	}
	var out []challenge
	for _, h := range res.all("WWW-Authenticate") {
		ch, err := parseChallenge(h)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ch)
	}
	if len(out) == 0 {
		t.Fatalf("401 without WWW-Authenticate:\n%s", res.Raw)
	}
	return out
}

// pick returns the challenge for alg.
func pick(t *testing.T, chs []challenge, alg string) challenge {
	t.Helper()
	for _, ch := range chs {
		if strings.EqualFold(ch.Algorithm, alg) {
			return ch
		}
	}
	t.Fatalf("no %s challenge among %+v", alg, chs)
	return challenge{}
}

// authedRegister runs REGISTER → 401 → REGISTER with credentials for alg and
// returns the final response. r.Auth is filled in; r.CSeq starts at r.CSeq.
func (c *rawClient) authedRegister(r regRequest, password, alg string) *sipResponse {
	c.t.Helper()
	if r.CallID == "" {
		r.CallID = randToken() + "@rawclient"
	}
	if r.CSeq == 0 {
		r.CSeq = 1
	}
	first := r
	first.Auth = ""
	chs := challenges(c.t, c.roundTrip(c.register(first)))
	r.CSeq++
	r.Auth = authorization(pick(c.t, chs, alg), r.User, password, "REGISTER", c.requestURI())
	return c.roundTrip(c.register(r))
}

func randToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
