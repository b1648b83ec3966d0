package sip

import (
	"context"
	"errors"
	"net/netip"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
)

// callPlan is what admission decided about a new INVITE: who calls whom,
// and where the B side goes (registered contacts, or trunks in order).
type callPlan struct {
	direction call.Direction
	caller    call.Party
	callee    call.Party
	bindings  []Binding      // ring these contacts (internal and inbound calls)
	outbound  *OutboundRoute // or hunt over these trunks (outbound calls)
	trunk     *Trunk         // inbound: the trunk the call came in on (holds a channel)
	app       Application    // or switchd answers and runs this
	did       string
	route     string
	release   func()
}

// admit identifies who sends INVITE req and routes it. On refusal it has
// answered the INVITE and returns nil.
//
// Identification, in order: a source address inside a trunk's inbound
// addresses is that carrier (digest credentials are then required only if
// the trunk names an inbound user); otherwise the request must carry
// digest credentials of an extension or of a trunk's inbound user (407
// challenge, RFC 3261 §22.3). A request without credentials from an address
// that is neither a trunk nor the address of any registered phone is
// refused with 403 at once (unless sip.challenge_unregistered): switchd is
// no open relay, and strangers scanning for one get no challenge to work on.
func (s *Server) admit(ctx context.Context, req *gosip.Request, tx gosip.ServerTransaction, src netip.AddrPort) *callPlan {
	router := s.b2b.Router
	var trunk *Trunk
	if router != nil {
		trunk = router.TrunkByAddr(src.Addr())
	}
	user := ""
	if trunk == nil || trunk.InboundUser != "" {
		if trunk == nil && !s.cfg.ChallengeUnregistered && !hasCredentials(req) && !s.registrar.Table().HasSource(src.Addr()) {
			s.guard.Fail(src.Addr(), s.now())
			s.respond(tx, req, 403, "Forbidden (unknown source)")
			return nil
		}
		srcInfo := Source{Addr: src, Transport: lower(req.Transport())}
		u, challenge := s.registrar.auth.Authenticate(ctx, req, srcInfo, true)
		if challenge != nil {
			s.metrics.response("INVITE", int(challenge.StatusCode))
			tx.Respond(challenge)
			return nil
		}
		user = u
		if router != nil {
			switch t := router.TrunkByUser(user); {
			case t != nil && trunk != nil && t != trunk:
				s.respond(tx, req, 403, "Forbidden (credentials of another trunk)")
				return nil
			case t != nil:
				trunk = t
			default:
				trunk = nil // an extension calling from a carrier's network
			}
		}
	}
	if trunk != nil {
		return s.admitInbound(ctx, req, tx, trunk)
	}
	return s.admitExtension(ctx, req, tx, user)
}

// hasCredentials reports whether req carries a digest answer at all.
func hasCredentials(req *gosip.Request) bool {
	return req.GetHeader("Proxy-Authorization") != nil || req.GetHeader("Authorization") != nil
}

// admitExtension routes a call from an authenticated extension: to another
// extension, or out through the dial rules.
func (s *Server) admitExtension(ctx context.Context, req *gosip.Request, tx gosip.ServerTransaction, user string) *callPlan {
	caller, err := s.b2b.Directory.Extension(ctx, user)
	if err != nil {
		s.respond(tx, req, 403, "Forbidden")
		return nil
	}
	dialled := req.Recipient.User
	if dialled == "" {
		s.respond(tx, req, 404, "Not Found")
		return nil
	}
	if s.b2b.Router != nil {
		if app, ok := s.b2b.Router.Application(ctx, caller, dialled); ok {
			return &callPlan{direction: call.DirectionInternal, caller: caller, callee: call.Party{Number: dialled, Name: app.Name()},
				app: app, route: "service " + app.Name(), release: func() {}}
		}
	}
	callee, err := s.b2b.Directory.Extension(ctx, dialled)
	switch {
	case err == nil:
		bindings := s.registrar.Table().Lookup(dialled)
		if len(bindings) == 0 {
			s.respond(tx, req, 480, "Temporarily Unavailable")
			return nil
		}
		return &callPlan{direction: call.DirectionInternal, caller: caller, callee: callee, bindings: bindings, release: func() {}}
	case !errors.Is(err, ErrUnknownUser):
		s.respond(tx, req, 500, "Directory unavailable")
		return nil
	case s.b2b.Router == nil:
		s.respond(tx, req, 404, "Not Found")
		return nil
	}
	route, err := s.b2b.Router.Outbound(ctx, caller, dialled)
	switch {
	case errors.Is(err, ErrNotAllowed):
		s.log.Info("call_refused", "caller", caller.Number, "dialled", dialled, "reason", err.Error())
		s.respond(tx, req, 403, "Forbidden (number not allowed)")
		return nil
	case errors.Is(err, ErrNoRoute):
		s.respond(tx, req, 404, "Not Found")
		return nil
	case err != nil:
		s.respond(tx, req, 500, "Routing failed")
		return nil
	case len(route.Attempts) == 0:
		s.respond(tx, req, 503, "Service Unavailable (no trunk)")
		return nil
	}
	return &callPlan{direction: call.DirectionOutbound, caller: caller, callee: call.Party{Number: route.Number},
		outbound: &route, route: "rule " + route.Route, release: func() {}}
}

// admitInbound routes a call from a carrier by the DID table only; dial
// rules never apply to it, so a carrier cannot reach another carrier.
func (s *Server) admitInbound(ctx context.Context, req *gosip.Request, tx gosip.ServerTransaction, trunk *Trunk) *callPlan {
	if !s.chans.acquire(trunk) {
		s.respond(tx, req, 503, "Service Unavailable (trunk at max channels)")
		return nil
	}
	release := func() { s.chans.release(trunk) }
	var caller call.Party
	if f := req.From(); f != nil {
		caller = call.Party{Number: f.Address.User, Name: f.DisplayName}
	}
	to := ""
	if h := req.To(); h != nil {
		to = h.Address.User
	}
	in, err := s.b2b.Router.Inbound(ctx, trunk, req.Recipient.User, to, caller)
	fail := func(code int, reason string) *callPlan {
		release()
		s.respond(tx, req, code, reason)
		return nil
	}
	switch {
	case errors.Is(err, ErrUnknownDID):
		s.log.Info("call_refused", "trunk", trunk.Name, "called", req.Recipient.User, "to", to, "reason", "unknown DID")
		return fail(404, "Not Found")
	case err != nil:
		return fail(500, "Routing failed")
	case in.App != nil:
		if !in.Caller.IsZero() {
			caller = in.Caller
		}
		return &callPlan{direction: call.DirectionInbound, caller: caller, callee: call.Party{Number: in.DID, Name: in.App.Name()},
			app: in.App, trunk: trunk, did: in.DID, route: in.Route, release: release}
	case in.Extension == "":
		code := in.Hangup.SIPStatus()
		return fail(code, reasonFor(code))
	}
	callee, err := s.b2b.Directory.Extension(ctx, in.Extension)
	if err != nil {
		s.log.Warn("did_destination_missing", "trunk", trunk.Name, "did", in.DID, "extension", in.Extension)
		return fail(404, "Not Found")
	}
	bindings := s.registrar.Table().Lookup(in.Extension)
	if len(bindings) == 0 {
		return fail(480, "Temporarily Unavailable")
	}
	if !in.Caller.IsZero() {
		caller = in.Caller
	}
	return &callPlan{direction: call.DirectionInbound, caller: caller, callee: callee, bindings: bindings,
		trunk: trunk, did: in.DID, route: in.Route, release: release}
}
