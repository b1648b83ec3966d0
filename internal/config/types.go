package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in YAML as a Go duration string
// ("30s", "5m", "1h30m").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML accepts a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineError(n, "a duration must be a string such as \"30s\"")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return lineError(n, fmt.Sprintf("%q is not a duration (use e.g. \"30s\", \"5m\")", n.Value))
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// PortRange is an inclusive UDP/TCP port range written "10000-20000".
type PortRange struct {
	Min, Max int
}

// UnmarshalYAML parses "min-max".
func (r *PortRange) UnmarshalYAML(n *yaml.Node) error {
	lo, hi, ok := strings.Cut(n.Value, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if n.Kind != yaml.ScalarNode || !ok || err1 != nil || err2 != nil {
		return lineError(n, fmt.Sprintf("%q is not a port range (use e.g. \"10000-20000\")", n.Value))
	}
	r.Min, r.Max = a, b
	return nil
}

// MarshalYAML writes "min-max".
func (r PortRange) MarshalYAML() (any, error) { return r.String(), nil }

// String formats the range as "min-max".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Validate checks 1 ≤ min ≤ max ≤ 65535.
func (r PortRange) Validate() []Problem {
	var ps Problems
	if r.Min < 1 || r.Max > 65535 || r.Min > r.Max {
		ps.Add("", "port range %s must satisfy 1 ≤ min ≤ max ≤ 65535", r)
	}
	return ps.List()
}

// lineError reports a bad value as a *yaml.TypeError, so the decoder goes
// on and every problem of the file is reported at once.
func lineError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}
