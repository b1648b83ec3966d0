package sip

import (
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// pendingInvite lets a CANCEL find its INVITE while the INVITE is still
// being authenticated and routed. sipgo handles each datagram on its own
// goroutine, so a CANCEL sent right after its INVITE can reach us before
// the INVITE's server transaction exists (then sipgo passes the CANCEL to
// our handler instead of matching it, RFC 3261 §9.2).
type pendingInvite struct {
	once sync.Once
	ch   chan struct{}
}

func (p *pendingInvite) cancel() { p.once.Do(func() { close(p.ch) }) }

func (p *pendingInvite) done() bool {
	select {
	case <-p.ch:
		return true
	default:
		return false
	}
}

// inviteKey identifies an INVITE transaction by Call-ID and top Via branch
// (the CANCEL carries both unchanged, RFC 3261 §9.1).
func inviteKey(req *gosip.Request) string {
	cid, via := req.CallID(), req.Via()
	if cid == nil || via == nil {
		return ""
	}
	branch, _ := via.Params.Get("branch")
	return cid.Value() + "\x00" + branch
}

// trackInvite registers an INVITE for cancellation until the returned func is called.
func (s *Server) trackInvite(req *gosip.Request) (*pendingInvite, func()) {
	p := &pendingInvite{ch: make(chan struct{})}
	key := inviteKey(req)
	if key == "" {
		return p, func() {}
	}
	s.invites.Store(key, p)
	return p, func() { s.invites.CompareAndDelete(key, p) }
}

// cancelWait bounds how long an unmatched CANCEL waits for its INVITE.
const cancelWait = 250 * time.Millisecond

// onCancel answers a CANCEL that sipgo matched to no INVITE transaction:
// if the INVITE is in flight (or arrives within cancelWait) it is cancelled
// and the CANCEL gets 200; otherwise 481 (RFC 3261 §9.2).
func (s *Server) onCancel(req *gosip.Request, tx gosip.ServerTransaction) {
	key := inviteKey(req)
	deadline := time.Now().Add(cancelWait)
	for key != "" {
		if v, ok := s.invites.Load(key); ok {
			v.(*pendingInvite).cancel()
			s.respond(tx, req, 200, "OK")
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
}
