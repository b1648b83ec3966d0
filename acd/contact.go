package acd

import (
	"time"

	"github.com/switchd/switchd/call"
)

// Contact is what Enqueue puts in a queue.
type Contact struct {
	ID     call.ID
	Medium call.Medium
	Caller call.Party
	Queue  string
	// Skills the contact needs beyond the queue's: skill → minimum
	// proficiency (SkillsFromNames reads the IVR's list of names).
	Skills map[string]int
	// Priority: higher is served first (the IVR gives 0..100).
	Priority int
	// Attributes are carried to the offer (screen pop); not interpreted.
	Attributes map[string]string
	// Since is when the contact first entered a queue, for one that
	// comes back (an agent transferred it to a queue): it keeps the wait
	// it has had — its place among contacts of its priority, its total
	// wait in events and its priority aging. Zero, or later than now: now.
	Since time.Time
}

// SkillsFromNames turns a list of skill names ("english") or name:min
// pairs ("billing:3") into a requirement; min defaults to 1 and is clamped
// to 1–5. Names are lowercased by the caller if needed.
func SkillsFromNames(names []string) map[string]int {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]int, len(names))
	for _, n := range names {
		name, lvl := n, MinProficiency
		for i := len(n) - 1; i > 0; i-- {
			if n[i] == ':' {
				v := 0
				ok := i+1 < len(n)
				for _, r := range n[i+1:] {
					if r < '0' || r > '9' || v > 10 {
						ok = false
						break
					}
					v = v*10 + int(r-'0')
				}
				if ok {
					name, lvl = n[:i], min(max(v, MinProficiency), MaxProficiency)
				}
				break
			}
		}
		if name != "" {
			m[name] = max(m[name], lvl)
		}
	}
	return m
}

// Position is where a contact stands in its queue.
type Position struct {
	Queue    string
	Position int // 1 = next; 0 when the contact was not queued (overflowed at once)
	Waiting  int
	// EstimatedWait and Known as in Announcement.
	EstimatedWait time.Duration
	Known         bool
	// Overflowed is set when the contact did not stay in Queue (full, or
	// empty with join_empty false): it went to Target (a queue of this
	// engine, where Position applies, or the wiring's Overflow).
	Overflowed bool
	Target     Target
}
