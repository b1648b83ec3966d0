package sip

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
)

// Trunk is a carrier trunk as the B2BUA sees it. The wiring package builds
// it from the routing table; package sip knows nothing of DIDs or dial rules.
type Trunk struct {
	Name      string
	Host      string // carrier host or IP (resolved per call)
	Port      int
	Transport string // "udp" or "tcp"
	// Domain is the host of the Request-URI, To and From on this trunk
	// (the carrier's domain); Host when empty.
	Domain string
	// Credentials answer the carrier's 401/407 challenges.
	Credentials ClientCredentials
	// InboundUser, when set, is the digest user the carrier must
	// authenticate as on INVITEs it sends us.
	InboundUser string
	// InviteTimeout: no provisional response within it → fail over.
	InviteTimeout time.Duration
	// MaxChannels bounds concurrent calls on the trunk, both ways; 0 = no bound.
	MaxChannels int
	// Codecs are the codec names allowed on the trunk ("PCMU", "PCMA"); empty = all of ours.
	Codecs []string
}

// InboundRoute is where a call from a trunk goes.
type InboundRoute struct {
	DID   string // the called number as matched
	Route string // for CDRs and logs, e.g. "did +862155550100 -> extension 1001"
	// Extension to ring; when empty the call is rejected with Hangup.
	Extension string
	Hangup    call.Cause
	// Caller is the calling party as presented to the callee (number
	// normalised to E.164 where the trunk's numbering plan allows).
	Caller call.Party
	// App, when set, answers the call in switchd and runs (an IVR flow).
	App Application
}

// OutboundRoute is how a number dialled by an extension leaves the switch:
// the trunks to try, in order.
type OutboundRoute struct {
	Route    string // the dial rule's name
	Number   string // the number as routed (E.164 where normalisable), for CDRs
	Attempts []OutboundAttempt
}

// OutboundAttempt is one trunk to try.
type OutboundAttempt struct {
	Trunk  *Trunk
	Number string // Request-URI user, in the trunk's number format
	// CallerID is presented in From and P-Asserted-Identity (RFC 3325).
	CallerID call.Party
	// Privacy withholds the caller ID: an anonymous From, PAI kept for the
	// carrier, and Privacy: id (RFC 3325 §9.3, RFC 3323).
	Privacy bool
}

// Routing errors a Router returns; the B2BUA maps them to SIP statuses.
var (
	ErrUnknownDID = errors.New("sip: no DID matches the called number")  // 404
	ErrNoRoute    = errors.New("sip: no dial rule matches the number")   // 404
	ErrNotAllowed = errors.New("sip: number not allowed for the caller") // 403
)

// Router is the routing policy the B2BUA asks. The wiring package
// implements it over the routing table and the extensions; a nil Router
// means extensions only (no trunks).
type Router interface {
	// TrunkByAddr returns the trunk whose inbound addresses contain a, or nil.
	TrunkByAddr(a netip.Addr) *Trunk
	// TrunkByUser returns the trunk that authenticates inbound as user, or nil.
	TrunkByUser(user string) *Trunk
	// Inbound routes a call that arrived on t. calledRURI and calledTo are
	// the user parts of the Request-URI and the To header (the trunk's
	// configuration says which one carries the DID); caller is the From.
	Inbound(ctx context.Context, t *Trunk, calledRURI, calledTo string, caller call.Party) (InboundRoute, error)
	// Outbound routes a number that extension ext dialled and that is not
	// an extension. ErrNoRoute or ErrNotAllowed (wrapped) when it may not.
	Outbound(ctx context.Context, ext call.Party, dialled string) (OutboundRoute, error)
	// Application returns the application a number dialled by an
	// extension runs (a service number), if any. It is asked before the
	// extensions and the dial rules.
	Application(ctx context.Context, ext call.Party, dialled string) (Application, bool)
}

// channels counts the calls on each trunk, for MaxChannels.
type channels struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire takes a channel on t, or reports false when it is full.
func (c *channels) acquire(t *Trunk) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = make(map[string]int)
	}
	if t.MaxChannels > 0 && c.n[t.Name] >= t.MaxChannels {
		return false
	}
	c.n[t.Name]++
	return true
}

func (c *channels) release(t *Trunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[t.Name] <= 1 {
		delete(c.n, t.Name)
		return
	}
	c.n[t.Name]--
}

// TrunkChannels returns how many calls each trunk carries now.
func (s *Server) TrunkChannels() map[string]int {
	s.chans.mu.Lock()
	defer s.chans.mu.Unlock()
	out := make(map[string]int, len(s.chans.n))
	for k, v := range s.chans.n {
		out[k] = v
	}
	return out
}

func (t *Trunk) domain() string {
	if t.Domain != "" {
		return t.Domain
	}
	return t.Host
}
