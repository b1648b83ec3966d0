package recordings

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/enum"
)

// Config is the `recordings:` section of switchd.yaml:
//
//	recordings:
//	  mode: queues            # off (default), always, queues, extensions
//	  queues: [sales]         # mode queues: these queues; none listed: every queue
//	  extensions: ["1001"]    # mode extensions: calls to or from these
//	  dir: recordings         # relative to data_dir; default "recordings"
//	  format: stereo          # stereo (customer left, agent right) or mono
//	  retention_days: 90      # 0 (default) keeps recordings forever
//	  header_interval: 5s     # default 5s
//	  buffer: 10s             # default 10s
type Config struct {
	// Mode chooses the calls recorded: off, always, queues (calls that
	// reach one of Queues, or any queue when Queues is empty) or
	// extensions (calls to or from one of Extensions). Default off.
	Mode string `yaml:"mode"`
	// Queues are the queues whose calls mode queues records. Default none
	// (every queue).
	Queues []string `yaml:"queues"`
	// Extensions are the extensions whose calls mode extensions records.
	Extensions []string `yaml:"extensions"`
	// Dir holds the recordings, in <yyyy>/<mm>/<dd> directories; a
	// relative path is relative to data_dir. Default "recordings".
	Dir string `yaml:"dir"`
	// Format is stereo (customer left, agent right) or mono (both mixed).
	// Default stereo.
	Format string `yaml:"format"`
	// RetentionDays is how long recordings are kept, in days, before the
	// sweeper deletes them; 0 keeps them forever. Default 0.
	RetentionDays int `yaml:"retention_days"`
	// HeaderInterval is how often a recording's header is rewritten and
	// the file fsynced: the most audio a crash loses. Default 5s.
	HeaderInterval config.Duration `yaml:"header_interval"`
	// Buffer is the audio a recording queues while the disk is slow before
	// dropping frames (written as silence and counted). Default 10s.
	Buffer config.Duration `yaml:"buffer"`
}

// Mode is which calls are recorded. The zero value is unknown.
type Mode uint8

// The modes.
const (
	// ModeOff records no call.
	ModeOff Mode = iota + 1
	// ModeAlways records every call.
	ModeAlways
	// ModeQueues records the calls of the configured queues.
	ModeQueues
	// ModeExtensions records the calls to or from the configured
	// extensions.
	ModeExtensions
)

var modeNames = []string{"unknown", "off", "always", "queues", "extensions"}

// String is the mode's name.
func (m Mode) String() string { return enum.String(m, "mode", modeNames) }

// ParseMode returns the mode named s; "" is unknown.
func ParseMode(s string) (Mode, error) {
	return enum.Parse[Mode](s, "recording mode", modeNames, ErrInvalidValue)
}

// DefaultConfig returns the built-in defaults of the section.
func DefaultConfig() Config {
	return Config{
		Mode:           ModeOff.String(),
		Dir:            "recordings",
		Format:         Stereo.String(),
		HeaderInterval: config.Duration(DefaultHeaderInterval),
		Buffer:         config.Duration(DefaultQueue),
	}
}

// Validate checks the section.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	m, err := ParseMode(c.Mode)
	if err != nil || m == 0 {
		ps.Add("mode", "%q is not a mode: use off, always, queues or extensions", c.Mode)
	}
	if f, err := ParseFormat(c.Format); err != nil || f == 0 {
		ps.Add("format", "%q is not a format: use stereo or mono", c.Format)
	}
	if m == ModeExtensions && len(c.Extensions) == 0 {
		ps.Add("extensions", "mode extensions needs at least one extension")
	}
	for i, q := range c.Queues {
		if q == "" {
			ps.Add(fmt.Sprintf("queues[%d]", i), "empty queue name")
		}
	}
	for i, e := range c.Extensions {
		if e == "" {
			ps.Add(fmt.Sprintf("extensions[%d]", i), "empty extension")
		}
	}
	if c.Dir == "" {
		ps.Add("dir", "must not be empty")
	}
	if c.RetentionDays < 0 {
		ps.Add("retention_days", "must not be negative (0 keeps recordings forever)")
	}
	if c.HeaderInterval < 0 || c.HeaderInterval > 0 && c.HeaderInterval.D() < time.Second {
		ps.Add("header_interval", "must be at least 1s")
	}
	if c.Buffer < 0 || c.Buffer > 0 && c.Buffer.D() < time.Second {
		ps.Add("buffer", "must be at least 1s")
	}
	return ps.List()
}

// ModeValue is the parsed Mode (unknown if invalid: Validate first).
func (c *Config) ModeValue() Mode {
	m, _ := ParseMode(c.Mode)
	return m
}

// Path returns Dir resolved against dataDir.
func (c *Config) Path(dataDir string) string {
	if filepath.IsAbs(c.Dir) {
		return c.Dir
	}
	return filepath.Join(dataDir, c.Dir)
}

// Wants reports whether a call is recorded: with mode queues, a call in
// queue (queue "" is no queue); with mode extensions, a call to or from
// one of exts.
func (c *Config) Wants(queue string, exts ...string) bool {
	switch c.ModeValue() {
	case ModeAlways:
		return true
	case ModeQueues:
		return queue != "" && (len(c.Queues) == 0 || slices.Contains(c.Queues, queue))
	case ModeExtensions:
		for _, e := range exts {
			if e != "" && slices.Contains(c.Extensions, e) {
				return true
			}
		}
	}
	return false
}

// Options returns the writer options the section sets (the caller adds
// the clock and logger).
func (c *Config) Options() Options {
	f, _ := ParseFormat(c.Format)
	return Options{Format: f, HeaderInterval: c.HeaderInterval.D(), Queue: c.Buffer.D()}
}
