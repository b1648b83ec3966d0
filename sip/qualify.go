package sip

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// qualifyBranchPrefix marks the Via branch of our OPTIONS pings, so their
// responses are recognised on the read path without a transaction.
var qualifyBranchPrefix = []byte("z9hG4bK-swq-")

// qualifier sends OPTIONS to registered UDP contacts (Asterisk's "qualify"):
// once at start-up, so phones whose bindings were restored from the
// database are reached at once, then every interval. Pings are stateless
// with RFC 3261 §17.1.2.2 retransmissions (T1 doubling) driven by tick.
type qualifier struct {
	s        *Server
	interval time.Duration

	mu      sync.Mutex
	pending map[string]*ping // by branch
	localIP map[netip.Addr]netip.Addr
}

type ping struct {
	aor, key string
	dst      netip.AddrPort
	conn     *net.UDPConn
	msg      []byte
	first    time.Time
	next     time.Time
	wait     time.Duration
}

const (
	qualifyT1      = 500 * time.Millisecond
	qualifyTimeout = 8 * time.Second
)

func newQualifier(s *Server, interval time.Duration) *qualifier {
	return &qualifier{s: s, interval: interval, pending: make(map[string]*ping), localIP: make(map[netip.Addr]netip.Addr)}
}

func (q *qualifier) run(ctx context.Context) {
	if q.interval <= 0 {
		return
	}
	q.round(q.s.now())
	round := time.NewTicker(q.interval)
	defer round.Stop()
	tick := time.NewTicker(qualifyT1 / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-round.C:
			q.round(q.s.now())
		case <-tick.C:
			q.tick(q.s.now())
		}
	}
}

// round pings every UDP binding that has no ping in flight.
func (q *qualifier) round(now time.Time) {
	busy := map[string]bool{}
	q.mu.Lock()
	for _, p := range q.pending {
		busy[p.aor+"\x00"+p.key] = true
	}
	q.mu.Unlock()
	for _, b := range q.s.registrar.Table().All() {
		if b.Transport != "udp" || busy[b.AOR+"\x00"+b.Key] {
			continue
		}
		q.send(b, now)
	}
}

func (q *qualifier) send(b Binding, now time.Time) {
	conn := q.connFor(b)
	if conn == nil {
		return
	}
	local := addrPortOf(conn.LocalAddr())
	if local.Addr().IsUnspecified() {
		local = netip.AddrPortFrom(q.sourceIPFor(b.Source.Addr()), local.Port())
	}
	branch := string(qualifyBranchPrefix) + randHex(8)
	var m bytes.Buffer
	m.WriteString("OPTIONS " + b.Contact + " SIP/2.0\r\n")
	m.WriteString("Via: SIP/2.0/UDP " + local.String() + ";branch=" + branch + ";rport\r\n")
	m.WriteString("Max-Forwards: 70\r\n")
	m.WriteString("From: <sip:switchd@" + local.String() + ">;tag=" + randHex(6) + "\r\n")
	m.WriteString("To: <" + b.Contact + ">\r\n")
	m.WriteString("Call-ID: " + randHex(12) + "@switchd\r\n")
	m.WriteString("CSeq: 1 OPTIONS\r\n")
	m.WriteString("User-Agent: " + q.s.ua.Name() + "\r\n")
	m.WriteString("Content-Length: 0\r\n\r\n")
	p := &ping{aor: b.AOR, key: b.Key, dst: b.Source, conn: conn, msg: m.Bytes(), first: now, next: now.Add(qualifyT1), wait: qualifyT1}
	q.mu.Lock()
	q.pending[branch] = p
	q.mu.Unlock()
	q.write(p)
}

func (q *qualifier) write(p *ping) {
	if _, err := p.conn.WriteToUDPAddrPort(p.msg, p.dst); err != nil {
		q.s.log.Debug("qualify_write_failed", "dst", p.dst.String(), "error", err)
	}
}

// tick retransmits pings and gives up on those past the timeout.
func (q *qualifier) tick(now time.Time) {
	var resend []*ping
	var lost []*ping
	q.mu.Lock()
	for branch, p := range q.pending {
		switch {
		case now.Sub(p.first) >= qualifyTimeout:
			delete(q.pending, branch)
			lost = append(lost, p)
		case !now.Before(p.next):
			p.wait = min(2*p.wait, 4*time.Second)
			p.next = now.Add(p.wait)
			resend = append(resend, p)
		}
	}
	q.mu.Unlock()
	for _, p := range resend {
		q.write(p)
	}
	for _, p := range lost {
		if b, changed := q.s.registrar.Table().SetReachability(p.aor, p.key, Unreachable, 0, now); changed {
			q.s.log.Warn("contact_unreachable", "aor", b.AOR, "contact", b.Contact, "source", b.Source.String())
		}
	}
}

// onResponse matches a response to one of our pings.
func (q *qualifier) onResponse(data []byte, parser *gosip.Parser) {
	msg, err := parser.ParseSIP(data)
	if err != nil {
		return
	}
	res, ok := msg.(*gosip.Response)
	if !ok || res.Via() == nil || res.StatusCode < 200 {
		return
	}
	branch, _ := res.Via().Params.Get("branch")
	q.mu.Lock()
	p := q.pending[branch]
	delete(q.pending, branch)
	q.mu.Unlock()
	if p == nil {
		return
	}
	now := q.s.now()
	// Any final response proves the phone is there (RFC 3261 §11: even 405 or 404).
	if b, changed := q.s.registrar.Table().SetReachability(p.aor, p.key, Reachable, now.Sub(p.first), now); changed {
		q.s.log.Info("contact_reachable", "aor", b.AOR, "contact", b.Contact, "source", b.Source.String(),
			"rtt_ms", strconv.FormatFloat(float64(now.Sub(p.first))/1e6, 'f', 1, 64))
	}
}

// connFor picks the socket the binding was registered through, or any UDP
// socket of the same address family (bindings restored from an earlier run).
func (q *qualifier) connFor(b Binding) *net.UDPConn {
	if c := q.s.udp[b.Local]; c != nil {
		return c
	}
	for _, c := range q.s.udp {
		la := addrPortOf(c.LocalAddr()).Addr()
		if la.Is4() == b.Source.Addr().Is4() && (la.IsUnspecified() || la.IsLoopback() == b.Source.Addr().IsLoopback()) {
			return c
		}
	}
	return nil
}

// sourceIPFor returns the local IP the kernel would use to reach dst (no packet is sent).
func (q *qualifier) sourceIPFor(dst netip.Addr) netip.Addr {
	q.mu.Lock()
	ip, ok := q.localIP[dst]
	q.mu.Unlock()
	if ok {
		return ip
	}
	ip = dst
	if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9))); err == nil {
		ip = addrPortOf(c.LocalAddr()).Addr()
		c.Close()
	}
	q.mu.Lock()
	if len(q.localIP) < 4096 {
		q.localIP[dst] = ip
	}
	q.mu.Unlock()
	return ip
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
