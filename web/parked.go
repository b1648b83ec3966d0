package web

import (
	"context"
	"net/http"
	"time"
)

// Parked lists the calls waiting in park slots.
type Parked interface {
	// ParkedCalls returns the parked calls, by slot.
	ParkedCalls(ctx context.Context) ([]ParkedCall, error)
}

// ParkedCall is one call waiting in a park slot.
type ParkedCall struct {
	Slot     string    `json:"slot"`
	CallID   string    `json:"call_id"`
	Caller   string    `json:"caller"`
	ParkedBy string    `json:"parked_by"`
	Since    time.Time `json:"since"`
}

// parkedRoutes registers GET /api/v1/parked (supervisor role; 503
// without Parked).
func (a *api) parkedRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/parked", a.needs(RoleSupervisor, a.d.Parked != nil, "call park is not available", func(w http.ResponseWriter, r *http.Request) {
		list, err := a.d.Parked.ParkedCalls(r.Context())
		if err != nil {
			a.failed(w, "parked_list_failed", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"parked": nonNil(list)})
	}))
}
