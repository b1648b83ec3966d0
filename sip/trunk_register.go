package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// TrunkRegistration is one registration switchd keeps with a carrier
// (RFC 3261 §10.2): switchd is the UA, the carrier the registrar.
type TrunkRegistration struct {
	// Name identifies the trunk in logs and status.
	Name string
	// Registrar is the carrier's "host:port" (port 5060 when omitted). A
	// host name is resolved with A/AAAA records at every attempt (no
	// RFC 3263 NAPTR/SRV).
	Registrar string
	// Transport is "udp" (default) or "tcp".
	Transport string
	// Domain is the host of the address-of-record and of the Request-URI.
	// Default: the registrar host.
	Domain string
	// User is the user part of the address-of-record (From, To) and of our
	// Contact. Default: Credentials.Username.
	User string
	// Credentials answer the carrier's digest challenges.
	Credentials ClientCredentials
	// Expires is the registration interval asked for. The carrier's answer
	// (the expires of our Contact in the 200, else its Expires header) is
	// what counts, and a 423 raises it to the carrier's Min-Expires.
	// Default 3600s.
	Expires time.Duration
}

// TrunkRegState is where a trunk registration stands. The zero value is unknown.
type TrunkRegState uint8

// Trunk registration states.
const (
	TrunkRegUnknown      TrunkRegState = iota
	TrunkRegRegistering                // first attempt (or attempt after a lapse) under way
	TrunkRegRegistered                 // the carrier holds our binding
	TrunkRegFailed                     // the last attempt failed; retrying with backoff
	TrunkRegUnregistered               // stopped: the binding was removed (Expires: 0) or never made
)

// String names the state for logs and the API.
func (s TrunkRegState) String() string {
	switch s {
	case TrunkRegRegistering:
		return "registering"
	case TrunkRegRegistered:
		return "registered"
	case TrunkRegFailed:
		return "failed"
	case TrunkRegUnregistered:
		return "unregistered"
	default:
		return "unknown"
	}
}

// MarshalText renders the state as its name (JSON).
func (s TrunkRegState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// TrunkRegStatus is a snapshot of one trunk registration.
type TrunkRegStatus struct {
	Name      string
	State     TrunkRegState
	Registrar string
	// Expires is when the carrier's binding lapses unless refreshed; zero
	// when there is none. It survives a failed refresh, as the binding does.
	Expires time.Time
	// LastError describes the last failed attempt, naming the SIP status
	// when the carrier answered; it is kept after a later success.
	LastError   string
	LastAttempt time.Time
	LastSuccess time.Time
	// Failures counts the failed attempts since the last success.
	Failures int
}

// Errors of trunk registration.
var (
	// ErrTrunkRegRejected: the carrier answered the REGISTER with a final
	// non-2xx status other than a challenge switchd could answer.
	ErrTrunkRegRejected = errors.New("sip: trunk registration rejected")
	// ErrTrunkRegTimeout: the carrier did not answer in time.
	ErrTrunkRegTimeout = errors.New("sip: trunk registrar did not answer")
)

// Defaults of a TrunkRegistrar.
const (
	defaultTrunkExpires       = time.Hour
	defaultTrunkBackoffBase   = 5 * time.Second
	defaultTrunkBackoffMax    = 5 * time.Minute
	defaultTrunkTimeout       = 32 * time.Second // Timer F, 64·T1 (RFC 3261 §17.1.2.2)
	defaultTrunkUnregTimeout  = 5 * time.Second
	trunkRefreshMargin        = 30 * time.Second
	trunkMaxRoundsPerExchange = 6 // challenges, stale nonces and 423 within one attempt
)

// TrunkRegistrar keeps switchd registered with carriers: one goroutine per
// registration, owned by the context given to Run. Set the exported fields
// before Run.
type TrunkRegistrar struct {
	// BackoffBase is the retry delay after a first failure; it doubles with
	// every further failure up to BackoffMax, and each delay is drawn from
	// [d/2, d] so that trunks failing together spread out. Default 5s.
	BackoffBase time.Duration
	// BackoffMax caps the retry delay. Default 5m.
	BackoffMax time.Duration
	// Timeout bounds one REGISTER transaction. Default 32s (Timer F).
	Timeout time.Duration
	// UnregisterTimeout bounds the un-REGISTERs sent when Run's context
	// ends. Default 5s.
	UnregisterTimeout time.Duration
	// Now is the clock for status and expiries. Default: the server's clock.
	Now func() time.Time

	s      *Server
	log    *slog.Logger
	trunks []*trunkReg

	mu     sync.Mutex
	status []TrunkRegStatus
}

// NewTrunkRegistrar prepares registrations for regs, sent through s. Run starts them.
func NewTrunkRegistrar(s *Server, regs []TrunkRegistration, log *slog.Logger) *TrunkRegistrar {
	r := &TrunkRegistrar{
		BackoffBase: defaultTrunkBackoffBase, BackoffMax: defaultTrunkBackoffMax,
		Timeout: defaultTrunkTimeout, UnregisterTimeout: defaultTrunkUnregTimeout,
		Now: s.now, s: s, log: log,
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	for i, reg := range regs {
		reg = reg.withDefaults()
		r.trunks = append(r.trunks, &trunkReg{
			r: r, idx: i, cfg: reg,
			log:     log.With("trunk", reg.Name, "registrar", reg.Registrar),
			callID:  newCallID("switchd"),
			fromTag: newTag(),
			expires: reg.Expires,
		})
		r.status = append(r.status, TrunkRegStatus{Name: reg.Name, Registrar: reg.Registrar})
	}
	return r
}

func (reg TrunkRegistration) withDefaults() TrunkRegistration {
	if reg.Name == "" {
		reg.Name = reg.Registrar
	}
	reg.Transport = strings.ToLower(reg.Transport)
	if reg.Transport == "" {
		reg.Transport = "udp"
	}
	if reg.User == "" {
		reg.User = reg.Credentials.Username
	}
	switch {
	case reg.Expires <= 0:
		reg.Expires = defaultTrunkExpires
	case reg.Expires < time.Second:
		reg.Expires = time.Second // Expires: 0 would remove the binding
	}
	return reg
}

// Run keeps every registration until ctx ends, then removes the bindings
// the carriers still hold (REGISTER with Expires: 0, each bounded by
// UnregisterTimeout) and returns. The Server must keep serving until Run
// has returned, so cancel Run's context before the server's. Call Run once.
func (r *TrunkRegistrar) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range r.trunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(ctx)
		}()
	}
	wg.Wait()
	stop := context.WithoutCancel(ctx)
	for _, t := range r.trunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.unregister(stop)
		}()
	}
	wg.Wait()
}

// Status returns a snapshot of every registration, in configuration order.
func (r *TrunkRegistrar) Status() []TrunkRegStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TrunkRegStatus(nil), r.status...)
}

func (r *TrunkRegistrar) update(i int, f func(*TrunkRegStatus)) {
	r.mu.Lock()
	f(&r.status[i])
	r.mu.Unlock()
}

// trunkReg is the state of one registration. Only its own goroutine (and,
// after that has ended, the un-REGISTER) touches it.
type trunkReg struct {
	r   *TrunkRegistrar
	idx int
	cfg TrunkRegistration
	log *slog.Logger

	callID  string // the same for every REGISTER of this run (RFC 3261 §10.2.4)
	fromTag string
	cseq    uint32
	expires time.Duration // asked for; raised by 423
	// auth holds the last challenge answered, by kind (kindOf: 401, 407),
	// so that refreshes carry credentials at once with the nonce count
	// incremented (RFC 7616 §3.4). A failed attempt forgets them.
	auth       [2]*cachedAuth
	failures   int
	boundUntil time.Time // when the carrier's binding lapses
}

type cachedAuth struct {
	ch     digestChallenge
	nc     uint32
	cnonce string
}

// run registers, refreshes and retries until ctx ends.
func (t *trunkReg) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		timer.Reset(t.attempt(ctx))
	}
}

// attempt registers (or refreshes) once, records the outcome and returns
// the wait until the next attempt.
func (t *trunkReg) attempt(ctx context.Context) time.Duration {
	start := t.r.Now()
	t.r.update(t.idx, func(st *TrunkRegStatus) {
		st.LastAttempt = start
		if st.State != TrunkRegRegistered {
			st.State = TrunkRegRegistering
		}
	})
	granted, err := t.register(ctx, t.expires)
	if ctx.Err() != nil {
		return 0 // stopping: the attempt was cut short, not failed
	}
	now := t.r.Now()
	if err != nil {
		t.failures++
		t.auth = [2]*cachedAuth{}
		delay := backoff(t.r.BackoffBase, t.r.BackoffMax, t.failures)
		t.log.Warn("trunk_register_failed", "error", err, "failures", t.failures, "retry_in", delay)
		t.r.update(t.idx, func(st *TrunkRegStatus) {
			st.State, st.LastError, st.Failures = TrunkRegFailed, err.Error(), t.failures
		})
		return delay
	}
	if t.failures > 0 || t.boundUntil.IsZero() {
		t.log.Info("trunk_registered", "expires_s", int(granted/time.Second), "call_id", t.callID)
	} else {
		t.log.Debug("trunk_register_refreshed", "expires_s", int(granted/time.Second))
	}
	t.failures = 0
	t.boundUntil = now.Add(granted)
	t.r.update(t.idx, func(st *TrunkRegStatus) {
		st.State, st.Expires, st.LastSuccess, st.Failures = TrunkRegRegistered, t.boundUntil, now, 0
	})
	return refreshAfter(granted)
}

// unregister removes a binding the carrier may still hold (RFC 3261 §10.2.2).
func (t *trunkReg) unregister(ctx context.Context) {
	if t.boundUntil.IsZero() || !t.boundUntil.After(t.r.Now()) {
		t.r.update(t.idx, func(st *TrunkRegStatus) { st.State, st.Expires = TrunkRegUnregistered, time.Time{} })
		return
	}
	ctx, cancel := context.WithTimeout(ctx, t.r.UnregisterTimeout)
	defer cancel()
	if _, err := t.register(ctx, 0); err != nil {
		t.log.Warn("trunk_unregister_failed", "error", err)
		t.r.update(t.idx, func(st *TrunkRegStatus) { st.State, st.LastError = TrunkRegFailed, err.Error() })
		return
	}
	t.log.Info("trunk_unregistered")
	t.boundUntil = time.Time{}
	t.r.update(t.idx, func(st *TrunkRegStatus) { st.State, st.Expires = TrunkRegUnregistered, time.Time{} })
}

// register runs one REGISTER exchange asking for expires (0 removes the
// binding): it answers challenges (once each; again only for a stale
// nonce) and a 423, and returns the interval the carrier granted.
func (t *trunkReg) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	dst, err := t.resolve(ctx)
	if err != nil {
		return 0, err
	}
	var fresh, staleRetried [2]bool
	for range trunkMaxRoundsPerExchange {
		req := t.newRequest(dst, expires)
		res, err := t.do(ctx, req, dst)
		if err != nil {
			return 0, err
		}
		code := int(res.StatusCode)
		switch {
		case code >= 200 && code < 300:
			if expires == 0 {
				return 0, nil
			}
			granted := grantedExpiry(res, req, expires)
			if granted <= 0 {
				return 0, fmt.Errorf("%w: %d %s granted no expiry", ErrTrunkRegRejected, code, res.Reason)
			}
			return granted, nil
		case code == gosip.StatusUnauthorized || code == gosip.StatusProxyAuthRequired:
			ch, err := pickChallenge(res, t.cfg.Credentials)
			if err != nil {
				return 0, fmt.Errorf("%d %s: %w", code, res.Reason, err)
			}
			k := kindOf(ch.proxy)
			if fresh[k] {
				if !ch.stale || staleRetried[k] {
					return 0, fmt.Errorf("%w: %d %s", ErrAuthRejected, code, res.Reason)
				}
				staleRetried[k] = true
			}
			fresh[k] = true
			t.auth[k] = &cachedAuth{ch: ch, cnonce: newCNonce()}
		case code == gosip.StatusIntervalToBrief && expires > 0:
			minExp := headerSeconds(res, "Min-Expires")
			if minExp <= 0 || time.Duration(minExp)*time.Second <= expires {
				return 0, fmt.Errorf("%w: %d %s without a usable Min-Expires", ErrTrunkRegRejected, code, res.Reason)
			}
			expires = time.Duration(minExp) * time.Second
			t.expires = expires
			t.log.Info("trunk_register_interval_raised", "expires_s", minExp)
		default:
			return 0, fmt.Errorf("%w: %d %s", ErrTrunkRegRejected, code, res.Reason)
		}
	}
	return 0, fmt.Errorf("%w: no final answer after %d rounds", ErrTrunkRegRejected, trunkMaxRoundsPerExchange)
}

func kindOf(proxy bool) int {
	if proxy {
		return 1
	}
	return 0
}

// resolve returns the carrier's address.
func (t *trunkReg) resolve(ctx context.Context) (netip.AddrPort, error) {
	host, port, err := splitHostPort(t.cfg.Registrar)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return resolveHost(ctx, host, port)
}

// splitHostPort splits "host[:port]" (IPv6 in brackets), defaulting the port to 5060.
func splitHostPort(s string) (string, uint16, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		host, p = strings.Trim(s, "[]"), ""
	}
	if host == "" {
		return "", 0, fmt.Errorf("sip: registrar %q has no host", s)
	}
	if p == "" {
		return host, 5060, nil
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("sip: registrar %q: bad port", s)
	}
	return host, uint16(n), nil
}

// newRequest builds the next REGISTER (RFC 3261 §10.2): Request-URI the
// domain, To and From the address-of-record, our Contact, the same Call-ID
// and a higher CSeq each time, and credentials for the challenges already
// answered.
func (t *trunkReg) newRequest(dst netip.AddrPort, expires time.Duration) *gosip.Request {
	transport := strings.ToUpper(t.cfg.Transport)
	laddr := t.r.s.laddrFor(transport, "", dst)
	contact := t.r.s.contactTo(laddr, transport, dst)
	contact.Address.User = t.cfg.User

	host, port, _ := splitHostPort(t.cfg.Registrar)
	ruri := gosip.Uri{Scheme: "sip", Host: t.cfg.Domain}
	if t.cfg.Domain == "" {
		ruri.Host = host
		if port != 5060 {
			ruri.Port = int(port)
		}
	}
	aor := gosip.Uri{Scheme: "sip", User: t.cfg.User, Host: ruri.Host}

	req := gosip.NewRequest(gosip.REGISTER, ruri)
	from := &gosip.FromHeader{Address: aor, Params: gosip.NewParams()}
	from.Params.Add("tag", t.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&gosip.ToHeader{Address: *aor.Clone(), Params: gosip.NewParams()})
	cid := gosip.CallIDHeader(t.callID)
	req.AppendHeader(&cid)
	t.cseq++
	req.AppendHeader(&gosip.CSeqHeader{SeqNo: t.cseq, MethodName: gosip.REGISTER})
	mf := gosip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(&contact)
	req.AppendHeader(gosip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	for _, a := range t.auth {
		if a != nil {
			a.nc++
			req.AppendHeader(a.ch.answer(string(gosip.REGISTER), ruri.String(), t.cfg.Credentials, a.nc, a.cnonce))
		}
	}
	req.SetTransport(transport)
	req.SetDestination(dst.String())
	req.Laddr = laddr
	return req
}

// do sends req and waits, at most Timeout, for its final response.
func (t *trunkReg) do(ctx context.Context, req *gosip.Request, dst netip.AddrPort) (*gosip.Response, error) {
	tctx, cancel := context.WithTimeout(ctx, t.r.Timeout)
	defer cancel()
	tx, err := t.r.s.send(tctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrTrunkRegTimeout, dst, err)
			}
			return nil, fmt.Errorf("%w: %s: transaction ended without response", ErrTrunkRegTimeout, dst)
		case <-tctx.Done():
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: no response from %s within %s", ErrTrunkRegTimeout, dst, t.r.Timeout)
		}
	}
}

// grantedExpiry reads the interval the registrar granted (RFC 3261
// §10.2.4): the expires parameter of our Contact in the 2xx, else the
// Expires header, else what was asked for.
func grantedExpiry(res *gosip.Response, req *gosip.Request, asked time.Duration) time.Duration {
	if ours := req.Contact(); ours != nil {
		for _, h := range res.GetHeaders("Contact") {
			c, ok := h.(*gosip.ContactHeader)
			if !ok || !sameContactURI(&c.Address, &ours.Address) {
				continue
			}
			for _, kv := range c.Params {
				if strings.EqualFold(kv.K, "expires") {
					if n, err := strconv.Atoi(strings.TrimSpace(kv.V)); err == nil && n >= 0 {
						return time.Duration(n) * time.Second
					}
				}
			}
		}
	}
	if n := headerSeconds(res, "Expires"); n >= 0 {
		return time.Duration(n) * time.Second
	}
	return asked
}

// sameContactURI compares the parts of two SIP URIs that identify a
// binding: user, host and port (RFC 3261 §19.1.4, without parameters).
func sameContactURI(a, b *gosip.Uri) bool {
	pa, pb := a.Port, b.Port
	if pa == 0 {
		pa = gosip.DefaultUdpPort
	}
	if pb == 0 {
		pb = gosip.DefaultUdpPort
	}
	return a.User == b.User && strings.EqualFold(strings.Trim(a.Host, "[]"), strings.Trim(b.Host, "[]")) && pa == pb
}

// headerSeconds reads a delta-seconds header (Expires, Min-Expires); -1
// when absent or malformed.
func headerSeconds(msg interface{ GetHeader(string) gosip.Header }, name string) int {
	h := msg.GetHeader(name)
	if h == nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// refreshAfter is when to refresh a binding granted for d: 30 s before it
// lapses, but never later than half-way (short grants).
func refreshAfter(d time.Duration) time.Duration {
	return max(d-trunkRefreshMargin, d/2)
}

// backoff is the delay before retry number n (1 after the first failure):
// base·2^(n-1) capped at limit, drawn uniformly from [d/2, d].
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
