// Package media is switchd's RTP engine. This file holds its section of
// switchd.yaml; sessions, relay and codecs build on it.
package media

import (
	"net/netip"

	"github.com/switchd/switchd/internal/config"
)

// Config is the `media:` section of switchd.yaml.
type Config struct {
	// RTPPorts is the UDP port range for RTP (each leg takes an even port
	// and the odd one above it for RTCP). Default "10000-20000".
	RTPPorts config.PortRange `yaml:"rtp_ports"`
	// AdvertiseAddress is the IP written into SDP for phones to send media
	// to. Empty: the local address that routes to each phone. Default "".
	AdvertiseAddress string `yaml:"advertise_address"`
}

// DefaultConfig returns the built-in defaults of the media section.
func DefaultConfig() Config {
	return Config{RTPPorts: config.PortRange{Min: 10000, Max: 20000}}
}

// Validate checks the section.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	ps.Merge("rtp_ports", c.RTPPorts.Validate())
	if c.RTPPorts.Max-c.RTPPorts.Min < 1 {
		ps.Add("rtp_ports", "the range must hold at least one RTP/RTCP port pair")
	}
	if c.AdvertiseAddress != "" {
		if a, err := netip.ParseAddr(c.AdvertiseAddress); err != nil || a.IsUnspecified() {
			ps.Add("advertise_address", "%q is not a usable IP address", c.AdvertiseAddress)
		}
	}
	return ps.List()
}
