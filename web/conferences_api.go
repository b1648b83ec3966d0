package web

import (
	"fmt"
	"net/http"
)

// MuteBody is the body of POST
// /api/v1/conferences/{room}/participants/{call_id}/mute: true mutes the
// participant (the others stop hearing them), false unmutes them.
type MuteBody struct {
	Muted *bool `json:"muted"`
}

// validate checks a mute body: muted is required.
func (b MuteBody) validate() error {
	if b.Muted == nil {
		return fmt.Errorf("%w: muted missing: give true or false", ErrInvalid)
	}
	return nil
}

// conferenceRoutes registers the conference endpoints on mux. Every one
// needs the supervisor role; without Conferences they answer 503.
func (a *api) conferenceRoutes(mux *http.ServeMux) {
	with := func(h http.HandlerFunc) http.Handler {
		return a.needs(RoleSupervisor, a.d.Conferences != nil, "conferences are not available", h)
	}
	mux.Handle("GET /api/v1/conferences", with(a.conferences))
	mux.Handle("POST /api/v1/conferences/{room}/participants/{call_id}/kick", with(a.kickParticipant))
	mux.Handle("POST /api/v1/conferences/{room}/participants/{call_id}/mute", with(a.muteParticipant))
}

// conferences answers GET /api/v1/conferences with {"conferences": [...]};
// a room without participants has "participants": [].
func (a *api) conferences(w http.ResponseWriter, r *http.Request) {
	list, err := a.d.Conferences.ListConferences(r.Context())
	if err != nil {
		a.failed(w, "conference_list_failed", err)
		return
	}
	out := make([]Conference, 0, len(list))
	for _, c := range list {
		c.Participants = nonNil(c.Participants)
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"conferences": out})
}

// kickParticipant answers POST
// /api/v1/conferences/{room}/participants/{call_id}/kick with 204.
func (a *api) kickParticipant(w http.ResponseWriter, r *http.Request) {
	if err := a.d.Conferences.Kick(r.Context(), r.PathValue("room"), r.PathValue("call_id")); err != nil {
		a.failed(w, "conference_kick_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// muteParticipant answers POST
// /api/v1/conferences/{room}/participants/{call_id}/mute (a MuteBody) with
// 204.
func (a *api) muteParticipant(w http.ResponseWriter, r *http.Request) {
	var in MuteBody
	if !readJSON(w, r, &in) {
		return
	}
	if err := in.validate(); err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	if err := a.d.Conferences.Mute(r.Context(), r.PathValue("room"), r.PathValue("call_id"), *in.Muted); err != nil {
		a.failed(w, "conference_mute_failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
