package acd

import (
	"context"
	"time"

	"github.com/switchd/switchd/call"
)

// Connector is what the engine needs from the wiring: it rings agents and
// moves contacts the engine lets go. The wiring implements it with sip, rtc
// and chat. The engine calls it from one goroutine, in order, never under
// its state; a method may call the Engine's operations (OfferRejected from
// inside Offer is fine), and should not block long: Offer starts ringing
// and returns, and the result comes back through OfferAccepted,
// OfferRejected or OfferTimedOut.
type Connector interface {
	// Offer rings the agent's devices with the contact for at most
	// Offer.Timeout. The engine expires the offer itself at the timeout
	// (then calls Withdraw), so a lost result never strands a contact.
	Offer(ctx context.Context, o Offer)
	// Withdraw stops an offer that rings: another agent took the contact
	// (ring-all), the caller hung up, the offer timed out, or the agent
	// logged out.
	Withdraw(ctx context.Context, w Withdrawal)
	// Overflow hands over a contact that left its queue for a target
	// outside the engine (flow, voicemail, extension). A zero Target means
	// nowhere to go: hang up with cause congestion.
	Overflow(ctx context.Context, x Exit)
	// Announce tells a waiting contact its position and estimated wait
	// (every announce_interval).
	Announce(ctx context.Context, a Announcement)
}

// Offer asks the wiring to ring an agent with a contact.
type Offer struct {
	Contact    call.ID
	Medium     call.Medium
	Caller     call.Party
	Agent      AgentID
	Devices    []string
	Queue      string
	Timeout    time.Duration
	Attributes map[string]string // the contact's, for the screen pop; do not modify
}

// Withdrawal stops an offer; Reason is answered_elsewhere, abandoned,
// timeout, logged_out, cancelled or moved.
type Withdrawal struct {
	Contact call.ID
	Agent   AgentID
	Reason  string
}

// Exit hands a contact to a target outside the engine.
type Exit struct {
	Contact call.ID
	Medium  call.Medium
	Queue   string // the queue it left
	Target  Target
	Reason  string // max_wait, full, empty, no_target
}

// Announcement is what a waiting contact is told.
type Announcement struct {
	Contact  call.ID
	Queue    string
	Position int // 1 = next
	Waiting  int // contacts waiting in the queue
	// EstimatedWait is the expected time to answer (see
	// docs/ACD_METRICS.md); Known is false when no agent is present.
	EstimatedWait time.Duration
	Known         bool
	MusicOnHold   string
}

// Publisher receives the engine's events; *call.Bus implements it.
type Publisher interface {
	Publish(e call.Event) call.Event
}

var _ Publisher = (*call.Bus)(nil)
