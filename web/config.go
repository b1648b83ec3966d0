// Package web is switchd's HTTP face: health, Prometheus metrics, pprof and
// the token-authenticated JSON API that the CLI and browser pages use.
package web

import (
	"net/netip"

	"github.com/switchd/switchd/internal/config"
)

// Config is the `http:` section of switchd.yaml.
type Config struct {
	// Listen is the HTTP address (host:port). Default "127.0.0.1:8080":
	// only this machine, until you put TLS in front of it.
	Listen string `yaml:"listen"`
	// PublicMetrics serves /metrics without a token, for Prometheus
	// scrapers. Default true; /debug/pprof and /api always need a token.
	PublicMetrics bool `yaml:"public_metrics"`
}

// DefaultConfig returns the built-in defaults of the http section.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", PublicMetrics: true}
}

// Validate checks the section.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	if _, err := netip.ParseAddrPort(c.Listen); err != nil {
		ps.Add("listen", "%q is not an IP:port address such as 127.0.0.1:8080", c.Listen)
	}
	return ps.List()
}
