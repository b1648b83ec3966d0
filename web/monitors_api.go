package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Supervisor modes on a live call.
const (
	MonitorListen  = "listen"  // the supervisor hears both sides; nobody hears them
	MonitorWhisper = "whisper" // the agent hears the supervisor; the customer does not
	MonitorBarge   = "barge"   // everyone hears everyone
)

// Limits and window of GET /api/v1/monitors/audit.
const (
	DefaultMonitorAuditLimit = 1000
	MaxMonitorAuditLimit     = 10000
	// DefaultMonitorAuditWindow is how far back the audit log is read
	// without since.
	DefaultMonitorAuditWindow = 24 * time.Hour
)

// MonitorModeBody is the body of POST /api/v1/monitors/{call_id}/mode.
type MonitorModeBody struct {
	Mode string `json:"mode"`
}

// validate checks a mode body: mode is listen, whisper or barge.
func (b MonitorModeBody) validate() error {
	switch b.Mode {
	case MonitorListen, MonitorWhisper, MonitorBarge:
		return nil
	case "":
		return fmt.Errorf("%w: mode missing: give listen, whisper or barge", ErrInvalid)
	default:
		return fmt.Errorf("%w: mode %q is not listen, whisper or barge", ErrInvalid, b.Mode)
	}
}

// monitorAuditQuery is what GET /api/v1/monitors/audit asks for.
type monitorAuditQuery struct {
	Since  time.Time
	CallID string // "" for every call
	Limit  int
}

// monitorRoutes registers the supervisor-mode endpoints on mux. Every one
// needs the supervisor role; without Monitors they answer 503.
func (a *api) monitorRoutes(mux *http.ServeMux) {
	with := func(h http.HandlerFunc) http.Handler {
		return a.needs(RoleSupervisor, a.d.Monitors != nil, "supervisor monitoring is not available", h)
	}
	mux.Handle("GET /api/v1/monitors", with(a.monitors))
	mux.Handle("GET /api/v1/monitors/audit", with(a.monitorAudit))
	mux.Handle("POST /api/v1/monitors/{call_id}/mode", with(a.monitorMode))
	mux.Handle("POST /api/v1/monitors/{call_id}/stop", with(a.stopMonitor))
}

// principalName is the API user making the request ("" when there is
// none), recorded as who changed a session.
func principalName(r *http.Request) string {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return p.Name
}

// monitors answers GET /api/v1/monitors with {"monitors": [...]}.
func (a *api) monitors(w http.ResponseWriter, r *http.Request) {
	list, err := a.d.Monitors.ListMonitors(r.Context())
	if err != nil {
		a.failed(w, "monitor_list_failed", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"monitors": nonNil(list)})
}

// monitorMode answers POST /api/v1/monitors/{call_id}/mode (a
// MonitorModeBody) with 204.
func (a *api) monitorMode(w http.ResponseWriter, r *http.Request) {
	var in MonitorModeBody
	if !readJSON(w, r, &in) {
		return
	}
	if err := in.validate(); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if err := a.d.Monitors.SetMonitorMode(r.Context(), r.PathValue("call_id"), in.Mode, principalName(r)); err != nil {
		a.failed(w, "monitor_mode_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// stopMonitor answers POST /api/v1/monitors/{call_id}/stop with 204.
func (a *api) stopMonitor(w http.ResponseWriter, r *http.Request) {
	if err := a.d.Monitors.StopMonitor(r.Context(), r.PathValue("call_id"), principalName(r)); err != nil {
		a.failed(w, "monitor_stop_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// monitorAudit answers GET /api/v1/monitors/audit?since=&call_id=&limit=
// with {"audit": [...]}, oldest first.
func (a *api) monitorAudit(w http.ResponseWriter, r *http.Request) {
	q, err := parseMonitorAuditQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	list, err := a.d.Monitors.MonitorAudit(r.Context(), q.Since, q.CallID, q.Limit)
	if err != nil {
		a.failed(w, "monitor_audit_failed", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": nonNil(list)})
}

// parseMonitorAuditQuery reads the audit query: since as ParseTime takes
// it (default DefaultMonitorAuditWindow before now), limit 1..
// MaxMonitorAuditLimit. The log is read up to now: until is refused.
func parseMonitorAuditQuery(v url.Values, now time.Time) (monitorAuditQuery, error) {
	if v.Has("until") {
		return monitorAuditQuery{}, fmt.Errorf("%w: until: the audit log is read from since up to now", ErrInvalid)
	}
	q := monitorAuditQuery{CallID: v.Get("call_id")}
	var err error
	if q.Since, _, q.Limit, err = parseWindow(v, now, DefaultMonitorAuditLimit, MaxMonitorAuditLimit); err != nil {
		return q, err
	}
	if v.Get("since") == "" {
		q.Since = now.Add(-DefaultMonitorAuditWindow)
	}
	return q, nil
}
