package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/sip/digest"
)

// Credentials are the stored digests of one user (extension). Only HA1
// values are kept, each computed for Realm.
type Credentials struct {
	Realm     string
	HA1MD5    string
	HA1SHA256 string
}

// HA1 returns the stored HA1 for alg.
func (c Credentials) HA1(alg digest.Algorithm) string {
	if alg == digest.SHA256 {
		return c.HA1SHA256
	}
	return c.HA1MD5
}

// ErrUnknownUser is returned by a CredentialStore for a user that does not exist.
var ErrUnknownUser = errors.New("sip: unknown user")

// CredentialStore looks up a user's digests. It is called on the request
// path, so implementations cache.
type CredentialStore interface {
	Credentials(ctx context.Context, user string) (Credentials, error)
}

// Authenticator checks digest credentials on requests (RFC 3261 §22,
// RFC 8760) and challenges requests that carry none. Failed attempts are
// reported to the Guard.
type Authenticator struct {
	realm  string
	algs   []digest.Algorithm
	nonces *digest.Nonces
	creds  CredentialStore
	guard  *Guard
	now    func() time.Time
	log    *slog.Logger
}

// NewAuthenticator builds an authenticator for the section cfg (already validated).
func NewAuthenticator(cfg Config, creds CredentialStore, guard *Guard, now func() time.Time, log *slog.Logger) (*Authenticator, error) {
	nonces, err := digest.NewNonces(cfg.NonceTTL.D())
	if err != nil {
		return nil, err
	}
	a := &Authenticator{realm: cfg.Realm, nonces: nonces, creds: creds, guard: guard, now: now, log: log}
	for _, s := range cfg.AuthAlgorithms {
		alg, err := parseAlgorithm(s)
		if err != nil {
			return nil, err
		}
		a.algs = append(a.algs, alg)
	}
	return a, nil
}

func parseAlgorithm(s string) (digest.Algorithm, error) {
	if s == "" {
		return digest.AlgorithmUnknown, fmt.Errorf("%w: empty", digest.ErrUnsupportedAlgorithm)
	}
	return digest.ParseAlgorithm(s)
}

// Realm returns the realm challenges are issued for.
func (a *Authenticator) Realm() string { return a.realm }

// authOutcome is the result of checking one request's credentials.
type authOutcome struct {
	user   string // set when authenticated
	status int    // response to send when not authenticated
	reason string
	stale  bool
}

// Authenticate checks req's credentials. proxy selects Proxy-Authorization
// and 407 (for INVITE and other non-REGISTER requests, RFC 3261 §22.3)
// instead of Authorization and 401. It returns the authenticated user, or a
// response to send (a challenge or a 403/400) and an empty user.
func (a *Authenticator) Authenticate(ctx context.Context, req *gosip.Request, src Source, proxy bool) (string, *gosip.Response) {
	out := a.check(ctx, req, src, proxy)
	if out.user != "" {
		return out.user, nil
	}
	res := gosip.NewResponseFromRequest(req, out.status, out.reason, nil)
	if out.status == gosip.StatusUnauthorized || out.status == gosip.StatusProxyAuthRequired {
		name := "WWW-Authenticate"
		if proxy {
			name = "Proxy-Authenticate"
		}
		nonce := a.nonces.Issue(a.now())
		for _, alg := range a.algs {
			res.AppendHeader(gosip.NewHeader(name, digest.Challenge(alg, a.realm, nonce, out.stale)))
		}
	}
	return "", res
}

func (a *Authenticator) check(ctx context.Context, req *gosip.Request, src Source, proxy bool) authOutcome {
	headerName, challenge := "Authorization", authOutcome{status: gosip.StatusUnauthorized, reason: "Unauthorized"}
	if proxy {
		headerName, challenge = "Proxy-Authorization", authOutcome{status: gosip.StatusProxyAuthRequired, reason: "Proxy Authentication Required"}
	}
	var creds *digest.Credentials
	for _, h := range headersNamed(req, headerName) {
		c, err := digest.ParseCredentials(h.Value())
		if err != nil {
			a.fail(src, "malformed_credentials", "", err)
			return authOutcome{status: gosip.StatusBadRequest, reason: "Malformed " + headerName + " header"}
		}
		if c.Realm == a.realm {
			creds = c
			break
		}
	}
	if creds == nil {
		return challenge
	}
	if !a.offered(creds.Algorithm) {
		return challenge
	}
	nonceState := a.nonces.Check(creds.Nonce, a.now())
	if nonceState == digest.NonceInvalid {
		// Not ours: from before a restart, or forged. Challenge again; a
		// password guess needs one of our nonces, so nothing is lost.
		return challenge
	}
	stored, err := a.creds.Credentials(ctx, creds.Username)
	if errors.Is(err, ErrUnknownUser) {
		a.fail(src, "unknown_user", creds.Username, nil)
		return authOutcome{status: gosip.StatusForbidden, reason: "Forbidden"}
	}
	if err != nil {
		a.log.Error("credential_lookup_failed", "user", creds.Username, "error", err)
		return authOutcome{status: gosip.StatusInternalServerError, reason: "Credential store unavailable"}
	}
	if stored.Realm != a.realm || stored.HA1(creds.Algorithm) == "" {
		a.log.Warn("stored_digest_realm_mismatch", "user", creds.Username, "stored_realm", stored.Realm, "realm", a.realm)
		return authOutcome{status: gosip.StatusForbidden, reason: "Forbidden (set the password again for this realm)"}
	}
	if !digest.Verify(stored.HA1(creds.Algorithm), string(req.Method), creds) {
		a.fail(src, "bad_response", creds.Username, nil)
		return authOutcome{status: gosip.StatusForbidden, reason: "Forbidden"}
	}
	if nonceState == digest.NonceStale {
		challenge.stale = true
		return challenge
	}
	return authOutcome{user: creds.Username}
}

func (a *Authenticator) offered(alg digest.Algorithm) bool {
	for _, o := range a.algs {
		if o == alg {
			return true
		}
	}
	return false
}

// fail records an authentication failure against the source.
func (a *Authenticator) fail(src Source, why, user string, err error) {
	ip := src.Addr.Addr()
	banned := a.guard.Fail(ip, a.now())
	attrs := []any{"source", src.Addr.String(), "transport", src.Transport, "reason", why}
	if user != "" {
		attrs = append(attrs, "user", user)
	}
	if err != nil {
		attrs = append(attrs, "error", err)
	}
	a.log.Warn("auth_failed", attrs...)
	if banned {
		a.log.Warn("source_banned", "source", ip.String(), "transport", src.Transport)
	}
}

// userOf returns the user part of a From/To header, or "".
func userOf(u *gosip.Uri) string {
	if u == nil {
		return ""
	}
	return strings.TrimSpace(u.User)
}
