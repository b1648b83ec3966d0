package web

import (
	"net/http"
	"time"
)

// Trunk is a carrier trunk as the API shows it: its configuration in
// brief, its registration with the carrier and the calls it carries now.
type Trunk struct {
	Name        string `json:"name"`
	Address     string `json:"address"` // carrier host:port
	Transport   string `json:"transport"`
	Channels    int    `json:"channels"`     // calls on the trunk now
	MaxChannels int    `json:"max_channels"` // 0 = unlimited
	// Registration is "" when switchd does not register with this
	// carrier, else registering, registered, failed or unregistered.
	Registration     string    `json:"registration,omitempty"`
	RegisteredUntil  time.Time `json:"registered_until,omitzero"`
	LastError        string    `json:"last_error,omitempty"`
	LastAttempt      time.Time `json:"last_attempt,omitzero"`
	LastSuccess      time.Time `json:"last_success,omitzero"`
	RegisterFailures int       `json:"register_failures,omitempty"`
}

// Trunks reports the carrier trunks.
type Trunks interface {
	Trunks() []Trunk
}

// trunks is GET /api/v1/trunks.
func (a *api) trunks(w http.ResponseWriter, r *http.Request) {
	if a.d.Trunks == nil {
		writeJSON(w, http.StatusOK, map[string]any{"trunks": []Trunk{}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"trunks": nonNil(a.d.Trunks.Trunks())})
}
