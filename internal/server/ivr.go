package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/ivr"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/web"
)

// IVRConfig is the `ivr:` section.
type IVRConfig struct {
	// Dir holds the flows, one per *.yaml file (the flow's name is the
	// file name). A missing folder means no flows. Default "configs/ivr".
	Dir string `yaml:"dir"`
	// ReloadInterval is how often the folder is checked for changes
	// (SIGHUP reloads at once); 0s: only on SIGHUP. Default 2s.
	ReloadInterval config.Duration `yaml:"reload_interval"`
	// HTTPTimeout bounds every request of http nodes (a node may ask for
	// less). Default 5s.
	HTTPTimeout config.Duration `yaml:"http_timeout"`
	// MaxSteps bounds the nodes one call may visit. Default 200.
	MaxSteps int `yaml:"max_steps"`
}

// DefaultIVRConfig is the built-in `ivr:` section.
func DefaultIVRConfig() IVRConfig {
	return IVRConfig{Dir: "configs/ivr", ReloadInterval: config.Duration(2 * time.Second),
		HTTPTimeout: config.Duration(5 * time.Second), MaxSteps: ivr.DefaultMaxSteps}
}

// Validate checks the section (the flows themselves are checked by ivr).
func (c *IVRConfig) Validate() []config.Problem {
	var ps config.Problems
	if c.ReloadInterval < 0 {
		ps.Add("reload_interval", "must not be negative")
	}
	if c.HTTPTimeout.D() <= 0 || c.HTTPTimeout.D() > time.Minute {
		ps.Add("http_timeout", "must be above 0 and at most 1m (got %s)", c.HTTPTimeout.D())
	}
	if c.MaxSteps < 10 || c.MaxSteps > 100000 {
		ps.Add("max_steps", "must be 10 to 100000 (got %d)", c.MaxSteps)
	}
	return ps.List()
}

// flowChecker is what flows are checked against: the trunks of the
// routing table, the queues of acd.dir and the recorded prompts (a missing prompt with say: text
// is a warning: the text is spoken). Extensions live in the database and change at run time,
// so a flow naming one that does not exist is not refused (the transfer
// fails on the call, with a busy tone, and is logged).
func flowChecker(cfg *Config, qc acd.Config) ivr.Checker {
	trunks := map[string]bool{}
	rc := cfg.Routing()
	for _, t := range rc.Trunks {
		trunks[t.Name] = true
	}
	queues := map[string]bool{}
	for _, q := range qc.Queues {
		queues[q.Name] = true
	}
	return ivr.Checker{
		Trunk: func(name string) bool { return trunks[name] },
		Queue: func(name string) bool { return queues[name] },
		Prompt: func(name, lang string) bool {
			if lang == "" {
				lang = cfg.Prompts.Language
			}
			_, err := sip.FindPrompt(cfg.Prompts.Dir, name, lang)
			return err == nil
		},
		File: func(path string) bool {
			fi, err := os.Stat(path)
			return err == nil && fi.Mode().IsRegular()
		},
	}
}

// flowApp runs an IVR flow as a call switchd answers (a DID's `ivr:`).
type flowApp struct {
	flow string
	set  *ivr.Set // the flows' version when the call came in
	s    *Server
}

var _ sip.Application = flowApp{}

// Name implements sip.Application.
func (a flowApp) Name() string { return "ivr " + a.flow }

// Run implements sip.Application: the flow runs on the version of the
// flows current when the call came in, until its outcome.
func (a flowApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	set := a.set
	log := a.s.log.With("call_id", string(leg.CallID()), "flow", a.flow)
	out := set.Run(ctx, a.flow, ivrSession{leg}, a.s.ivrEnv(log))
	log.Info("ivr_ended", "outcome", out.Kind.String(), "node", out.Node, "target", out.Target, "error", errString(out.Err))
	switch out.Kind {
	case ivr.OutcomeTransfer:
		if out.TargetKind == ivr.TargetExtension {
			if app, ok := a.s.confs.app(out.Target); ok {
				return app.Run(ctx, leg) // a conference room's number
			}
			return sip.AppResult{Bridge: out.Target}
		}
		log.Warn("ivr_external_transfer_unsupported", "number", out.Target)
		return sip.AppResult{Cause: call.CauseUnavailable}
	case ivr.OutcomeEnqueue:
		if a.s.acd == nil {
			log.Warn("ivr_queue_unavailable", "queue", out.Queue)
			return sip.AppResult{Cause: call.CauseUnavailable}
		}
		return a.s.acd.wait(ctx, leg, acd.Contact{ID: leg.CallID(), Medium: call.MediumVoice, Caller: leg.Caller(),
			Queue: out.Queue, Skills: acd.SkillsFromNames(out.Skills), Priority: out.Priority, Attributes: out.Vars})
	default:
		return sip.AppResult{Cause: out.Cause}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ivrEnv is what flows get from the switch.
func (s *Server) ivrEnv(log *slog.Logger) ivr.Env {
	return ivr.Env{
		Now:       s.now,
		HTTP:      s.ivrHTTP,
		Log:       log,
		Events:    func(e call.Event) { s.bus.Publish(e) },
		MaxSteps:  s.cfg.IVR.MaxSteps,
		Voicemail: s.storeVoicemail,
	}
}

// storeVoicemail indexes a message left in a box (IVR voicemail nodes,
// queue overflow to voicemail).
func (s *Server) storeVoicemail(ctx context.Context, v ivr.Voicemail) error {
	return s.store.AddVoicemail(ctx, store.Voicemail{CallID: string(v.CallID), Caller: v.Caller, Box: v.Box,
		Path: v.Recording.Path, Duration: v.Recording.Duration, At: v.At})
}

// ivrSession adapts an app leg to the IVR engine.
type ivrSession struct{ *sip.AppLeg }

var _ ivr.Session = ivrSession{}

// Record implements ivr.Session.
func (s ivrSession) Record(ctx context.Context, maxDur time.Duration) (ivr.Recording, error) {
	r, err := s.AppLeg.Record(ctx, maxDur)
	return ivr.Recording{Path: r.Path, Duration: r.Duration}, err
}

// loadFlows loads the flows at start-up: a flow with errors stops the
// switch (as any configuration error does).
func loadFlows(cfg *Config, check ivr.Checker, log *slog.Logger) (*ivr.Library, error) {
	if !dirExists(cfg.IVR.Dir) {
		log.Info("ivr_no_flows", "dir", cfg.IVR.Dir)
		return nil, nil
	}
	lib, problems, err := ivr.NewLibrary(cfg.IVR.Dir, check, log)
	if err != nil {
		return nil, fmt.Errorf("ivr: %w", err)
	}
	if cerr := (&config.Error{Problems: problems}); cerr.HasErrors() {
		return nil, fmt.Errorf("ivr flows:\n%w", cerr)
	}
	return lib, nil // the library has logged the warnings
}

// checkFlows is the IVR part of `switchd validate`: every flow file, and
// every DID or service naming a flow that does not exist (located in the
// configuration file).
func checkFlows(cfg *Config, path string, check ivr.Checker) []config.Problem {
	var problems []config.Problem
	names := map[string]bool{}
	if dirExists(cfg.IVR.Dir) { // a missing folder means no flows
		var list []string
		list, problems = ivr.Validate(cfg.IVR.Dir, check)
		for _, n := range list {
			names[n] = true
		}
	}
	var dids, svcs []config.Problem
	for i, d := range cfg.Routing().DIDs {
		if d.IVR != "" && !names[d.IVR] {
			dids = append(dids, config.Problem{Path: fmt.Sprintf("dids[%d].ivr", i),
				Msg: fmt.Sprintf("no IVR flow %q in %s", d.IVR, cfg.IVR.Dir)})
		}
		if d.Queue != "" && !check.Queue(d.Queue) {
			dids = append(dids, config.Problem{Path: fmt.Sprintf("dids[%d].queue", i),
				Msg: fmt.Sprintf("no queue %q in %s", d.Queue, cfg.ACD.Dir)})
		}
		if d.Conference != "" && !slices.ContainsFunc(cfg.Conferences, func(c ConferenceConfig) bool { return c.Name == d.Conference }) {
			dids = append(dids, config.Problem{Path: fmt.Sprintf("dids[%d].conference", i),
				Msg: fmt.Sprintf("no conference %q in conferences", d.Conference)})
		}
	}
	for i, s := range cfg.Services {
		if s.Flow != "" && !names[s.Flow] {
			svcs = append(svcs, config.Problem{Path: fmt.Sprintf("services[%d].flow", i),
				Msg: fmt.Sprintf("no IVR flow %q in %s", s.Flow, cfg.IVR.Dir)})
		}
	}
	locate := func(file string, ps []config.Problem) {
		if file == "" {
			file = "(built-in default)"
		}
		data, _ := os.ReadFile(file)
		config.Locate(file, data, ps)
	}
	routingFile := path
	if cfg.RoutingFile != "" {
		routingFile = cfg.RoutingPath(path)
	}
	locate(routingFile, dids)
	locate(path, svcs)
	return append(append(problems, dids...), svcs...)
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// voicemailAPI implements web.Voicemails.
type voicemailAPI struct{ st *store.Store }

// Voicemails implements web.Voicemails.
func (v voicemailAPI) Voicemails(ctx context.Context, box string) ([]web.Voicemail, error) {
	list, err := v.st.Voicemails(ctx, box)
	if err != nil {
		return nil, err
	}
	out := make([]web.Voicemail, len(list))
	for i, m := range list {
		out[i] = web.Voicemail{ID: m.ID, CallID: m.CallID, Caller: m.Caller, Box: m.Box, File: m.Path,
			DurationMS: m.Duration.Milliseconds(), At: m.At}
	}
	return out, nil
}

// loadQueues reads the queue files once for start-up and `switchd
// validate`: the queues and their problems, with file:line.
func loadQueues(cfg *Config) (acd.Config, []config.Problem) {
	if !dirExists(cfg.ACD.Dir) {
		return acd.Config{}, nil
	}
	return acd.LoadDir(cfg.ACD.Dir)
}
