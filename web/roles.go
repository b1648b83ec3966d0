package web

import (
	"errors"
	"fmt"
	"net/http"
)

// Roles of API users, each allowed what the ones below it are:
// an agent reads its own view (whoami, events); a supervisor also reads
// the switch's live state and records (registrations, CDRs, trunks,
// voicemail, extensions); an admin also changes configuration and data
// (extensions, bans) and may profile the process.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// Roles lists the roles, least allowed first.
func Roles() []string { return []string{RoleAgent, RoleSupervisor, RoleAdmin} }

// roleRank orders roles; 0 for an unknown role (allowed nothing).
func roleRank(role string) int {
	switch role {
	case RoleAgent:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// ValidRole reports an error for a role that is not one of Roles.
func ValidRole(role string) error {
	if roleRank(role) == 0 {
		return fmt.Errorf("role %q is not agent, supervisor or admin", role)
	}
	return nil
}

// needs is require for an endpoint served by an optional dependency:
// without it (available false) the endpoint answers 503 with unavailable.
func (a *api) needs(role string, available bool, unavailable string, h http.HandlerFunc) http.Handler {
	return a.require(role, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !available {
			writeError(w, http.StatusServiceUnavailable, errors.New(unavailable))
			return
		}
		h(w, r)
	}))
}

// require authenticates the request (bearer token) and lets it through
// only for principals of at least role: 403 with a JSON error otherwise.
func (a *api) require(role string, next http.Handler) http.Handler {
	return a.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := r.Context().Value(principalKey{}).(Principal)
		if roleRank(p.Role) < roleRank(role) {
			writeError(w, http.StatusForbidden, errors.New("this needs the "+role+" role (you are "+p.Role+")"))
			return
		}
		next.ServeHTTP(w, r)
	}))
}
