package acd

import (
	"fmt"
	"time"

	"github.com/switchd/switchd/call"
)

// AgentID identifies an agent (the user's ID in the store).
type AgentID string

// Agent is an agent's profile, as the store holds it. The engine takes a
// copy (PutAgent); a changed profile applies from the next routing decision.
type Agent struct {
	ID   AgentID
	Name string
	// Devices are what the wiring rings for an offer (extension numbers,
	// a WebRTC client ID); opaque to the engine.
	Devices []string
	// Skills maps a skill name to a proficiency 1–5.
	Skills map[string]int
	// Capacity is how many contacts of each medium the agent handles at
	// once (offers ringing count); nil means one voice contact. A medium
	// absent from a non-nil map has capacity 0.
	Capacity map[call.Medium]int
	// Queues are the agent's memberships.
	Queues []Membership
	// WrapUp, when set, overrides the queue's wrap-up time.
	WrapUp *time.Duration
}

// Membership places an agent in a queue.
type Membership struct {
	Queue string
	// Penalty orders agents within the queue: only the eligible agents
	// with the lowest penalty are offered a contact (0 is best).
	Penalty int
	// Priority orders the agent's queues: an agent is offered a contact
	// of a queue only while no queue where their priority is higher has a
	// contact they could take (higher is served first).
	Priority int
}

// validate reports the first problem of a profile.
func (a *Agent) validate() error {
	if a.ID == "" {
		return fmt.Errorf("%w: empty ID", ErrInvalidAgent)
	}
	for name, p := range a.Skills {
		if !skillRE.MatchString(name) || p < MinProficiency || p > MaxProficiency {
			return fmt.Errorf("%w: agent %s: skill %q proficiency %d (names lowercase, proficiency %d..%d)", ErrInvalidAgent, a.ID, name, p, MinProficiency, MaxProficiency)
		}
	}
	for m, n := range a.Capacity {
		if m == call.MediumUnknown || int(m) >= numMedia || n < 0 {
			return fmt.Errorf("%w: agent %s: capacity %d for medium %s", ErrInvalidAgent, a.ID, n, m)
		}
	}
	seen := map[string]bool{}
	for _, m := range a.Queues {
		if seen[m.Queue] || m.Queue == "" {
			return fmt.Errorf("%w: agent %s: queue %q listed twice or empty", ErrInvalidAgent, a.ID, m.Queue)
		}
		seen[m.Queue] = true
	}
	if a.WrapUp != nil && *a.WrapUp < 0 {
		return fmt.Errorf("%w: agent %s: negative wrap-up", ErrInvalidAgent, a.ID)
	}
	return nil
}

// numMedia bounds call.Medium values the engine tracks capacity for.
const numMedia = 4

// capacity returns the per-medium capacity array of a profile.
func (a *Agent) capacity() [numMedia]int {
	var c [numMedia]int
	if a.Capacity == nil {
		c[call.MediumVoice] = 1
		return c
	}
	for m, n := range a.Capacity {
		if int(m) < numMedia {
			c[m] = n
		}
	}
	return c
}

// AgentStatus is an agent's state as Engine.Status reports it.
type AgentStatus struct {
	ID     AgentID
	State  AgentState
	Reason Reason // when not ready (or a pause pending while busy)
	// Load counts contacts held and offers ringing per medium (a
	// non-queue call counts as a voice contact).
	Load map[call.Medium]int
	// Since is when the agent became idle (longest-idle uses it).
	IdleSince time.Time
	// WrapUpUntil is when the wrap-up ends (zero when not in wrap-up).
	WrapUpUntil time.Time
	// Misses counts offers missed in a row (RONA).
	Misses int
}
