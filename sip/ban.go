package sip

import (
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Guard bans source addresses after repeated authentication failures — a
// built-in fail2ban. It is safe for concurrent use; no I/O happens under its lock.
type Guard struct {
	maxFailures int
	findTime    time.Duration
	banTime     time.Duration
	allow       []netip.Prefix

	mu      sync.Mutex
	sources map[netip.Addr]*guardEntry
}

type guardEntry struct {
	windowStart time.Time
	failures    int
	bannedUntil time.Time
}

// maxGuardEntries bounds the memory an address-spraying attacker can make the
// guard use; past it, the oldest windows are forgotten first.
const maxGuardEntries = 100_000

// NewGuard returns a guard for cfg; cfg must be valid.
func NewGuard(cfg BanConfig) *Guard {
	g := &Guard{
		maxFailures: cfg.MaxFailures,
		findTime:    cfg.FindTime.D(),
		banTime:     cfg.BanTime.D(),
		sources:     make(map[netip.Addr]*guardEntry),
	}
	for _, a := range cfg.Allow {
		if p, err := parsePrefix(a); err == nil {
			g.allow = append(g.allow, p)
		}
	}
	return g
}

func (g *Guard) allowed(ip netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Banned reports whether ip is banned at now.
func (g *Guard) Banned(ip netip.Addr, now time.Time) bool {
	if g.maxFailures == 0 {
		return false
	}
	g.mu.Lock()
	e := g.sources[ip.Unmap()]
	banned := e != nil && now.Before(e.bannedUntil)
	g.mu.Unlock()
	return banned
}

// Fail records a failed authentication from ip and reports whether it has
// just been banned.
func (g *Guard) Fail(ip netip.Addr, now time.Time) bool {
	ip = ip.Unmap()
	if g.maxFailures == 0 || g.allowed(ip) {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.sources[ip]
	if e == nil {
		if len(g.sources) >= maxGuardEntries {
			g.sweepLocked(now, true)
		}
		e = &guardEntry{windowStart: now}
		g.sources[ip] = e
	}
	if now.Before(e.bannedUntil) {
		return false
	}
	if now.Sub(e.windowStart) > g.findTime {
		e.windowStart, e.failures = now, 0
	}
	e.failures++
	if e.failures >= g.maxFailures {
		e.bannedUntil = now.Add(g.banTime)
		e.failures = 0
		return true
	}
	return false
}

// Unban lifts a ban and forgets the failures of ip; it reports whether ip was known.
func (g *Guard) Unban(ip netip.Addr) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.sources[ip.Unmap()]
	delete(g.sources, ip.Unmap())
	return ok
}

// Ban is one banned source.
type Ban struct {
	Source string    `json:"source"`
	Until  time.Time `json:"until"`
}

// Bans lists the sources banned at now, ordered by address.
func (g *Guard) Bans(now time.Time) []Ban {
	g.mu.Lock()
	var out []Ban
	for ip, e := range g.sources {
		if now.Before(e.bannedUntil) {
			out = append(out, Ban{Source: ip.String(), Until: e.bannedUntil})
		}
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// Sweep forgets sources whose window and ban have both passed.
func (g *Guard) Sweep(now time.Time) {
	g.mu.Lock()
	g.sweepLocked(now, false)
	g.mu.Unlock()
}

func (g *Guard) sweepLocked(now time.Time, full bool) {
	for ip, e := range g.sources {
		if now.Before(e.bannedUntil) {
			continue
		}
		if full || now.Sub(e.windowStart) > g.findTime {
			delete(g.sources, ip)
		}
	}
}
