package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// Source describes where a request came from.
type Source struct {
	Addr      netip.AddrPort // packet source (after NAT)
	Transport string         // "udp" or "tcp"
	Local     string         // listener address that received it
}

// Registrar implements the registrar of RFC 3261 §10.3 on top of a
// BindingTable, with digest authentication by an Authenticator.
type Registrar struct {
	minExpires, maxExpires, defExpires int
	auth                               *Authenticator
	table                              *BindingTable
	now                                func() time.Time
	log                                *slog.Logger
	serverName                         string
	lastDate                           atomic.Pointer[formattedDate]
}

// NewRegistrar returns a registrar for the section cfg (already validated).
func NewRegistrar(cfg Config, auth *Authenticator, table *BindingTable, now func() time.Time, log *slog.Logger, serverName string) *Registrar {
	return &Registrar{
		minExpires: cfg.RegisterMinExpires,
		maxExpires: cfg.RegisterMaxExpires,
		defExpires: cfg.RegisterDefaultExpires,
		auth:       auth, table: table, now: now, log: log, serverName: serverName,
	}
}

// Table returns the registrar's bindings.
func (r *Registrar) Table() *BindingTable { return r.table }

// Register handles one REGISTER request and returns the response to send.
func (r *Registrar) Register(ctx context.Context, req *gosip.Request, src Source) *gosip.Response {
	res := r.register(ctx, req, src)
	if r.serverName != "" {
		res.AppendHeader(gosip.NewHeader("Server", r.serverName))
	}
	return res
}

func (r *Registrar) reply(req *gosip.Request, code int, reason string) *gosip.Response {
	return gosip.NewResponseFromRequest(req, code, reason, nil)
}

func (r *Registrar) register(ctx context.Context, req *gosip.Request, src Source) *gosip.Response {
	to, callID, cseq := req.To(), req.CallID(), req.CSeq()
	if to == nil || callID == nil || cseq == nil || req.From() == nil {
		return r.reply(req, gosip.StatusBadRequest, "Missing To, From, Call-ID or CSeq")
	}
	aor := userOf(&to.Address)
	if aor == "" || (to.Address.Scheme != "sip" && to.Address.Scheme != "sips") {
		return r.reply(req, gosip.StatusBadRequest, "To header has no SIP address-of-record")
	}
	// RFC 3261 §10.3 step 2: we implement no extensions a registrar can be required to.
	if unsupported := requiredOptions(req); len(unsupported) > 0 {
		res := r.reply(req, gosip.StatusBadExtension, "Bad Extension")
		res.AppendHeader(gosip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
		return res
	}
	// Steps 3–4: authenticate, and the user must own the AOR.
	user, challenge := r.auth.Authenticate(ctx, req, src, false)
	if challenge != nil {
		return challenge
	}
	if user != aor {
		r.auth.fail(src, "aor_not_owned", user, nil)
		return r.reply(req, gosip.StatusForbidden, "Forbidden: "+user+" may not register "+aor)
	}

	// Steps 5–6: the contacts and their expiries.
	headerExpires := -1
	if h := firstHeader(req, "Expires"); h != nil {
		v, err := parseDeltaSeconds(h.Value())
		if err != nil {
			return r.reply(req, gosip.StatusBadRequest, "Bad Expires header")
		}
		headerExpires = v
	}
	upd := Update{
		AOR: aor, CallID: callID.Value(), CSeq: cseq.SeqNo,
		Source: src.Addr, Transport: src.Transport, Local: src.Local,
	}
	if ua := firstHeader(req, "User-Agent"); ua != nil {
		upd.UserAgent = truncate(ua.Value(), 128)
	}
	contacts := headersNamed(req, "Contact")
	for _, h := range contacts {
		c, ok := h.(*gosip.ContactHeader)
		if !ok {
			return r.reply(req, gosip.StatusBadRequest, "Malformed Contact header")
		}
		if c.Address.Wildcard {
			if len(contacts) != 1 || headerExpires != 0 {
				return r.reply(req, gosip.StatusBadRequest, "Contact: * needs Expires: 0 and no other contact")
			}
			upd.Wildcard = true
			break
		}
		if c.Address.Scheme != "sip" && c.Address.Scheme != "sips" || c.Address.Host == "" {
			return r.reply(req, gosip.StatusBadRequest, "Contact must be a SIP URI")
		}
		expires := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := parseDeltaSeconds(v)
			if err != nil {
				return r.reply(req, gosip.StatusBadRequest, "Bad expires parameter in Contact")
			}
			expires = n
		}
		if expires < 0 {
			expires = r.defExpires
		}
		if expires > 0 && expires < r.minExpires {
			res := r.reply(req, gosip.StatusIntervalToBrief, "Interval Too Brief")
			res.AppendHeader(gosip.NewHeader("Min-Expires", strconv.Itoa(r.minExpires)))
			return res
		}
		expires = min(expires, r.maxExpires)
		cu := ContactUpdate{Contact: c.Address.String(), Expires: time.Duration(expires) * time.Second}
		if len(cu.Contact) > 512 {
			return r.reply(req, gosip.StatusBadRequest, "Contact URI too long")
		}
		cu.Q, _ = c.Params.Get("q")
		cu.Instance, _ = c.Params.Get("+sip.instance")
		cu.Instance = truncate(cu.Instance, 128)
		if v, ok := c.Params.Get("reg-id"); ok {
			cu.RegID, _ = strconv.Atoi(v)
		}
		// RFC 5626 §6: with an instance ID (and reg-id) the binding is the
		// phone instance's flow, not the contact URI.
		switch {
		case cu.Instance != "" && cu.RegID > 0:
			cu.Key = cu.Instance + "/" + strconv.Itoa(cu.RegID)
		case cu.Instance != "":
			cu.Key = cu.Instance
		default:
			cu.Key = canonicalContact(&c.Address, cu.Contact)
		}
		upd.Contacts = append(upd.Contacts, cu)
	}

	now := r.now()
	var bindings []Binding
	if len(contacts) == 0 {
		bindings = r.table.Lookup(aor) // a query (RFC 3261 §10.2.3)
	} else {
		changes, after, err := r.table.Apply(upd, now)
		switch err {
		case nil:
		case ErrCSeqOutOfOrder:
			return r.reply(req, gosip.StatusBadRequest, "CSeq out of order")
		case ErrTooManyContacts:
			return r.reply(req, gosip.StatusForbidden, "Too many contacts for "+aor)
		default:
			return r.reply(req, gosip.StatusInternalServerError, "Registrar error")
		}
		bindings = after
		r.logChanges(changes)
	}

	// Step 8: 200 OK with every current binding.
	res := r.reply(req, gosip.StatusOK, "OK")
	for _, b := range bindings {
		left := int((b.Expires.Sub(now) + time.Second - 1) / time.Second)
		v := "<" + b.Contact + ">;expires=" + strconv.Itoa(max(left, 0))
		if b.Instance != "" {
			v += ";+sip.instance=" + b.Instance
			if b.RegID > 0 {
				v += ";reg-id=" + strconv.Itoa(b.RegID)
			}
		}
		res.AppendHeader(gosip.NewHeader("Contact", v))
	}
	res.AppendHeader(gosip.NewHeader("Date", r.date(now)))
	return res
}

// date formats now for the Date header (RFC 3261 §20.17), once per second.
func (r *Registrar) date(now time.Time) string {
	sec := now.Unix()
	if d := r.lastDate.Load(); d != nil && d.sec == sec {
		return d.s
	}
	d := &formattedDate{sec: sec, s: now.UTC().Format(time.RFC1123)}
	r.lastDate.Store(d)
	return d.s
}

type formattedDate struct {
	sec int64
	s   string
}

func (r *Registrar) logChanges(changes []Change) {
	for _, c := range changes {
		lvl := slog.LevelInfo
		if c.Op == OpRefresh {
			lvl = slog.LevelDebug
		}
		if !r.log.Enabled(context.Background(), lvl) {
			continue
		}
		r.log.Log(context.Background(), lvl, "registration_"+c.Op.String(),
			"aor", c.Binding.AOR, "contact", c.Binding.Contact, "source", c.Binding.Source.String(),
			"transport", c.Binding.Transport, "expires", c.Binding.Expires.Format(time.RFC3339),
			"user_agent", c.Binding.UserAgent)
	}
}

// LogChanges logs binding changes made outside a REGISTER (expiry, purge).
func (r *Registrar) LogChanges(changes []Change) { r.logChanges(changes) }

// canonicalContact is the comparison form of a contact URI (RFC 3261
// §19.1.4, simplified): scheme, user and host case-folded where the RFC
// says they compare case-insensitively. formatted is u.String().
func canonicalContact(u *gosip.Uri, formatted string) string {
	host, scheme := strings.ToLower(u.Host), strings.ToLower(u.Scheme)
	if host == u.Host && scheme == u.Scheme {
		return formatted // already canonical
	}
	c := *u
	c.Host, c.Scheme = host, scheme
	return c.String()
}

// parseDeltaSeconds parses delta-seconds (RFC 3261 §25.1: 1*DIGIT, any
// length); values past 2³¹−1 are capped as §20.19 allows.
func parseDeltaSeconds(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		if n < 1<<31-1 {
			n = min(n*10+int(c-'0'), 1<<31-1)
		}
	}
	return n, nil
}

// requiredOptions returns the option tags of Require headers (RFC 3261 §20.32).
func requiredOptions(req *gosip.Request) []string {
	var tags []string
	for _, h := range headersNamed(req, "Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// firstHeader returns req's first header called name, or nil. Names compare
// ASCII-case-insensitively, as sipgo's GetHeader does, but without
// allocating a lower-case copy of every header name on the way.
func firstHeader(req *gosip.Request, name string) gosip.Header {
	for _, h := range req.Headers() {
		if equalFoldASCII(h.Name(), name) {
			return h
		}
	}
	return nil
}

// headersNamed returns req's headers called name, in order (as sipgo's
// GetHeaders, without its allocations).
func headersNamed(req *gosip.Request, name string) []gosip.Header {
	var out []gosip.Header
	for _, h := range req.Headers() {
		if equalFoldASCII(h.Name(), name) {
			out = append(out, h)
		}
	}
	return out
}

// equalFoldASCII reports whether a and b are equal under ASCII case folding.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Options answers an out-of-dialog OPTIONS (RFC 3261 §11.2): phones and
// carriers use it as a keep-alive.
func (r *Registrar) Options(req *gosip.Request, allow string) *gosip.Response {
	res := gosip.NewResponseFromRequest(req, gosip.StatusOK, "OK", nil)
	res.AppendHeader(gosip.NewHeader("Allow", allow))
	res.AppendHeader(gosip.NewHeader("Accept", "application/sdp"))
	if r.serverName != "" {
		res.AppendHeader(gosip.NewHeader("Server", r.serverName))
	}
	return res
}

// String formats a source for logs.
func (s Source) String() string { return fmt.Sprintf("%s/%s", s.Transport, s.Addr) }
