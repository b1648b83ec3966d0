package sip

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/switchd/switchd/internal/config"
)

// Config is the `sip:` section of switchd.yaml.
type Config struct {
	// Listen is where SIP is served: a list of transport URLs such as
	// "udp://0.0.0.0:5060" or "tcp://[::]:5060". Default: UDP and TCP on 0.0.0.0:5060.
	Listen []string `yaml:"listen"`
	// Realm is the digest realm phones authenticate against. Changing it
	// invalidates every stored digest (set passwords again). Default "switchd".
	Realm string `yaml:"realm"`
	// RegisterMinExpires is the shortest registration accepted, in seconds;
	// shorter gets 423 Interval Too Brief (RFC 3261 §10.3 step 7). Default 60.
	RegisterMinExpires int `yaml:"register_min_expires"`
	// RegisterMaxExpires clamps longer registrations, in seconds. Default 3600.
	RegisterMaxExpires int `yaml:"register_max_expires"`
	// RegisterDefaultExpires applies when a REGISTER names no expiry, in seconds. Default 3600.
	RegisterDefaultExpires int `yaml:"register_default_expires"`
	// MaxContactsPerAOR bounds the bindings of one extension. Default 10.
	MaxContactsPerAOR int `yaml:"max_contacts_per_aor"`
	// AuthAlgorithms are offered in this order in challenges (RFC 8760 §2.4:
	// most preferred first); "MD5" and "SHA-256". Default [MD5]: phones on
	// older SIP stacks reject a challenge set that names an algorithm they
	// do not know (baresip 1.0 fails with ENOSYS when SHA-256 is offered), so
	// SHA-256 is opt-in: [SHA-256, MD5] once every phone supports RFC 8760.
	AuthAlgorithms []string `yaml:"auth_algorithms"`
	// NonceTTL is how long a digest nonce stays fresh; an older one is
	// answered with stale=true. Default 5m.
	NonceTTL config.Duration `yaml:"nonce_ttl"`
	// QualifyInterval is how often registered UDP contacts are sent OPTIONS
	// to check they are alive and keep NAT bindings open (and once at
	// start-up for bindings restored from the database). 0 disables. Default 60s.
	QualifyInterval config.Duration `yaml:"qualify_interval"`
	// RingTimeout is how long a call rings before the caller gets 480. Default 60s.
	RingTimeout config.Duration `yaml:"ring_timeout"`
	// ChallengeUnregistered: an INVITE without credentials from an address
	// that is no trunk's and where no phone is registered gets a 407
	// challenge when true; when false (default) it gets 403 at once, so
	// scanners looking for an open relay get no challenge to brute-force.
	// Set it for phones that call without registering.
	ChallengeUnregistered bool `yaml:"challenge_unregistered"`
	// SessionExpires is the RFC 4028 session interval: answered calls are
	// refreshed (re-INVITE/UPDATE) every half of it, and a leg whose
	// refresher goes silent is hung up, so a held call whose phone vanished
	// still ends. 0s disables. Minimum 90s. Default 30m.
	SessionExpires config.Duration `yaml:"session_expires"`
	// DrainTimeout is how long a shutdown (SIGTERM) lets active calls
	// finish, refusing new ones with 503, before it hangs them up. Default 30s.
	DrainTimeout config.Duration `yaml:"drain_timeout"`
	// UDPReceiveBuffer is the kernel receive buffer per UDP socket, in bytes.
	// Default 4194304 (4 MiB): bursts overflow smaller buffers first.
	UDPReceiveBuffer int `yaml:"udp_receive_buffer"`
	// Ban is the built-in brute-force protection.
	Ban BanConfig `yaml:"ban"`
}

// BanConfig configures per-source-IP banning after repeated auth failures.
type BanConfig struct {
	// MaxFailures failed authentications within FindTime ban the source. 0 disables. Default 10.
	MaxFailures int `yaml:"max_failures"`
	// FindTime is the window in which failures are counted. Default 60s.
	FindTime config.Duration `yaml:"find_time"`
	// BanTime is how long a banned source is ignored. Default 10m.
	BanTime config.Duration `yaml:"ban_time"`
	// Allow lists addresses or CIDRs (e.g. carriers) that are never banned. Default empty.
	Allow []string `yaml:"allow"`
}

// DefaultConfig returns the built-in defaults of the sip section.
func DefaultConfig() Config {
	return Config{
		Listen:                 []string{"udp://0.0.0.0:5060", "tcp://0.0.0.0:5060"},
		Realm:                  "switchd",
		RegisterMinExpires:     60,
		RegisterMaxExpires:     3600,
		RegisterDefaultExpires: 3600,
		MaxContactsPerAOR:      10,
		AuthAlgorithms:         []string{"MD5"},
		NonceTTL:               config.Duration(5 * time.Minute),
		QualifyInterval:        config.Duration(60 * time.Second),
		UDPReceiveBuffer:       4 << 20,
		RingTimeout:            config.Duration(60 * time.Second),
		DrainTimeout:           config.Duration(30 * time.Second),
		SessionExpires:         config.Duration(30 * time.Minute),
		Ban: BanConfig{
			MaxFailures: 10,
			FindTime:    config.Duration(60 * time.Second),
			BanTime:     config.Duration(10 * time.Minute),
			Allow:       []string{},
		},
	}
}

// ListenAddr is one parsed entry of Config.Listen.
type ListenAddr struct {
	Transport string // "udp" or "tcp"
	Addr      netip.AddrPort
}

// String formats the listen address as a URL.
func (l ListenAddr) String() string { return l.Transport + "://" + l.Addr.String() }

// ParseListen parses "udp://host:port".
func ParseListen(s string) (ListenAddr, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Path != "" {
		return ListenAddr{}, fmt.Errorf("%q is not a transport address such as udp://0.0.0.0:5060", s)
	}
	if u.Scheme != "udp" && u.Scheme != "tcp" {
		return ListenAddr{}, fmt.Errorf("transport %q is not supported (use udp or tcp)", u.Scheme)
	}
	host, portStr := u.Hostname(), u.Port()
	if portStr == "" {
		portStr = "5060"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ListenAddr{}, fmt.Errorf("%q: listen host must be an IP address", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return ListenAddr{}, fmt.Errorf("%q: bad port", s)
	}
	return ListenAddr{Transport: u.Scheme, Addr: netip.AddrPortFrom(ip, uint16(port))}, nil
}

// ListenAddrs returns the parsed Listen entries; call after Validate.
func (c *Config) ListenAddrs() []ListenAddr {
	out := make([]ListenAddr, 0, len(c.Listen))
	for _, s := range c.Listen {
		if l, err := ParseListen(s); err == nil {
			out = append(out, l)
		}
	}
	return out
}

// Validate checks the section.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	if len(c.Listen) == 0 {
		ps.Add("listen", "at least one transport address is needed")
	}
	seen := map[string]bool{}
	for i, s := range c.Listen {
		l, err := ParseListen(s)
		if err != nil {
			ps.Add(fmt.Sprintf("listen[%d]", i), "%v", err)
			continue
		}
		if seen[l.String()] {
			ps.Add(fmt.Sprintf("listen[%d]", i), "%s is listed twice", l)
		}
		seen[l.String()] = true
	}
	if c.Realm == "" {
		ps.Add("realm", "must not be empty")
	}
	if c.RegisterMinExpires < 1 {
		ps.Add("register_min_expires", "must be at least 1 second (got %d)", c.RegisterMinExpires)
	}
	if c.RegisterMaxExpires < c.RegisterMinExpires {
		ps.Add("register_max_expires", "must be ≥ register_min_expires (%d), got %d", c.RegisterMinExpires, c.RegisterMaxExpires)
	}
	if c.RegisterDefaultExpires < c.RegisterMinExpires || c.RegisterDefaultExpires > c.RegisterMaxExpires {
		ps.Add("register_default_expires", "must lie between register_min_expires and register_max_expires, got %d", c.RegisterDefaultExpires)
	}
	if c.MaxContactsPerAOR < 1 {
		ps.Add("max_contacts_per_aor", "must be at least 1 (got %d)", c.MaxContactsPerAOR)
	}
	if len(c.AuthAlgorithms) == 0 {
		ps.Add("auth_algorithms", "name at least one of MD5, SHA-256")
	}
	for i, a := range c.AuthAlgorithms {
		if _, err := parseAlgorithm(a); err != nil {
			ps.Add(fmt.Sprintf("auth_algorithms[%d]", i), "%q is not MD5 or SHA-256", a)
		}
	}
	if c.NonceTTL.D() < 10*time.Second {
		ps.Add("nonce_ttl", "must be at least 10s (got %s)", c.NonceTTL.D())
	}
	if c.QualifyInterval.D() < 0 || (c.QualifyInterval.D() > 0 && c.QualifyInterval.D() < time.Second) {
		ps.Add("qualify_interval", "must be 0 (off) or at least 1s (got %s)", c.QualifyInterval.D())
	}
	if c.RingTimeout.D() < time.Second {
		ps.Add("ring_timeout", "must be at least 1s (got %s)", c.RingTimeout.D())
	}
	if se := c.SessionExpires.D(); se != 0 && se < 90*time.Second {
		ps.Add("session_expires", "must be 0s (off) or at least 90s (RFC 4028 §4), got %s", se)
	}
	if c.DrainTimeout.D() < 0 {
		ps.Add("drain_timeout", "must not be negative")
	}
	if c.UDPReceiveBuffer < 0 {
		ps.Add("udp_receive_buffer", "must not be negative")
	}
	if c.Ban.MaxFailures < 0 {
		ps.Add("ban.max_failures", "must not be negative (0 disables banning)")
	}
	if c.Ban.MaxFailures > 0 && (c.Ban.FindTime.D() <= 0 || c.Ban.BanTime.D() <= 0) {
		ps.Add("ban", "find_time and ban_time must be positive when max_failures is set")
	}
	for i, a := range c.Ban.Allow {
		if _, err := parsePrefix(a); err != nil {
			ps.Add(fmt.Sprintf("ban.allow[%d]", i), "%q is not an IP address or CIDR", a)
		}
	}
	return ps.List()
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
