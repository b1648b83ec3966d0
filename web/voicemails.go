package web

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Voicemail is a message a caller left, as the API shows it.
type Voicemail struct {
	ID         int64     `json:"id"`
	CallID     string    `json:"call_id"` // the call's CDR
	Caller     string    `json:"caller"`
	Box        string    `json:"box"`
	File       string    `json:"file"` // WAV, 8 kHz mono
	DurationMS int64     `json:"duration_ms"`
	At         time.Time `json:"at"`
}

// Voicemails lists messages.
type Voicemails interface {
	Voicemails(ctx context.Context, box string) ([]Voicemail, error)
}

// voicemails is GET /api/v1/voicemails[?box=B].
func (a *api) voicemails(w http.ResponseWriter, r *http.Request) {
	if a.d.Voicemails == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("voicemail is not available"))
		return
	}
	list, err := a.d.Voicemails.Voicemails(r.Context(), r.URL.Query().Get("box"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"voicemails": nonNil(list)})
}
