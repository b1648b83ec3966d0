package web

import (
	"context"
	"net/http"
)

// Recordings are the running switch's call recorders as the API drives
// them (the recordings themselves are listed from the database: `switchd
// recordings list`). Implementations wrap ErrNotFound for a call that is
// not being recorded.
type Recordings interface {
	// PauseRecording pauses (true) or resumes (false) a call's recording;
	// the paused time is written as silence and noted in the index.
	PauseRecording(ctx context.Context, callID string, pause bool) error
}

// recordingRoutes registers POST /api/v1/recordings/{call_id}/pause and
// /resume (supervisor; agents pause their own calls through their
// desktop later). Without Recordings they answer 503.
func (a *api) recordingRoutes(mux *http.ServeMux) {
	for _, x := range []struct {
		path  string
		pause bool
	}{{"pause", true}, {"resume", false}} {
		mux.Handle("POST /api/v1/recordings/{call_id}/"+x.path, a.needs(RoleSupervisor, a.d.Recordings != nil, "recordings are not available", func(w http.ResponseWriter, r *http.Request) {
			if err := a.d.Recordings.PauseRecording(r.Context(), r.PathValue("call_id"), x.pause); err != nil {
				a.failed(w, "recording_pause_failed", err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	}
}
