package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/switchd/switchd/acd"
	callpkg "github.com/switchd/switchd/call"
)

// QueueStatus is a queue's live state as GET /api/v1/queues shows it.
// Durations are seconds.
type QueueStatus struct {
	Name         string  `json:"name"`
	Waiting      int     `json:"waiting"`
	LongestWaitS float64 `json:"longest_wait_s"`
	Members      int     `json:"members"`
	Present      int     `json:"present"` // logged in and not not-ready
	Ready        int     `json:"ready"`   // taking offers now
	// EstimatedWaitS is the expected wait of a new voice contact; null
	// when the queue has too little history to tell.
	EstimatedWaitS *float64 `json:"estimated_wait_s"`
	Retired        bool     `json:"retired"` // removed by a reload; takes no new contacts
}

// QueueMetrics are a queue's metrics (docs/ACD_METRICS.md) as GET
// /api/v1/queues/stats shows them. Durations are seconds, rates 0..1.
type QueueMetrics struct {
	Queue          string `json:"queue"`
	Joined         int    `json:"joined"`
	Answered       int    `json:"answered"`
	AnsweredInSL   int    `json:"answered_in_sl"`
	Abandoned      int    `json:"abandoned"`
	ShortAbandoned int    `json:"short_abandoned"`
	Overflowed     int    `json:"overflowed"`
	Cancelled      int    `json:"cancelled"`
	MovedOut       int    `json:"moved_out"`
	Lost           int    `json:"lost"`
	Completed      int    `json:"completed"`
	// ServiceLevel and AbandonRate are null while no contact counts
	// towards them (none answered or abandoned after the short-abandon
	// threshold).
	ServiceLevel     *float64 `json:"service_level"`
	ASAS             float64  `json:"asa_s"`
	AHTS             float64  `json:"aht_s"`
	AvgTalkS         float64  `json:"avg_talk_s"`
	AvgHoldS         float64  `json:"avg_hold_s"`
	AvgWrapS         float64  `json:"avg_wrap_s"`
	AbandonRate      *float64 `json:"abandon_rate"`
	Waiting          int      `json:"waiting"`
	LongestWaitingS  float64  `json:"longest_waiting_s"`
	LongestAnsweredS float64  `json:"longest_answered_s"`
}

// QueueStatsReport is the answer of GET /api/v1/queues/stats.
type QueueStatsReport struct {
	Since  time.Time      `json:"since"`
	Queues []QueueMetrics `json:"queues"`
}

// AgentStatus is an agent's live state as GET /api/v1/agents shows it.
type AgentStatus struct {
	ID     string `json:"id"`
	State  string `json:"state"`            // logged_out, available, reserved, busy, wrap_up, not_ready
	Reason string `json:"reason,omitempty"` // the not-ready code
	// Load counts contacts held and offers ringing per medium ("voice").
	Load        map[string]int `json:"load"`
	IdleSince   time.Time      `json:"idle_since,omitzero"`
	WrapUpUntil time.Time      `json:"wrap_up_until,omitzero"`
	Misses      int            `json:"misses"` // offers missed in a row
}

// QueueEvent is one stored queue or agent event, as the routing trace
// (GET /api/v1/queues/events) shows it. Data["reason"] says in words why
// it happened.
type QueueEvent struct {
	Time   time.Time         `json:"time"`
	Type   string            `json:"type"`
	CallID string            `json:"call_id,omitempty"`
	Caller callpkg.Party     `json:"caller,omitzero"`
	Cause  string            `json:"cause,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// AgentStateBody is the body of POST /api/v1/agents/{id}/state. Reason is
// the not-ready code (break, lunch, training or a site's own), required
// for not_ready.
type AgentStateBody struct {
	State  AgentStateChange `json:"state"`
	Reason string           `json:"reason,omitempty"`
}

// MoveBody is the body of POST /api/v1/queues/contacts/{call_id}/move.
type MoveBody struct {
	Queue string `json:"queue"`
}

// PriorityBody is the body of POST /api/v1/queues/contacts/{call_id}/priority.
type PriorityBody struct {
	Priority *int `json:"priority"`
}

// Limits of GET /api/v1/queues/events.
const (
	DefaultQueueEventLimit = 1000
	MaxQueueEventLimit     = 10000
)

// reasonRE is a not-ready code: snake_case, as acd.Reason.
var reasonRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// validate checks a state change body.
func (b AgentStateBody) validate() error {
	switch b.State {
	case AgentAvailable, AgentLoggedOut:
	case AgentNotReady:
		if b.Reason == "" {
			return fmt.Errorf("%w: not_ready needs a reason code (break, lunch, training…)", ErrInvalid)
		}
	case "":
		return fmt.Errorf("%w: state missing: give available, not_ready or logged_out", ErrInvalid)
	default:
		return fmt.Errorf("%w: state %q is not available, not_ready or logged_out", ErrInvalid, b.State)
	}
	if b.Reason != "" && !reasonRE.MatchString(b.Reason) {
		return fmt.Errorf("%w: reason %q is not a snake_case code such as break or lunch", ErrInvalid, b.Reason)
	}
	return nil
}

func (b MoveBody) validate() error {
	if b.Queue == "" {
		return fmt.Errorf("%w: queue missing", ErrInvalid)
	}
	return nil
}

func (b PriorityBody) validate() error {
	if b.Priority == nil {
		return fmt.Errorf("%w: priority missing", ErrInvalid)
	}
	return nil
}

// acdRoutes registers the ACD endpoints on mux.
func (a *api) acdRoutes(mux *http.ServeMux) {
	with := func(role string, h http.HandlerFunc) http.Handler {
		return a.needs(role, a.d.ACD != nil, "the ACD is not available", h)
	}
	mux.Handle("GET /api/v1/queues", with(RoleSupervisor, a.queues))
	mux.Handle("GET /api/v1/queues/stats", with(RoleSupervisor, a.queueStats))
	mux.Handle("GET /api/v1/queues/events", with(RoleSupervisor, a.queueEvents))
	mux.Handle("POST /api/v1/queues/contacts/{call_id}/move", with(RoleSupervisor, a.moveContact))
	mux.Handle("POST /api/v1/queues/contacts/{call_id}/priority", with(RoleSupervisor, a.contactPriority))
	mux.Handle("GET /api/v1/agents", with(RoleSupervisor, a.agents))
	mux.Handle("GET /api/v1/agents/{id}", with(RoleAgent, a.agentStatus))
	mux.Handle("POST /api/v1/agents/{id}/state", with(RoleAgent, a.agentState))
	mux.Handle("POST /api/v1/agents/{id}/sync", with(RoleAdmin, a.syncAgent))
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 {
	return float64(d.Milliseconds()) / 1000
}

func queueStatusJSON(q acd.QueueStatus) QueueStatus {
	out := QueueStatus{Name: q.Name, Waiting: q.Waiting, LongestWaitS: seconds(q.LongestWait), Members: q.Members,
		Present: q.Present, Ready: q.Ready, Retired: q.Retired}
	if q.Known {
		s := seconds(q.EstimatedWait)
		out.EstimatedWaitS = &s
	}
	return out
}

func queueMetricsJSON(q acd.QueueStats) QueueMetrics {
	out := QueueMetrics{
		Queue: q.Queue, Joined: q.Joined, Answered: q.Answered, AnsweredInSL: q.AnsweredInSL,
		Abandoned: q.Abandoned, ShortAbandoned: q.ShortAbandoned, Overflowed: q.Overflowed,
		Cancelled: q.Cancelled, MovedOut: q.MovedOut, Lost: q.Lost, Completed: q.Completed,
		ASAS: seconds(q.ASA), AHTS: seconds(q.AHT), AvgTalkS: seconds(q.AvgTalk), AvgHoldS: seconds(q.AvgHold),
		AvgWrapS: seconds(q.AvgWrap), Waiting: q.Waiting, LongestWaitingS: seconds(q.LongestWaiting),
		LongestAnsweredS: seconds(q.LongestAnswered),
	}
	if q.SLKnown {
		sl, ar := q.ServiceLevel, q.AbandonRate
		out.ServiceLevel, out.AbandonRate = &sl, &ar
	}
	return out
}

func agentStatusJSON(s acd.AgentStatus) AgentStatus {
	out := AgentStatus{ID: string(s.ID), State: s.State.String(), Reason: string(s.Reason), Load: map[string]int{},
		IdleSince: s.IdleSince, WrapUpUntil: s.WrapUpUntil, Misses: s.Misses}
	for m, n := range s.Load {
		out.Load[m.String()] = n
	}
	return out
}

func queueEventJSON(e callpkg.Event) QueueEvent {
	out := QueueEvent{Time: e.Time, Type: string(e.Type), CallID: string(e.CallID), Caller: e.Caller, Data: e.Data}
	if e.Cause != callpkg.CauseUnknown {
		out.Cause = e.Cause.String()
	}
	return out
}

// queues answers GET /api/v1/queues with {"queues": [...]}.
func (a *api) queues(w http.ResponseWriter, r *http.Request) {
	st, err := a.d.ACD.Status(r.Context())
	if err != nil {
		a.failed(w, "acd_status_failed", err)
		return
	}
	out := make([]QueueStatus, 0, len(st.Queues))
	for _, q := range st.Queues {
		out = append(out, queueStatusJSON(q))
	}
	writeJSON(w, http.StatusOK, map[string]any{"queues": out})
}

// queueStats answers GET /api/v1/queues/stats?since=T with a
// QueueStatsReport; since (ParseTime) defaults to the start of today, UTC.
func (a *api) queueStats(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	since := startOfDayUTC(now)
	if s := r.URL.Query().Get("since"); s != "" {
		var err error
		if since, err = ParseTime(s, now); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("%w: since: %w", ErrInvalid, err))
			return
		}
	}
	stats, err := a.d.ACD.Stats(r.Context(), since)
	if err != nil {
		a.failed(w, "acd_stats_failed", err)
		return
	}
	rep := QueueStatsReport{Since: since, Queues: make([]QueueMetrics, 0, len(stats))}
	for _, q := range stats {
		rep.Queues = append(rep.Queues, queueMetricsJSON(q))
	}
	writeJSON(w, http.StatusOK, rep)
}

func startOfDayUTC(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// queueEvents answers GET /api/v1/queues/events?call_id=&queue=&agent=&since=&until=&limit=
// with {"events": [...]}, oldest first.
func (a *api) queueEvents(w http.ResponseWriter, r *http.Request) {
	q, err := parseQueueEventQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	list, err := a.d.ACD.Events(r.Context(), q)
	if err != nil {
		a.failed(w, "acd_events_failed", err)
		return
	}
	out := make([]QueueEvent, 0, len(list))
	for _, e := range list {
		out = append(out, queueEventJSON(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func parseQueueEventQuery(v url.Values, now time.Time) (QueueEventQuery, error) {
	q := QueueEventQuery{CallID: v.Get("call_id"), Queue: v.Get("queue"), Agent: v.Get("agent")}
	var err error
	q.Since, q.Until, q.Limit, err = parseWindow(v, now, DefaultQueueEventLimit, MaxQueueEventLimit)
	return q, err
}

// moveContact answers POST /api/v1/queues/contacts/{call_id}/move with 204.
func (a *api) moveContact(w http.ResponseWriter, r *http.Request) {
	var in MoveBody
	if !readJSON(w, r, &in) {
		return
	}
	if err := in.validate(); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if err := a.d.ACD.MoveContact(r.Context(), callpkg.ID(r.PathValue("call_id")), in.Queue); err != nil {
		a.failed(w, "acd_move_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// contactPriority answers POST /api/v1/queues/contacts/{call_id}/priority with 204.
func (a *api) contactPriority(w http.ResponseWriter, r *http.Request) {
	var in PriorityBody
	if !readJSON(w, r, &in) {
		return
	}
	if err := in.validate(); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if err := a.d.ACD.SetContactPriority(r.Context(), callpkg.ID(r.PathValue("call_id")), *in.Priority); err != nil {
		a.failed(w, "acd_priority_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// agents answers GET /api/v1/agents with {"agents": [...]}.
func (a *api) agents(w http.ResponseWriter, r *http.Request) {
	st, err := a.d.ACD.Status(r.Context())
	if err != nil {
		a.failed(w, "acd_status_failed", err)
		return
	}
	out := make([]AgentStatus, 0, len(st.Agents))
	for _, s := range st.Agents {
		out = append(out, agentStatusJSON(s))
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
}

// selfOrSupervisor lets an agent act on their own ID only (their principal
// name is their agent ID); supervisors and admins on any. It answers 403
// and returns false otherwise.
func selfOrSupervisor(w http.ResponseWriter, r *http.Request, id string) bool {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	if p.Name == id || roleRank(p.Role) >= roleRank(RoleSupervisor) {
		return true
	}
	writeError(w, http.StatusForbidden, fmt.Errorf("agent %s may act only on their own agent (this needs the supervisor role)", p.Name))
	return false
}

// agentStatus answers GET /api/v1/agents/{id} with an AgentStatus.
func (a *api) agentStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !selfOrSupervisor(w, r, id) {
		return
	}
	st, err := a.d.ACD.Status(r.Context())
	if err != nil {
		a.failed(w, "acd_status_failed", err)
		return
	}
	for _, s := range st.Agents {
		if string(s.ID) == id {
			writeJSON(w, http.StatusOK, agentStatusJSON(s))
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Errorf("%w: agent %s", ErrNotFound, id))
}

// agentState answers POST /api/v1/agents/{id}/state with 204.
func (a *api) agentState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !selfOrSupervisor(w, r, id) {
		return
	}
	var in AgentStateBody
	if !readJSON(w, r, &in) {
		return
	}
	if err := in.validate(); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if err := a.d.ACD.SetAgentState(r.Context(), id, in.State, in.Reason); err != nil {
		a.failed(w, "acd_agent_state_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// syncAgent answers POST /api/v1/agents/{id}/sync with 204.
func (a *api) syncAgent(w http.ResponseWriter, r *http.Request) {
	if err := a.d.ACD.SyncAgent(r.Context(), r.PathValue("id")); err != nil {
		a.failed(w, "acd_sync_agent_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// failed answers an error of a live operation with its status (statusOf),
// logging server errors under msg without showing their details.
func (a *api) failed(w http.ResponseWriter, msg string, err error) {
	status := statusOf(err)
	if status >= 500 && a.d.Logger != nil {
		a.d.Logger.Error(msg, "error", err)
	}
	writeError(w, status, err)
}
