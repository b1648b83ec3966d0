package web

import (
	"context"
	"time"
)

// Conferences are the running switch's conference rooms as the API drives
// them. Implementations wrap ErrNotFound for an unknown room or
// participant.
type Conferences interface {
	// ListConferences returns every configured room with the participants
	// in it now.
	ListConferences(ctx context.Context) ([]Conference, error)
	// Kick hangs a participant up.
	Kick(ctx context.Context, room, callID string) error
	// Mute mutes or unmutes a participant (the others stop hearing them).
	Mute(ctx context.Context, room, callID string, muted bool) error
}

// Conference is one room.
type Conference struct {
	Name         string                  `json:"name"`
	Number       string                  `json:"number"`
	PIN          bool                    `json:"pin"` // a PIN is asked (never shown)
	Max          int                     `json:"max_participants"`
	Participants []ConferenceParticipant `json:"participants"`
}

// ConferenceParticipant is a call in a room.
type ConferenceParticipant struct {
	CallID string    `json:"call_id"`
	Caller string    `json:"caller"`
	Name   string    `json:"name,omitempty"`
	Joined time.Time `json:"joined"`
	Muted  bool      `json:"muted"`
}
