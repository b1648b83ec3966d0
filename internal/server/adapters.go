package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/web"
)

// tokenChecker resolves API tokens against the database.
type tokenChecker struct{ st *store.Store }

var _ web.TokenChecker = tokenChecker{}

func (t tokenChecker) CheckToken(ctx context.Context, token string) (web.Principal, error) {
	tok, err := t.st.TokenBySecret(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return web.Principal{}, web.ErrUnauthenticated
	}
	if err != nil {
		return web.Principal{}, err
	}
	return web.Principal{Name: tok.Name, Role: tok.Role}, nil
}

// live exposes the SIP server's in-memory state to the API.
type live struct {
	sip *sip.Server
	now func() time.Time
}

var _ web.Live = live{}

func (l live) Registrations() []web.Registration {
	now := l.now()
	bs := l.sip.Registrar().Table().All()
	out := make([]web.Registration, len(bs))
	for i, b := range bs {
		out[i] = web.Registration{
			AOR: b.AOR, Contact: b.Contact, Source: b.Source.String(), Transport: b.Transport,
			Expires: b.Expires.UTC(), ExpiresIn: int(b.Expires.Sub(now).Seconds()), UserAgent: b.UserAgent,
			Instance: b.Instance, RegID: b.RegID, Reachable: b.Reachable.String(),
			RTTMillis: float64(b.RTT) / 1e6, LastQualify: b.LastQualify,
		}
	}
	return out
}

func (l live) Bans() []web.Ban {
	bans := l.sip.Guard().Bans(l.now())
	out := make([]web.Ban, len(bans))
	for i, b := range bans {
		out[i] = web.Ban{Source: b.Source, Until: b.Until.UTC()}
	}
	return out
}

func (l live) Unban(ip string) (bool, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false, fmt.Errorf("%w: %q is not an IP address", web.ErrInvalid, ip)
	}
	return l.sip.Guard().Unban(a), nil
}

// extensionAdmin manages extensions for the API.
type extensionAdmin struct{ s *Server }

var _ web.Extensions = extensionAdmin{}

func (e extensionAdmin) ListExtensions(ctx context.Context) ([]web.Extension, error) {
	exts, err := e.s.accounts.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.Extension, len(exts))
	for i, x := range exts {
		out[i] = web.Extension{
			Number: x.Number, Name: x.Name, Realm: x.Realm, Class: x.Class, CallerID: x.CallerID, Privacy: x.Privacy,
			Created: x.Created.UTC(),
		}
	}
	return out, nil
}

func (e extensionAdmin) AddExtension(ctx context.Context, in web.NewExtension) error {
	r := ExtensionRouting{Class: in.Class, CallerID: in.CallerID, Privacy: in.Privacy}
	return e.changed(ctx, webError(AddExtension(ctx, e.s.accounts, in.Number, in.Name, in.Password, r)))
}

func (e extensionAdmin) ChangeExtension(ctx context.Context, number string, c web.ExtensionChange) error {
	return e.changed(ctx, webError(e.s.store.SetExtensionRouting(ctx, number, c.Class, c.CallerID, c.Privacy)))
}

func (e extensionAdmin) SetExtensionPassword(ctx context.Context, number, password string) error {
	return e.changed(ctx, webError(e.s.accounts.SetPassword(ctx, number, password)))
}

func (e extensionAdmin) RemoveExtension(ctx context.Context, number string) error {
	return e.changed(ctx, webError(e.s.accounts.Remove(ctx, number)))
}

// changed applies an API change to live state at once instead of waiting for the watcher.
func (e extensionAdmin) changed(ctx context.Context, err error) error {
	if err == nil {
		e.s.extensionsChanged(ctx)
	}
	return err
}

// webError classifies store/accounts errors for the API.
func webError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", web.ErrNotFound, err)
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%w: %w", web.ErrConflict, err)
	case errors.Is(err, accounts.ErrWeakPassword), errors.Is(err, store.ErrInvalidNumber),
		errors.Is(err, store.ErrInvalidClass), errors.Is(err, store.ErrInvalidCallerID):
		return fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	return err
}

// AddExtension creates an extension with a password and its outbound
// routing attributes (an empty Class is store.ClassNational), in one
// write. Every value is checked first, so all problems are reported at
// once. The API and `switchd extension add` share it.
func AddExtension(ctx context.Context, a *accounts.Service, number, name, password string, r ExtensionRouting) error {
	class := r.Class
	if class == "" {
		class = store.ClassNational
	}
	if err := errors.Join(store.ValidNumber(number), accounts.CheckPassword(number, password),
		store.ValidClass(class), store.ValidCallerID(r.CallerID)); err != nil {
		return err
	}
	return a.AddExtension(ctx, store.Extension{Number: number, Name: name, Class: class, CallerID: r.CallerID, Privacy: r.Privacy}, password)
}
