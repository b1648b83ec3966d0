package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/web"
)

// Config is the whole of switchd.yaml. Each section is owned and validated
// by its package.
type Config struct {
	// DataDir holds the SQLite database and recordings; relative paths are
	// relative to the working directory. Default "./switchd-data".
	DataDir string       `yaml:"data_dir"`
	SIP     sip.Config   `yaml:"sip"`
	Media   media.Config `yaml:"media"`
	HTTP    web.Config   `yaml:"http"`
	Log     LogConfig    `yaml:"log"`
}

// LogConfig is the `log:` section.
type LogConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// DefaultConfig is the configuration `switchd serve` runs on without --config.
func DefaultConfig() Config {
	return Config{
		DataDir: "./switchd-data",
		SIP:     sip.DefaultConfig(),
		Media:   media.DefaultConfig(),
		HTTP:    web.DefaultConfig(),
		Log:     LogConfig{Level: "info", Format: "text"},
	}
}

// Validate checks the whole file.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	if c.DataDir == "" {
		ps.Add("data_dir", "must not be empty")
	}
	ps.Merge("sip", c.SIP.Validate())
	ps.Merge("media", c.Media.Validate())
	ps.Merge("http", c.HTTP.Validate())
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ps.Add("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		ps.Add("log.format", "%q is not text or json", c.Log.Format)
	}
	return ps.List()
}

// DBPath is the SQLite database file.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "switchd.db") }

// TokenPath is where serve writes the first admin API token.
func (c *Config) TokenPath() string { return filepath.Join(c.DataDir, "admin.token") }

// LoadConfig reads path ("" for the built-in default). The returned
// *config.Error, when not nil, may hold only warnings; the config is usable
// unless it HasErrors.
func LoadConfig(path string) (*Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return &cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := config.Decode(path, data, &cfg); err != nil {
		return &cfg, err
	}
	return &cfg, nil
}

// Check is `switchd validate`: exactly the load path of serve, without
// sockets. It loads the file, then checks it against the database (when one
// exists) and returns every problem, warnings included.
func Check(ctx context.Context, path string) (*Config, []config.Problem, error) {
	file := path
	if file == "" {
		file = "(built-in default)"
	}
	cfg, err := LoadConfig(path)
	var cerr *config.Error
	switch {
	case errors.As(err, &cerr):
		if cerr.HasErrors() {
			return cfg, cerr.Problems, nil
		}
	case err != nil:
		return nil, nil, err
	}
	var problems []config.Problem
	if cerr != nil {
		problems = cerr.Problems
	}
	dbProblems := checkStore(ctx, cfg, file)
	if path != "" {
		data, _ := os.ReadFile(path)
		config.Locate(path, data, dbProblems)
	}
	return cfg, append(problems, dbProblems...), nil
}

// checkStore compares the file with the database it points at.
func checkStore(ctx context.Context, cfg *Config, file string) []config.Problem {
	if _, err := os.Stat(cfg.DBPath()); errors.Is(err, os.ErrNotExist) {
		return nil // serve will create it
	}
	st, err := store.Open(ctx, cfg.DBPath(), store.Options{ReadOnly: true})
	if errors.Is(err, store.ErrNeedMigrate) {
		return []config.Problem{{File: file, Path: "data_dir", Msg: err.Error(), Warning: true}}
	}
	if err != nil {
		return []config.Problem{{File: file, Path: "data_dir", Msg: err.Error()}}
	}
	defer st.Close()
	realms, err := st.ExtensionRealms(ctx)
	if err != nil {
		return []config.Problem{{File: file, Path: "data_dir", Msg: err.Error()}}
	}
	var out []config.Problem
	for realm, n := range realms {
		if realm != cfg.SIP.Realm {
			out = append(out, config.Problem{File: file, Path: "sip.realm", Warning: true,
				Msg: fmt.Sprintf("%d extension(s) have digests for realm %q, not %q: they cannot register until their passwords are set again (switchd extension passwd)", n, realm, cfg.SIP.Realm)})
		}
	}
	return out
}
