package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Principal is who an API token belongs to.
type Principal struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// ErrUnauthenticated is returned by a TokenChecker for an unknown token.
var ErrUnauthenticated = errors.New("web: unauthenticated")

// TokenChecker resolves a bearer token.
type TokenChecker interface {
	CheckToken(ctx context.Context, token string) (Principal, error)
}

// Registration is one registrar binding as the API shows it.
type Registration struct {
	AOR         string    `json:"aor"`
	Contact     string    `json:"contact"`
	Source      string    `json:"source"`
	Transport   string    `json:"transport"`
	Expires     time.Time `json:"expires"`
	ExpiresIn   int       `json:"expires_in"`
	UserAgent   string    `json:"user_agent"`
	Instance    string    `json:"instance,omitempty"`
	RegID       int       `json:"reg_id,omitempty"`
	Reachable   string    `json:"reachable"`
	RTTMillis   float64   `json:"rtt_ms,omitempty"`
	LastQualify time.Time `json:"last_qualify,omitzero"`
}

// Ban is a banned source address.
type Ban struct {
	Source string    `json:"source"`
	Until  time.Time `json:"until"`
}

// Live is the running switch's in-memory state the API reads and changes.
type Live interface {
	Registrations() []Registration
	Bans() []Ban
	Unban(ip string) (bool, error)
}

// Extension is a phone account as the API shows it (never its digests).
type Extension struct {
	Number   string    `json:"number"`
	Name     string    `json:"name"`
	Realm    string    `json:"realm"`
	Class    string    `json:"class"`     // outbound permission class: internal, national, international
	CallerID string    `json:"caller_id"` // own outside number (E.164); "" for none
	Privacy  bool      `json:"privacy"`   // caller ID withheld on outside calls (RFC 3325 Privacy: id)
	Created  time.Time `json:"created"`
}

// NewExtension is the body of POST /api/v1/extensions. Class (default
// national), CallerID and Privacy are optional.
type NewExtension struct {
	Number   string `json:"number"`
	Name     string `json:"name"`
	Password string `json:"password"`
	Class    string `json:"class"`
	CallerID string `json:"caller_id"`
	Privacy  bool   `json:"privacy"`
}

// ExtensionChange is the body of PATCH /api/v1/extensions/{number}: the
// routing attributes to change. Absent (or null) ones keep their value;
// "caller_id": "" clears the caller ID.
type ExtensionChange struct {
	Class    *string `json:"class"`
	CallerID *string `json:"caller_id"`
	Privacy  *bool   `json:"privacy"`
}

// Empty reports whether the change changes nothing.
func (c ExtensionChange) Empty() bool { return c.Class == nil && c.CallerID == nil && c.Privacy == nil }

// Extensions manages phone accounts. Invalid values (a class or caller ID
// the switch does not accept) are errors wrapping ErrInvalid.
type Extensions interface {
	ListExtensions(ctx context.Context) ([]Extension, error)
	AddExtension(ctx context.Context, e NewExtension) error
	ChangeExtension(ctx context.Context, number string, c ExtensionChange) error
	SetExtensionPassword(ctx context.Context, number, password string) error
	RemoveExtension(ctx context.Context, number string) error
}

// Error kinds an implementation of these interfaces wraps, so the API can
// answer with the right status (one mapping, in statusOf).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// Deps are the collaborators of the HTTP API.
type Deps struct {
	Tokens     TokenChecker
	Live       Live
	Extensions Extensions
	Gatherer   prometheus.Gatherer
	Logger     *slog.Logger
	// Events streams call events on GET /api/v1/events (WebSocket);
	// nil answers 503.
	Events EventSource
	// EventMaxLag is how many events a WebSocket client may fall behind
	// before its stream ends with a gap; 0 means DefaultEventMaxLag.
	EventMaxLag int
	// CDRs answers GET /api/v1/cdrs; nil answers 503.
	CDRs CDRs
	// Trunks answers GET /api/v1/trunks; nil lists none.
	Trunks Trunks
	// Voicemails answers GET /api/v1/voicemails; nil answers 503.
	Voicemails Voicemails
	// ACD answers /api/v1/queues… and /api/v1/agents…; nil answers 503.
	ACD ACD
	// Conferences answers /api/v1/conferences…; nil answers 503.
	Conferences Conferences
	// Parked answers GET /api/v1/parked; nil answers 503.
	Parked Parked
	// Recordings answers /api/v1/recordings/{call_id}/pause|resume; nil
	// answers 503.
	Recordings Recordings
	// Monitors answers /api/v1/monitors…; nil answers 503.
	Monitors Monitors
}

// NewHandler builds the HTTP handler.
func NewHandler(cfg Config, d Deps) http.Handler {
	a := &api{d: d}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	metrics := promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})
	if !cfg.PublicMetrics {
		metrics = a.require(RoleSupervisor, metrics)
	}
	mux.Handle("GET /metrics", metrics)
	admin := func(h http.HandlerFunc) http.Handler { return a.require(RoleAdmin, h) }
	supervisor := func(h http.HandlerFunc) http.Handler { return a.require(RoleSupervisor, h) }
	agent := func(h http.HandlerFunc) http.Handler { return a.require(RoleAgent, h) }
	mux.Handle("/debug/pprof/", admin(pprof.Index))
	mux.Handle("/debug/pprof/cmdline", admin(pprof.Cmdline))
	mux.Handle("/debug/pprof/profile", admin(pprof.Profile))
	mux.Handle("/debug/pprof/symbol", admin(pprof.Symbol))
	mux.Handle("/debug/pprof/trace", admin(pprof.Trace))

	mux.Handle("GET /api/v1/whoami", agent(a.whoami))
	mux.Handle("GET /api/v1/registrations", supervisor(a.registrations))
	mux.Handle("GET /api/v1/bans", supervisor(a.bans))
	mux.Handle("DELETE /api/v1/bans/{ip}", admin(a.unban))
	mux.Handle("GET /api/v1/extensions", supervisor(a.listExtensions))
	mux.Handle("POST /api/v1/extensions", admin(a.addExtension))
	mux.Handle("PATCH /api/v1/extensions/{number}", admin(a.changeExtension))
	mux.Handle("PUT /api/v1/extensions/{number}/password", admin(a.setPassword))
	mux.Handle("DELETE /api/v1/extensions/{number}", admin(a.removeExtension))
	mux.Handle("GET /api/v1/events", a.authQueryToken(http.HandlerFunc(a.events)))
	mux.Handle("GET /api/v1/cdrs", supervisor(a.listCDRs))
	mux.Handle("GET /api/v1/trunks", supervisor(a.trunks))
	mux.Handle("GET /api/v1/voicemails", supervisor(a.voicemails))
	a.acdRoutes(mux)
	a.conferenceRoutes(mux)
	a.parkedRoutes(mux)
	a.monitorRoutes(mux)
	a.recordingRoutes(mux)
	mux.Handle("/api/", a.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no API endpoint %s %s", r.Method, r.URL.Path))
	})))
	return mux
}

type api struct{ d Deps }

type principalKey struct{}

// auth requires "Authorization: Bearer <token>".
func (a *api) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchd"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing bearer token (Authorization: Bearer <token>)"))
			return
		}
		p, err := a.d.Tokens.CheckToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				a.d.Logger.Error("token_check_failed", "error", err)
				writeError(w, http.StatusInternalServerError, errors.New("token check failed"))
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchd", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, errors.New("invalid token"))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func (a *api) whoami(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, r.Context().Value(principalKey{}))
}

func (a *api) registrations(w http.ResponseWriter, r *http.Request) {
	regs := a.d.Live.Registrations()
	if aor := r.URL.Query().Get("aor"); aor != "" {
		filtered := regs[:0]
		for _, g := range regs {
			if g.AOR == aor {
				filtered = append(filtered, g)
			}
		}
		regs = filtered
	}
	writeJSON(w, http.StatusOK, map[string]any{"registrations": nonNil(regs)})
}

func (a *api) bans(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"bans": nonNil(a.d.Live.Bans())})
}

func (a *api) unban(w http.ResponseWriter, r *http.Request) {
	known, err := a.d.Live.Unban(r.PathValue("ip"))
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if !known {
		writeError(w, http.StatusNotFound, fmt.Errorf("%s is not banned", r.PathValue("ip")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) listExtensions(w http.ResponseWriter, r *http.Request) {
	exts, err := a.d.Extensions.ListExtensions(r.Context())
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"extensions": nonNil(exts)})
}

func (a *api) addExtension(w http.ResponseWriter, r *http.Request) {
	var in NewExtension
	if !readJSON(w, r, &in) {
		return
	}
	if err := a.d.Extensions.AddExtension(r.Context(), in); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"number": in.Number})
}

// changeExtension answers PATCH /api/v1/extensions/{number} with 204.
func (a *api) changeExtension(w http.ResponseWriter, r *http.Request) {
	var in ExtensionChange
	if !readJSON(w, r, &in) {
		return
	}
	if in.Empty() {
		writeError(w, http.StatusBadRequest, errors.New("nothing to change: give class, caller_id or privacy"))
		return
	}
	if err := a.d.Extensions.ChangeExtension(r.Context(), r.PathValue("number"), in); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) setPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if err := a.d.Extensions.SetExtensionPassword(r.Context(), r.PathValue("number"), in.Password); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) removeExtension(w http.ResponseWriter, r *http.Request) {
	if err := a.d.Extensions.RemoveExtension(r.Context(), r.PathValue("number")); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
