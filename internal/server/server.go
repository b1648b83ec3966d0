// Package server wires switchd together: it builds every component from
// the configuration, connects them, and runs them until the context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/cdr"
	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/ivr"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/prompt"
	"github.com/switchd/switchd/routing"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/tts"
	"github.com/switchd/switchd/web"
)

// Version is set at build time (-ldflags "-X …/internal/server.Version=…").
var Version = "0.1.0-dev"

// Server is a running switchd.
type Server struct {
	cfg       *Config
	log       *slog.Logger
	now       func() time.Time
	store     *store.Store
	writer    *store.RegistrationWriter
	creds     *credentialCache
	accounts  *accounts.Service
	sip       *sip.Server
	media     *media.Engine
	bus       *call.Bus
	cdrs      *cdr.Recorder
	httpLn    net.Listener
	http      *http.Server
	metrics   *prometheus.Registry
	router    *router
	flows     *ivr.Library
	ivrHTTP   *http.Client        // http nodes of every flow run (shares connections)
	trunkRegs *sip.TrunkRegistrar // nil without trunks
	acd       *acdService
	acdStore  *acdPersister
	confs     *conferences
	features  *features
	mons      *monitors
	rec       *recorder
}

// Option adjusts New.
type Option func(*Server)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New opens the database and every socket; Run serves. On error nothing is left open.
func New(ctx context.Context, cfg *Config, log *slog.Logger, opts ...Option) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, now: time.Now, ivrHTTP: &http.Client{Timeout: cfg.IVR.HTTPTimeout.D()}}
	for _, o := range opts {
		o(s)
	}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if s.store, err = store.Open(ctx, cfg.DBPath(), store.Options{Logger: log, Now: s.now}); err != nil {
		return nil, err
	}
	if err = s.ensureAdminToken(ctx); err != nil {
		return nil, err
	}
	s.accounts = accounts.New(s.store, cfg.SIP.Realm)
	s.metrics = prometheus.NewRegistry()
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	s.writer = s.store.NewRegistrationWriter(50 * time.Millisecond)
	table := sip.NewBindingTable(cfg.SIP.MaxContactsPerAOR, s.persistBinding)
	if err = s.restoreBindings(ctx, table); err != nil {
		return nil, err
	}
	guard := sip.NewGuard(cfg.SIP.Ban)
	s.creds = newCredentialCache(s.store)
	sipLog := log.With("component", "sip")
	var routes *routing.Table // nil: no trunks
	if rc := cfg.Routing(); !rc.IsZero() {
		if routes, err = routing.New(rc); err != nil {
			return nil, fmt.Errorf("routing: %w", err)
		}
	}
	qc, queueProblems := loadQueues(cfg)
	if cerr := (&config.Error{Problems: queueProblems}); cerr.HasErrors() {
		return nil, fmt.Errorf("acd queues:\n%w", cerr)
	}
	if s.flows, err = loadFlows(cfg, flowChecker(cfg, qc), log.With("component", "ivr")); err != nil {
		return nil, err
	}
	s.router = newRouter(routes, s.creds, cfg.SIP.Realm, cfg.Services, cfg.Prompts.MOHDir)
	s.router.flow = func(name string) (sip.Application, bool) {
		if s.flows == nil {
			return nil, false
		}
		set := s.flows.Current()
		if _, ok := set.Flow(name); !ok {
			return nil, false
		}
		return flowApp{flow: name, set: set, s: s}, true
	}
	creds := trunkCredentials{trunks: s.router.creds, next: s.creds}
	auth, err := sip.NewAuthenticator(cfg.SIP, creds, guard, s.now, sipLog)
	if err != nil {
		return nil, err
	}
	serverName := "switchd/" + Version
	registrar := sip.NewRegistrar(cfg.SIP, auth, table, s.now, sipLog, serverName)
	if s.media, err = media.NewEngine(cfg.Media, log.With("component", "media")); err != nil {
		return nil, err
	}
	s.bus = call.NewBus(call.WithClock(s.now))
	// Calls left open by a crash are closed before new ones start (cause switch_restart).
	if _, err = cdr.RecoverAfterCrash(ctx, s.store, s.now(), log); err != nil {
		return nil, err
	}
	if s.cdrs, err = cdr.New(s.bus, s.store, cdr.WithLogger(log.With("component", "cdr"))); err != nil {
		return nil, err
	}
	if s.acdStore, err = newACDPersister(s.store, s.bus, log.With("component", "acd_store")); err != nil {
		return nil, err
	}
	if s.acd, err = newACD(s, qc); err != nil {
		return nil, err
	}
	warnMissingMOH(log, cfg.Prompts.MOHDir, qc)
	s.router.queue = func(name string) (sip.Application, bool) {
		if _, ok := s.acd.queueConfig(name); !ok {
			return nil, false
		}
		return queueApp{a: s.acd, queue: name}, true
	}
	s.router.queueNumber = func(n string) (sip.Application, bool) {
		name, ok := s.acd.queueByNumber(n)
		if !ok {
			return nil, false
		}
		return queueApp{a: s.acd, queue: name}, true
	}
	s.router.codes = s.acd.featureCodes(cfg.ACD.FeatureCodes)
	s.features = newFeatures(cfg.Features, cfg.Prompts.MOHDir, s.now, log.With("component", "features"))
	s.router.features = s.features.app
	s.confs = newConferences(cfg.Conferences, s.bus, log.With("component", "conference"), s.now)
	s.router.conference, s.router.room = s.confs.app, s.confs.byName
	s.mons = newMonitors(s, cfg.ACD.FeatureCodes.Monitor)
	s.rec = newRecorder(s)
	s.rec.recover(ctx)
	s.router.monitor = s.mons.app
	advertise, _ := netip.ParseAddr(cfg.Media.AdvertiseAddress)
	b2b := &sip.B2BUA{
		Media: s.media, Events: s.bus, Directory: s.creds,
		RingTimeout: cfg.SIP.RingTimeout.D(), RTPTimeout: cfg.Media.RTPTimeout.D(), Advertise: advertise,
		SessionExpires: cfg.SIP.SessionExpires.D(),
		TransferCodes:  sip.TransferCodes{Blind: cfg.Features.BlindTransfer, Attended: cfg.Features.AttendedTransfer},
	}
	b2b.Router = s.router
	b2b.OnAnswer = s.rec.onAnswer
	if b2b.Prompts, err = s.promptConfig(); err != nil {
		return nil, err
	}
	s.sip, err = sip.NewServer(cfg.SIP, sip.ServerOptions{
		Registrar: registrar, Guard: guard, Metrics: sip.NewMetrics(s.metrics),
		Logger: sipLog, Now: s.now, UserAgent: serverName, B2BUA: b2b,
	})
	if err != nil {
		return nil, err
	}
	if regs := s.router.registrations(); len(regs) > 0 {
		s.trunkRegs = sip.NewTrunkRegistrar(s.sip, regs, log.With("component", "trunk_register"))
	}
	s.metrics.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchd_sip_registrations", Help: "Current registrar bindings."},
			func() float64 { return float64(table.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchd_sip_banned_sources", Help: "Source addresses banned now."},
			func() float64 { return float64(len(guard.Bans(s.now()))) }),
	)
	if err = s.sip.Listen(); err != nil {
		return nil, err
	}
	if s.httpLn, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		s.sip.Close()
		return nil, fmt.Errorf("http: listen %s: %w", cfg.HTTP.Listen, err)
	}
	s.http = &http.Server{
		Handler: web.NewHandler(cfg.HTTP, web.Deps{
			Tokens: tokenChecker{s.store}, Live: live{s.sip, s.now}, Extensions: extensionAdmin{s},
			Events: s.bus, CDRs: cdrAPI{s.store}, Trunks: trunkStatus{s}, Voicemails: voicemailAPI{s.store}, ACD: s.acd, Conferences: s.confs, Parked: s.features, Monitors: s.mons, Recordings: s.rec,
			Gatherer: s.metrics, Logger: log.With("component", "http"),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return s, nil
}

// SIPAddrs returns the bound SIP addresses.
func (s *Server) SIPAddrs() []string { return s.sip.Addrs() }

// HTTPAddr returns the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// Run serves until ctx is done, then shuts down in order: stop taking
// requests, flush pending writes, close the database.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// SIP and media outlive ctx by the drain: calls in progress may finish.
	sipCtx, stopSIP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSIP()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	// The ACD is restored (agents' states, contacts lost by the last stop)
	// before SIP and HTTP serve: no call or API request sees it half-built.
	// The ACD outlives ctx like SIP: callers keep waiting and agents keep
	// answering during the drain. Its events are stored until the end.
	acdCtx, stopACD := context.WithCancel(context.WithoutCancel(ctx))
	defer stopACD()
	storeCtx, stopStore := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStore()
	var acdWG, storeWG sync.WaitGroup
	storeWG.Go(func() {
		if err := s.acdStore.Run(storeCtx); err != nil {
			s.log.Error("acd_store_failed", "error", err)
		}
	})
	s.rec.start(acdCtx, &acdWG)
	if err := s.acd.start(acdCtx, &acdWG); err != nil {
		s.log.Error("acd_start_failed", "error", err)
		errc <- err // errc has room: nothing has run yet
		cancel()
	}
	wg.Add(4)
	go func() {
		defer wg.Done()
		if err := s.sip.Run(sipCtx); err != nil {
			errc <- err
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.media.Run(sipCtx); err != nil {
			errc <- fmt.Errorf("media: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.http.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
			cancel()
		}
	}()
	go func() { defer wg.Done(); s.watchExtensions(ctx, time.Second) }()
	if every := s.cfg.IVR.ReloadInterval.D(); every > 0 && s.flows != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.flows.Watch(ctx, every) }()
	}
	// Registrations with carriers end (un-REGISTER) after the drain, while SIP still runs.
	regCtx, stopRegs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRegs()
	regsDone := make(chan struct{})
	go func() {
		defer close(regsDone)
		if s.trunkRegs == nil {
			return
		}
		select { // REGISTER once the SIP sockets are served
		case <-s.sip.Ready():
		case <-regCtx.Done():
			return
		}
		s.trunkRegs.Run(regCtx)
	}()
	// The recorder outlives ctx: calls drained or cut off after ctx ends
	// still publish call_ended; closeAll stops it once SIP has returned.
	go s.cdrs.Run(context.WithoutCancel(ctx))
	s.log.Info("switchd_started", "version", Version, "http", s.HTTPAddr(), "database", s.store.Path(),
		"registrations", s.sip.Registrar().Table().Len())

	<-ctx.Done()
	if n := s.sip.ActiveCalls(); n > 0 {
		s.log.Info("draining_calls", "active", n, "timeout", s.cfg.SIP.DrainTimeout.D().String())
	}
	drainCtx, drained := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SIP.DrainTimeout.D())
	s.sip.Drain(drainCtx)
	drained()
	stopRegs()
	<-regsDone
	stopSIP()
	// Connected queue calls report their end (the drain tore them down);
	// bounded, so that a call stuck in teardown cannot hold the stop.
	if !waitTimeout(&s.acd.calls, 5*time.Second) {
		s.log.Warn("acd_calls_not_ended")
	}
	if !s.rec.wait(10 * time.Second) {
		s.log.Warn("recordings_not_finished")
	}
	stopACD()
	acdWG.Wait()
	stopStore()
	storeWG.Wait()
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer done()
	_ = s.http.Shutdown(shutdownCtx)
	wg.Wait()
	s.closeAll()
	s.log.Info("switchd_stopped")
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Server) closeAll() {
	if s.cdrs != nil {
		if err := s.cdrs.Close(); err != nil {
			s.log.Error("cdr_close_failed", "error", err)
		}
		s.cdrs = nil
	}
	if s.bus != nil {
		s.bus.Close() // ends WebSocket event streams (1001 going away)
	}
	if s.media != nil {
		s.media.Close()
		s.media = nil
	}
	if s.writer != nil {
		s.writer.Close()
		s.writer = nil
	}
	if s.httpLn != nil && s.http == nil {
		s.httpLn.Close()
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("store_close_failed", "error", err)
		}
		s.store = nil
	}
}

// ensureAdminToken creates the first API token on a new database and
// writes it, readable by the owner only, where the CLI looks for it.
func (s *Server) ensureAdminToken(ctx context.Context) error {
	n, err := s.store.TokenCount(ctx)
	if err != nil || n > 0 {
		return err
	}
	secret, err := store.NewTokenSecret()
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.cfg.TokenPath(), []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	if err := s.store.CreateToken(ctx, "admin", "admin", secret); err != nil {
		return err
	}
	s.log.Info("admin_token_created", "file", s.cfg.TokenPath())
	return nil
}

// promptConfig builds what app legs play prompts with: the prompts
// folder, tones and text-to-speech (flite when built with -tags flite,
// espeak-ng when installed) with its disk cache.
func (s *Server) promptConfig() (sip.PromptConfig, error) {
	pc := s.cfg.Prompts
	cacheDir := pc.TTS.CacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(s.cfg.DataDir, "tts-cache")
	}
	r, err := tts.New(tts.Options{CacheDir: cacheDir, Timeout: pc.TTS.Timeout.D(), Logger: s.log.With("component", "tts")})
	if err != nil {
		return sip.PromptConfig{}, fmt.Errorf("tts: %w", err)
	}
	return sip.PromptConfig{Dir: pc.Dir, Language: pc.Language, Region: pc.ToneRegion,
		Speaker: speaker{r}, Clips: prompt.NewClipCache(64 << 20), RecordDir: filepath.Join(s.cfg.DataDir, "voicemail"),
		MOHDir: pc.MOHDir, HoldMusic: pc.HoldMusic}, nil
}

// Reload re-reads what can change without a restart (SIGHUP): the ACD
// queues (contacts waiting get the new rules) and the IVR flows (calls in
// progress keep their version). An invalid edit keeps what runs and
// returns its problems.
func (s *Server) Reload() error {
	var errs []error
	qc, problems := loadQueues(s.cfg)
	if cerr := (&config.Error{Problems: problems}); cerr.HasErrors() {
		errs = append(errs, fmt.Errorf("acd queues (the running queues are kept):\n%w", cerr))
	} else if err := s.acd.reload(context.Background(), qc); err != nil {
		errs = append(errs, err)
	} else {
		s.log.Info("acd_queues_reloaded", "queues", len(qc.Queues))
	}
	if s.flows == nil {
		errs = append(errs, fmt.Errorf("ivr: no flows directory %s at start-up: restart to load flows", s.cfg.IVR.Dir))
		return errors.Join(errs...)
	}
	problems, err := s.flows.Reload()
	if err != nil {
		errs = append(errs, err)
	} else if cerr := (&config.Error{Problems: problems}); cerr.HasErrors() {
		errs = append(errs, cerr)
	}
	return errors.Join(errs...)
}

// waitTimeout waits for wg at most d; it reports whether wg finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// warnMissingMOH says once at start-up which music-on-hold folders do not
// exist: callers put on hold or waiting there hear a soft beep instead.
func warnMissingMOH(log *slog.Logger, dir string, qc acd.Config) {
	dirs := []string{dir}
	for _, q := range qc.Queues {
		dirs = append(dirs, q.MusicOnHold)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if d == "" || seen[d] || dirExists(d) {
			continue
		}
		seen[d] = true
		log.Warn("moh_dir_missing", "dir", d, "effect", "callers on hold or waiting there hear a soft beep")
	}
}
