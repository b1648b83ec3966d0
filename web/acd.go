package web

import (
	"context"
	"time"

	"github.com/switchd/switchd/acd"
	callpkg "github.com/switchd/switchd/call"
)

// ACD is the running switch's contact distributor as the API drives it.
// Every change goes through the server's single owner of agent state (the
// acd.Engine), never straight to SQL. Implementations wrap ErrNotFound
// (unknown agent, contact or queue), ErrConflict (a transition the agent's
// state does not allow) and ErrInvalid.
type ACD interface {
	// Status is the queues and agents now.
	Status(ctx context.Context) (acd.Status, error)
	// Stats are the queues' metrics (docs/ACD_METRICS.md) over the events
	// since the given time.
	Stats(ctx context.Context, since time.Time) ([]acd.QueueStats, error)
	// SetAgentState changes an agent's state: AgentAvailable (log in, or
	// end a pause or wrap-up), AgentNotReady (with a reason code),
	// AgentLoggedOut.
	SetAgentState(ctx context.Context, agent string, state AgentStateChange, reason string) error
	// MoveContact puts a waiting contact in another queue.
	MoveContact(ctx context.Context, contact callpkg.ID, queue string) error
	// SetContactPriority changes a waiting contact's priority.
	SetContactPriority(ctx context.Context, contact callpkg.ID, priority int) error
	// SyncAgent re-reads an agent's profile from the store into the
	// running engine (after the CLI changed or removed it).
	SyncAgent(ctx context.Context, agent string) error
	// Events are the stored queue and agent events (the routing trace),
	// oldest first.
	Events(ctx context.Context, q QueueEventQuery) ([]callpkg.Event, error)
}

// AgentStateChange is a state an agent can be put in.
type AgentStateChange string

// The states SetAgentState takes.
const (
	AgentAvailable AgentStateChange = "available"
	AgentNotReady  AgentStateChange = "not_ready"
	AgentLoggedOut AgentStateChange = "logged_out"
)

// QueueEventQuery selects stored queue events; zero fields do not filter.
type QueueEventQuery struct {
	CallID string
	Queue  string
	Agent  string
	Since  time.Time
	Until  time.Time
	Limit  int
}
