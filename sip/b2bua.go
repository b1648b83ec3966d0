package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/tap"
)

// CallEvents receives the call events the B2BUA publishes (the call.Bus).
type CallEvents interface {
	Publish(call.Event) call.Event
}

// Directory answers who an extension is (for caller ID), and whether it exists.
type Directory interface {
	// Extension returns the party of an extension number; ErrUnknownUser if none.
	Extension(ctx context.Context, number string) (call.Party, error)
}

// B2BUA holds what the call side of the Server needs. A nil B2BUA (no media
// engine) leaves INVITE unanswered by handlers (405 from sipgo).
type B2BUA struct {
	Media     *media.Engine
	Events    CallEvents
	Directory Directory
	// Router routes calls to and from carrier trunks; nil = extensions only.
	Router      Router
	RingTimeout time.Duration // no answer → 480 to the caller
	RTPTimeout  time.Duration // no RTP on an answered, not held call → BYE both
	// SessionExpires is the RFC 4028 session interval we ask for and
	// accept at most; 0 disables session timers.
	SessionExpires time.Duration
	Advertise      netip.Addr // media address for SDP; invalid = the local address routing to each phone
	// Prompts is what calls switchd answers itself (applications) play.
	Prompts PromptConfig
	// OnAnswer, when set, is called on the call's goroutine once a call
	// is first answered (see Answered); it must not block.
	OnAnswer func(Answered)
	// TransferCodes are the in-call feature codes; empty: none.
	TransferCodes TransferCodes
}

// calls tracks live calls for shutdown and leak checks.
type callSet struct {
	mu    sync.Mutex
	m     map[*b2bCall]struct{}
	wg    sync.WaitGroup
	drain atomic.Bool

	forcedOnce sync.Once
	forced     context.Context // done when a drain gives up waiting (calls are cut)
	force      context.CancelFunc
}

// forcedCtx is done once a drain has timed out and cuts the calls left.
func (c *callSet) forcedCtx() context.Context {
	c.forcedOnce.Do(func() { c.forced, c.force = context.WithCancel(context.Background()) })
	return c.forced
}

func (c *callSet) add(bc *b2bCall) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drain.Load() {
		return false
	}
	if c.m == nil {
		c.m = make(map[*b2bCall]struct{})
	}
	c.m[bc] = struct{}{}
	c.wg.Add(1)
	return true
}

func (c *callSet) remove(bc *b2bCall) {
	c.mu.Lock()
	delete(c.m, bc)
	c.mu.Unlock()
	c.wg.Done()
}

// ActiveCalls returns how many calls are in progress.
func (s *Server) ActiveCalls() int {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	return len(s.calls.m)
}

// Drain stops taking new calls (they get 503) and waits until the active
// ones end or ctx is done; then it hangs up the rest with cause shutdown and
// waits for their teardown.
func (s *Server) Drain(ctx context.Context) {
	s.calls.drain.Store(true)
	done := make(chan struct{})
	go func() { s.calls.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	s.calls.forcedCtx()
	s.calls.force()
	s.calls.mu.Lock()
	for bc := range s.calls.m {
		bc.hangup(call.CauseShutdown)
	}
	s.calls.mu.Unlock()
	<-done
}

// onInvite handles every INVITE: in-dialog ones (re-INVITE) go to their
// call; a new one becomes a call owned by this goroutine until it ends.
func (s *Server) onInvite(req *gosip.Request, tx gosip.ServerTransaction) {
	if inDialog(req) {
		s.onDialogRequest(req, tx)
		return
	}
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if s.guard.Banned(src.Addr(), s.now()) {
		s.metrics.drop("banned")
		return
	}
	s.metrics.request("INVITE")
	// RFC 3261 §8.2.6.1: 100 Trying at once, hop by hop; never relayed.
	s.respond(tx, req, 100, "Trying")
	if s.b2b == nil {
		s.respond(tx, req, 503, "Calls not enabled")
		return
	}
	if bad := unsupportedRequire(req); len(bad) > 0 {
		s.respond(tx, req, 420, "Bad Extension", gosip.NewHeader("Unsupported", joinTags(bad)))
		return
	}
	if s.calls.drain.Load() {
		s.respond(tx, req, 503, "Service Unavailable (shutting down)", gosip.NewHeader("Retry-After", "30"))
		return
	}
	pending, untrack := s.trackInvite(req)
	defer untrack()
	plan := s.admit(context.Background(), req, tx, src)
	if plan == nil {
		return
	}
	defer plan.release()
	if pending.done() {
		s.respond(tx, req, 487, "Request Terminated")
		return
	}
	a, err := newUASLeg(s, req, tx, s.laddrFor(req.Transport(), "", src), pending)
	if err != nil {
		s.respond(tx, req, 400, err.Error())
		return
	}
	bc := &b2bCall{
		s: s, id: call.NewID(s.now()), a: a, caller: plan.caller, callee: plan.callee, bindings: plan.bindings,
		direction: plan.direction, out: plan.outbound, inTrunk: plan.trunk, did: plan.did, route: plan.route, app: plan.app,
		src: src, inbox: a.inbox, end: make(chan call.Cause, 1), connects: make(chan *connectReq),
		monitors: make(chan monitorReq), handoffs: make(chan handoffReq), joins: make(chan joinReq), gives: make(chan giveReq), digitsIn: make(chan sideDigit, 32), gone: make(chan struct{}),
	}
	if plan.trunk != nil {
		bc.trunkName = plan.trunk.Name
		a.fromTrunk = true
	}
	a.routeTo(bc, sideCaller)
	bc.legs[sideCaller] = a
	bc.media.aTap, bc.media.bTap = tap.NewPoint(), tap.NewPoint()
	bc.log = s.log.With("call_id", string(bc.id))
	if !s.calls.add(bc) {
		a.reject(503, "Service Unavailable (shutting down)")
		return
	}
	defer s.calls.remove(bc)
	bc.run()
}

// b2bCall is one two-party call: leg A (the caller, UAS) and leg B (the
// winning branch towards the callee, UAC), media anchored in between. Its
// run method is the call's only goroutine that changes its state.
type b2bCall struct {
	s   *Server
	id  call.ID
	log *slog.Logger
	a   *uasLeg
	b   *uacLeg
	// legs are the established legs by side (b2bua_peer.go): a, and b
	// once answered, until a transfer, pickup or park puts others there.
	// They are what the call closes at its end.
	legs [3]peer
	// A transfer (b2bua_transfer.go): another call asking for a leg, and
	// the application a transferred caller goes to next.
	handoffs chan handoffReq
	nextApp  Application
	xferBy   string // who transferred side A to nextApp
	// xferSwapped: the transfer in progress swapped the sides (the caller
	// transfers); a failed one swaps them back.
	xferSwapped bool
	// Pickup and retrieve (b2bua_join.go): legs offered to this call,
	// and an application's request to give its caller to another call.
	joins   chan joinReq
	gives   chan giveReq
	ringing atomic.Pointer[ringState] // set while an unanswered call rings an extension
	// In-call transfer codes (b2bua_featurecodes.go).
	digitsIn chan sideDigit
	fcode    [3]featureInput
	caller   call.Party
	callee   call.Party
	bindings []Binding
	src      netip.AddrPort

	direction call.Direction
	out       *OutboundRoute // outbound calls: the trunks to hunt over
	inTrunk   *Trunk         // inbound calls: the trunk they came in on
	trunkName string         // the trunk carrying the call (inbound, or the outbound attempt that won)
	did       string
	route     string
	hunt      hunt        // outbound trunk hunting state (b2bua_trunk.go)
	app       Application // a call switchd answers itself (b2bua_app.go)
	// codecFilter restricts the codecs offered on leg B (a trunk's codecs).
	codecFilter []string
	moh         *holdMusic // music on hold playing (b2bua_hold.go)

	inbox chan dialogRequest // requests from both legs (B's branches share A's inbox)
	end   chan call.Cause    // hangup requested from outside (shutdown, media timeout)

	media    callMedia
	answered bool
	held     [3]bool         // by legSide
	timers   [3]sessionTimer // by legSide

	timerHeaders []gosip.Header // Session-Expires/Require for our 2xx to the caller

	// An app call connected by AppLeg.Connect (app_connect.go).
	connects    chan *connectReq
	ended       chan<- CallEnd // told how the connected call ended
	connectedAt time.Time
	holdSince   time.Time // either party holds since (zero: nobody)
	holdTotal   time.Duration

	// A supervisor's monitor (monitor.go).
	monitors chan monitorReq
	mon      *monitorState
	live     atomic.Pointer[liveParties] // set while connected two-party
	gone     chan struct{}               // closed when the call has ended
	hooked   bool                        // OnAnswer was called
}

// hangup asks the call goroutine to end the call (safe from any goroutine).
func (c *b2bCall) hangup(cause call.Cause) {
	select {
	case c.end <- cause:
	default:
	}
}

func (c *b2bCall) publish(t call.EventType, mutate func(*call.Event)) {
	e := call.Event{Type: t, CallID: c.id, Medium: call.MediumVoice, Direction: c.direction,
		Caller: c.caller, Callee: c.callee}
	if mutate != nil {
		mutate(&e)
	}
	switch t {
	case call.EventCallCreated, call.EventCallAnswered, call.EventCallEnded:
		setData(&e, call.DataTrunk, c.trunkName)
		setData(&e, call.DataDID, c.did)
		setData(&e, call.DataRoute, c.route)
	}
	c.s.b2b.Events.Publish(e)
}

// setData sets e.Data[k] when v is not empty.
func setData(e *call.Event, k, v string) {
	if v == "" {
		return
	}
	if e.Data == nil {
		e.Data = map[string]string{}
	}
	e.Data[k] = v
}

func joinTags(tags []string) string {
	out := ""
	for i, t := range tags {
		if i > 0 {
			out += ", "
		}
		out += t
	}
	return out
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
