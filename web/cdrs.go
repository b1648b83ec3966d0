package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// CDR is a call detail record as the API shows it.
type CDR struct {
	ID         string        `json:"id"`
	Medium     string        `json:"medium,omitempty"`
	Direction  string        `json:"direction,omitempty"`
	Caller     string        `json:"caller"`
	CallerName string        `json:"caller_name,omitempty"`
	Callee     string        `json:"callee"`
	CalleeName string        `json:"callee_name,omitempty"`
	Start      time.Time     `json:"start"`
	Answer     time.Time     `json:"answer,omitzero"`
	End        time.Time     `json:"end,omitzero"` // absent while the call is in progress
	DurationMS int64         `json:"duration_ms"`
	BillableMS int64         `json:"billable_ms"`
	Cause      string        `json:"cause,omitempty"`
	HangupSide string        `json:"hangup_side,omitempty"`
	CodecA     string        `json:"codec_a,omitempty"`
	CodecB     string        `json:"codec_b,omitempty"`
	QualityA   *MediaQuality `json:"quality_a,omitempty"`
	QualityB   *MediaQuality `json:"quality_b,omitempty"`
	Trunk      string        `json:"trunk,omitempty"` // carrier trunk; absent between extensions
	DID        string        `json:"did,omitempty"`   // the number dialled as matched
	Route      string        `json:"route,omitempty"` // how the call was routed, for people
}

// MediaQuality is one leg's received RTP quality (RFC 3550 §6.4.1).
type MediaQuality struct {
	PacketsLost int64   `json:"packets_lost"`
	JitterMS    float64 `json:"jitter_ms"`
}

// CDRQuery selects CDRs; zero fields do not filter.
type CDRQuery struct {
	Since  time.Time // start at or after
	Until  time.Time // start before
	Caller string
	Callee string
	Limit  int // 1 … MaxCDRLimit
}

// CDRs reads call detail records, newest first.
type CDRs interface {
	ListCDRs(ctx context.Context, q CDRQuery) ([]CDR, error)
}

// Limits of GET /api/v1/cdrs.
const (
	DefaultCDRLimit = 100
	MaxCDRLimit     = 1000
)

// listCDRs answers GET /api/v1/cdrs?since=&until=&caller=&callee=&limit=
// with {"cdrs": [...]}, newest first. since and until take RFC 3339 times,
// dates or durations before now (ParseTime).
func (a *api) listCDRs(w http.ResponseWriter, r *http.Request) {
	if a.d.CDRs == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("call detail records are not available"))
		return
	}
	q, err := parseCDRQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	list, err := a.d.CDRs.ListCDRs(r.Context(), q)
	if err != nil {
		a.d.Logger.Error("cdr_list_failed", "error", err)
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cdrs": nonNil(list)})
}

func parseCDRQuery(v url.Values, now time.Time) (CDRQuery, error) {
	q := CDRQuery{Caller: v.Get("caller"), Callee: v.Get("callee")}
	var err error
	q.Since, q.Until, q.Limit, err = parseWindow(v, now, DefaultCDRLimit, MaxCDRLimit)
	return q, err
}
