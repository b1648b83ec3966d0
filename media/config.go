// This file holds the media section of switchd.yaml; the engine, sessions
// and relays are built from it.

package media

import (
	"net/netip"
	"time"

	"github.com/switchd/switchd/internal/config"
)

// Config is the `media:` section of switchd.yaml.
type Config struct {
	// RTPPorts is the UDP port range for RTP (each leg takes an even port
	// and the odd one above it for RTCP, RFC 3550 §11). Default "10000-20000".
	RTPPorts config.PortRange `yaml:"rtp_ports"`
	// AdvertiseAddress is the IP written into SDP for phones to send media
	// to. Empty: the local address that routes to each phone. Default "".
	AdvertiseAddress string `yaml:"advertise_address"`
	// BindAddress is the local IP the RTP and RTCP sockets are bound to.
	// "0.0.0.0" binds every IPv4 address, "::" every IPv6 and IPv4 address.
	// Default "0.0.0.0".
	BindAddress string `yaml:"bind_address"`
	// RTPTimeout is how long a leg may receive no RTP before it is reported
	// dead (and the call hung up); not applied while the leg is on hold.
	// The clock starts at the leg's first RTP packet or when the call is
	// answered. 0 disables. Default 60s.
	RTPTimeout config.Duration `yaml:"rtp_timeout"`
	// RTCPInterval is the mean interval of the RTCP reports (SR/RR) switchd
	// sends on each leg; each one is randomised to 0.5–1.5 times it
	// (RFC 3550 §6.3.1). 0 disables sending RTCP (received RTCP is still
	// read). Default 5s.
	RTCPInterval config.Duration `yaml:"rtcp_interval"`
}

// DefaultConfig returns the built-in defaults of the media section.
func DefaultConfig() Config {
	return Config{
		RTPPorts:     config.PortRange{Min: 10000, Max: 20000},
		BindAddress:  "0.0.0.0",
		RTPTimeout:   config.Duration(60 * time.Second),
		RTCPInterval: config.Duration(5 * time.Second),
	}
}

// Validate checks the section.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	ps.Merge("rtp_ports", c.RTPPorts.Validate())
	if portPairs(c.RTPPorts) < 1 {
		ps.Add("rtp_ports", "the range must hold at least one RTP/RTCP port pair")
	}
	if c.AdvertiseAddress != "" {
		if a, err := netip.ParseAddr(c.AdvertiseAddress); err != nil || a.IsUnspecified() {
			ps.Add("advertise_address", "%q is not a usable IP address", c.AdvertiseAddress)
		}
	}
	if _, err := c.bindAddr(); err != nil {
		ps.Add("bind_address", "%q is not an IP address (use 0.0.0.0 for every address)", c.BindAddress)
	}
	if c.RTPTimeout < 0 {
		ps.Add("rtp_timeout", "must not be negative (0s disables)")
	}
	if c.RTCPInterval < 0 {
		ps.Add("rtcp_interval", "must not be negative (0s disables)")
	}
	return ps.List()
}

// bindAddr parses BindAddress; empty means 0.0.0.0.
func (c *Config) bindAddr() (netip.Addr, error) {
	if c.BindAddress == "" {
		return netip.IPv4Unspecified(), nil
	}
	a, err := netip.ParseAddr(c.BindAddress)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap(), nil
}
