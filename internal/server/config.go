package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/recordings"
	"github.com/switchd/switchd/routing"
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
	// Prompts is what calls switchd answers itself play.
	Prompts PromptsConfig `yaml:"prompts"`
	// IVR is where the IVR flows are and how they run.
	IVR IVRConfig `yaml:"ivr"`
	// ACD is where the queues are.
	ACD ACDConfig `yaml:"acd"`
	// Services are numbers extensions dial that switchd answers itself
	// (test lines, announcements, music on hold). Default none.
	Services []ServiceConfig `yaml:"services"`
	// Recordings says which calls are recorded and where (package
	// recordings).
	Recordings recordings.Config `yaml:"recordings"`
	// Conferences are the conference rooms (numbers extensions dial).
	Conferences []ConferenceConfig `yaml:"conferences"`
	// Features are call pickup, call park and in-call transfer codes.
	Features FeaturesConfig `yaml:"features"`

	// RoutingFile names a separate YAML file holding numbering, trunks,
	// dids and dial_rules (the keys below), relative to this file's
	// directory. It cannot be combined with those keys here. Default "".
	RoutingFile string `yaml:"routing_file"`
	// Numbering is the home numbering plan (routing.Numbering). Default none.
	Numbering routing.Numbering `yaml:"numbering"`
	// Trunks are the carriers. Default none.
	Trunks []routing.TrunkConfig `yaml:"trunks"`
	// DIDs route inbound calls by called number. Default none.
	DIDs []routing.DIDConfig `yaml:"dids"`
	// DialRules route numbers dialled by extensions to trunks. Default none.
	DialRules []routing.DialRuleConfig `yaml:"dial_rules"`

	// routing is the content of RoutingFile, read by LoadConfig.
	routing routing.Config
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
		DataDir:    "./switchd-data",
		SIP:        sip.DefaultConfig(),
		Media:      media.DefaultConfig(),
		HTTP:       web.DefaultConfig(),
		Log:        LogConfig{Level: "info", Format: "text"},
		Prompts:    DefaultPromptsConfig(),
		IVR:        DefaultIVRConfig(),
		ACD:        DefaultACDConfig(),
		Recordings: recordings.DefaultConfig(),
		Features:   DefaultFeaturesConfig(),
	}
}

// inlineRouting returns the routing keys of this file.
func (c *Config) inlineRouting() routing.Config {
	return routing.Config{Numbering: c.Numbering, Trunks: c.Trunks, DIDs: c.DIDs, DialRules: c.DialRules}
}

// Routing returns the effective routing configuration: the content of
// RoutingFile (as read by LoadConfig) when it is set, else the inline keys.
func (c *Config) Routing() routing.Config {
	if c.RoutingFile != "" {
		return c.routing
	}
	return c.inlineRouting()
}

// Validate checks the whole file. The routing keys are checked here when
// they are inline; a routing_file is checked by LoadConfig when it reads
// it, so that its problems carry its own name and lines.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	if c.DataDir == "" {
		ps.Add("data_dir", "must not be empty")
	}
	ps.Merge("sip", c.SIP.Validate())
	ps.Merge("media", c.Media.Validate())
	ps.Merge("http", c.HTTP.Validate())
	ps.Merge("prompts", c.Prompts.Validate())
	ps.Merge("ivr", c.IVR.Validate())
	ps.Merge("acd", c.ACD.Validate())
	ps.Merge("recordings", c.Recordings.Validate())
	ps.Merge("features", c.Features.Validate())
	fc := c.ACD.FeatureCodes
	taken := map[string]string{}
	for _, code := range []string{fc.Login, fc.Logout, fc.NotReady} {
		if code != "" {
			taken[code] = "an agent feature code (acd.feature_codes)"
		}
	}
	for i, svc := range c.Services {
		if what := taken[svc.Number]; svc.Number != "" && what != "" {
			ps.Add(fmt.Sprintf("services[%d].number", i), "%q is %s", svc.Number, what)
		}
	}
	for i, svc := range c.Services {
		if taken[svc.Number] == "" {
			taken[svc.Number] = fmt.Sprintf("services[%d]", i)
		}
	}
	ps.Merge("", validateConferences(c.Conferences, taken))
	ps.Merge("", validateServices(c.Services))
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
	if inline := c.inlineRouting(); c.RoutingFile == "" {
		ps.Merge("", inline.Validate())
	} else if !inline.IsZero() {
		ps.Add("routing_file", "cannot be combined with numbering, trunks, dids or dial_rules in this file: move them into %s", c.RoutingFile)
	}
	return ps.List()
}

// DBPath is the SQLite database file.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "switchd.db") }

// TokenPath is where serve writes the first admin API token.
func (c *Config) TokenPath() string { return filepath.Join(c.DataDir, "admin.token") }

// LoadConfig reads path ("" for the built-in default) and the routing_file
// it names, if any. The returned *config.Error, when not nil, may hold only
// warnings; the config is usable unless it HasErrors. Its problems may come
// from both files: those of path first, then those of the routing file,
// each in line order.
func LoadConfig(path string) (*Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return &cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var problems []config.Problem
	err = config.Decode(path, data, &cfg)
	var cerr *config.Error
	switch {
	case errors.As(err, &cerr):
		problems = cerr.Problems
	case err != nil:
		return &cfg, err
	}
	if cfg.RoutingFile != "" {
		problems = append(problems, cfg.loadRoutingFile(path, data)...)
	}
	if len(problems) > 0 {
		return &cfg, &config.Error{Problems: problems}
	}
	return &cfg, nil
}

// RoutingPath is the routing file's path: RoutingFile relative to the
// directory of the configuration file at path; "" when none is set.
func (c *Config) RoutingPath(path string) string {
	if c.RoutingFile == "" || filepath.IsAbs(c.RoutingFile) {
		return c.RoutingFile
	}
	return filepath.Join(filepath.Dir(path), c.RoutingFile)
}

// loadRoutingFile reads and validates the routing file named by the
// configuration file at path (whose content is data).
func (c *Config) loadRoutingFile(path string, data []byte) []config.Problem {
	rpath := c.RoutingPath(path)
	rdata, err := os.ReadFile(rpath)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		ps := []config.Problem{{Path: "routing_file", Msg: fmt.Sprintf("cannot read %s: %v", c.RoutingFile, err)}}
		config.Locate(path, data, ps)
		return ps
	}
	var rc routing.Config
	err = config.Decode(rpath, rdata, &rc)
	c.routing = rc
	var cerr *config.Error
	if errors.As(err, &cerr) {
		return cerr.Problems
	}
	if err != nil {
		return []config.Problem{{File: rpath, Msg: err.Error()}}
	}
	return nil
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
	qc, queueProblems := loadQueues(cfg)
	problems = append(problems, checkFlows(cfg, path, flowChecker(cfg, qc))...)
	problems = append(problems, queueProblems...)
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
