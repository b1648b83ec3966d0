package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/routing"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/sip/digest"
	"github.com/switchd/switchd/web"
)

// extensionRouter answers what outbound routing needs about an extension.
type extensionRouter interface {
	ExtensionRouting(ctx context.Context, number string) (ExtensionRouting, error)
}

// router implements sip.Router over the routing table (trunks, DIDs, dial
// rules) and the extensions' permission classes and caller IDs. It is
// immutable once built.
type router struct {
	table  *routing.Table
	trunks map[*routing.Trunk]*sip.Trunk
	ext    extensionRouter
	// inbound digest credentials of trunks, by user, for our realm
	creds map[string]sip.Credentials
	// services by number
	services map[string]serviceApp
	// flow returns the application running IVR flow name, if it exists.
	flow func(name string) (sip.Application, bool)
	// queue returns the application putting a call in queue name, if it
	// exists.
	queue func(name string) (sip.Application, bool)
	// queueNumber returns the application of the queue with internal
	// number n (dialled by an extension, or a transfer's target).
	queueNumber func(n string) (sip.Application, bool)
	// features returns a pickup code's or a park slot's application.
	features func(dialled string) (sip.Application, bool)
	// codes are the agents' feature codes (*50 login, ...).
	codes map[string]sip.Application
	// conference returns the application of a conference room's number;
	// room the same by the room's name.
	conference func(number string) (sip.Application, bool)
	room       func(name string) (sip.Application, bool)
	// monitor returns a supervisor's monitor application for the monitor
	// code followed by an extension.
	monitor func(dialled string) (sip.Application, bool)
}

var _ sip.Router = (*router)(nil)

func newRouter(t *routing.Table, ext extensionRouter, realm string, services []ServiceConfig, mohDir string) *router {
	r := &router{table: t, trunks: map[*routing.Trunk]*sip.Trunk{},
		ext: ext, creds: map[string]sip.Credentials{}, services: map[string]serviceApp{}}
	for _, svc := range services {
		r.services[svc.Number] = serviceApp{svc: svc, moh: mohDir}
	}
	for _, rt := range t.Trunks() {
		st := &sip.Trunk{
			Name: rt.Name, Host: rt.Host, Port: rt.Port, Transport: rt.Transport, Domain: rt.RegisterDomain,
			Credentials:   sip.ClientCredentials{Username: rt.OutboundUser, Password: rt.OutboundPassword, Realm: rt.OutboundRealm},
			InboundUser:   rt.InboundUser,
			InviteTimeout: rt.InviteTimeout, MaxChannels: rt.MaxChannels, Codecs: rt.Codecs,
		}
		r.trunks[rt] = st
		if rt.InboundUser != "" {
			r.creds[rt.InboundUser] = sip.Credentials{Realm: realm,
				HA1MD5:    digest.HA1(digest.MD5, rt.InboundUser, realm, rt.InboundPassword),
				HA1SHA256: digest.HA1(digest.SHA256, rt.InboundUser, realm, rt.InboundPassword)}
		}
	}
	return r
}

// TrunkByAddr implements sip.Router.
func (r *router) TrunkByAddr(a netip.Addr) *sip.Trunk { return r.trunks[r.table.TrunkByAddr(a)] }

// TrunkByUser implements sip.Router.
func (r *router) TrunkByUser(user string) *sip.Trunk { return r.trunks[r.table.TrunkByUser(user)] }

// Inbound implements sip.Router: the DID table only.
func (r *router) Inbound(_ context.Context, t *sip.Trunk, calledRURI, calledTo string, caller call.Party) (sip.InboundRoute, error) {
	rt := r.table.Trunk(t.Name)
	if rt == nil {
		return sip.InboundRoute{}, fmt.Errorf("trunk %q: %w", t.Name, sip.ErrUnknownDID)
	}
	called := calledRURI
	if rt.CalledNumber == routing.CalledTo {
		called = calledTo
	}
	in, err := r.table.Inbound(rt, called)
	if errors.Is(err, routing.ErrUnknownDID) {
		return sip.InboundRoute{}, fmt.Errorf("%w: %s", sip.ErrUnknownDID, called)
	}
	if err != nil {
		return sip.InboundRoute{}, err
	}
	if e, ok := rt.Numbering.E164(caller.Number); ok {
		caller.Number = e
	}
	out := sip.InboundRoute{DID: in.DID, Caller: caller}
	d := in.Dest
	switch d.Kind {
	case routing.DestExtension:
		out.Extension = d.Target
		out.Route = fmt.Sprintf("did %s -> extension %s", in.Pattern, d.Target)
	case routing.DestIVR, routing.DestQueue:
		find := r.flow
		if d.Kind == routing.DestQueue {
			find = r.queue
		}
		if find != nil {
			if app, ok := find(d.Target); ok {
				out.App = app
				out.Route = fmt.Sprintf("did %s -> %s %s", in.Pattern, d.Kind, d.Target)
				return out, nil
			}
		}
		// While the flow or queue is missing, the DID rings its interim extension.
		if d.InterimExtension != "" {
			out.Extension = d.InterimExtension
			out.Route = fmt.Sprintf("did %s -> %s %s (interim extension %s)", in.Pattern, d.Kind, d.Target, d.InterimExtension)
		} else {
			out.Hangup = call.CauseUnavailable
			out.Route = fmt.Sprintf("did %s -> %s %s (not available)", in.Pattern, d.Kind, d.Target)
		}
	case routing.DestConference:
		if r.room != nil {
			if app, ok := r.room(d.Target); ok {
				out.App = app
				out.Route = fmt.Sprintf("did %s -> conference %s", in.Pattern, d.Target)
				return out, nil
			}
		}
		out.Hangup = call.CauseUnavailable
		out.Route = fmt.Sprintf("did %s -> conference %s (not available)", in.Pattern, d.Target)
	case routing.DestHangup:
		out.Hangup = d.Cause
		out.Route = fmt.Sprintf("did %s -> hangup %s", in.Pattern, d.Cause)
	default:
		return sip.InboundRoute{}, fmt.Errorf("did %s: destination %v", in.Pattern, d.Kind)
	}
	return out, nil
}

// Outbound implements sip.Router: the dial rules, subject to the
// extension's permission class.
func (r *router) Outbound(ctx context.Context, ext call.Party, dialled string) (sip.OutboundRoute, error) {
	er, err := r.ext.ExtensionRouting(ctx, ext.Number)
	if err != nil {
		return sip.OutboundRoute{}, err
	}
	class, err := routing.ParseClass(er.Class)
	if err != nil || class == routing.ClassUnknown {
		class = routing.ClassInternal // an unreadable class allows nothing outside
	}
	rt, err := r.table.Outbound(dialled, class)
	switch {
	case errors.Is(err, routing.ErrForbidden):
		return sip.OutboundRoute{}, fmt.Errorf("%w: %w", sip.ErrNotAllowed, err)
	case errors.Is(err, routing.ErrNoRoute):
		return sip.OutboundRoute{}, fmt.Errorf("%w: %s", sip.ErrNoRoute, dialled)
	case err != nil:
		return sip.OutboundRoute{}, err
	}
	out := sip.OutboundRoute{Route: rt.Rule, Number: rt.E164}
	if out.Number == "" {
		out.Number = rt.Dialled
	}
	for _, at := range rt.Attempts {
		st := r.trunks[at.Trunk]
		if st == nil {
			continue
		}
		id := call.Party{Number: at.Trunk.CallerID, Name: ext.Name}
		if (at.Trunk.AllowExtensionCallerID || id.Number == "") && er.CallerID != "" {
			id.Number = er.CallerID
		}
		if id.Number == "" {
			id.Number = ext.Number
		}
		out.Attempts = append(out.Attempts, sip.OutboundAttempt{Trunk: st, Number: at.Number, CallerID: id, Privacy: er.Privacy})
	}
	return out, nil
}

// Application implements sip.Router: service numbers.
// A service that runs a flow binds the flows' current version now, when
// the call comes in, so that a reload never changes a call mid-way.
func (r *router) Application(_ context.Context, _ call.Party, dialled string) (sip.Application, bool) {
	if app, ok := r.codes[dialled]; ok {
		return app, true
	}
	if r.features != nil {
		if app, ok := r.features(dialled); ok {
			return app, true
		}
	}
	if r.queueNumber != nil {
		if app, ok := r.queueNumber(dialled); ok {
			return app, true
		}
	}
	if r.conference != nil {
		if app, ok := r.conference(dialled); ok {
			return app, true
		}
	}
	app, ok := r.services[dialled]
	if !ok {
		if r.monitor != nil {
			return r.monitor(dialled) // a prefix: the monitor code + an extension
		}
		return nil, false
	}
	if app.svc.Then == "flow" && r.flow != nil {
		app.next, _ = r.flow(app.svc.Flow)
	}
	return app, true
}

// trunkCredentials answers digest lookups for trunks' inbound users before
// the extensions'.
type trunkCredentials struct {
	trunks map[string]sip.Credentials
	next   sip.CredentialStore
}

// Credentials implements sip.CredentialStore.
func (c trunkCredentials) Credentials(ctx context.Context, user string) (sip.Credentials, error) {
	if cr, ok := c.trunks[user]; ok {
		return cr, nil
	}
	return c.next.Credentials(ctx, user)
}

// registrations are the trunks switchd registers with.
func (r *router) registrations() []sip.TrunkRegistration {
	var out []sip.TrunkRegistration
	for _, rt := range r.table.Trunks() {
		if !rt.Register {
			continue
		}
		out = append(out, sip.TrunkRegistration{
			Name: rt.Name, Registrar: rt.HostPort(), Transport: rt.Transport, Domain: rt.RegisterDomain,
			Credentials: r.trunks[rt].Credentials, Expires: rt.RegisterExpires,
		})
	}
	return out
}

// trunkStatus implements web.Trunks.
type trunkStatus struct{ s *Server }

// Trunks implements web.Trunks.
func (t trunkStatus) Trunks() []web.Trunk {
	r := t.s.router
	if r == nil {
		return nil
	}
	regs := map[string]sip.TrunkRegStatus{}
	if t.s.trunkRegs != nil {
		for _, st := range t.s.trunkRegs.Status() {
			regs[st.Name] = st
		}
	}
	chans := t.s.sip.TrunkChannels()
	var out []web.Trunk
	for _, rt := range r.table.Trunks() {
		wt := web.Trunk{Name: rt.Name, Address: rt.HostPort(), Transport: rt.Transport,
			Channels: chans[rt.Name], MaxChannels: rt.MaxChannels}
		if st, ok := regs[rt.Name]; ok {
			wt.Registration = st.State.String()
			wt.RegisteredUntil, wt.LastError = st.Expires, st.LastError
			wt.LastAttempt, wt.LastSuccess, wt.RegisterFailures = st.LastAttempt, st.LastSuccess, st.Failures
		}
		out = append(out, wt)
	}
	return out
}
