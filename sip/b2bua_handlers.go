package sip

import (
	"net/netip"
	"strings"

	gosip "github.com/emiago/sipgo/sip"
)

// supportedOptions are the option tags we can honour in Require (RFC 3261 §8.2.2.3).
var supportedOptions = map[string]bool{"timer": true}

// onAckRequest routes an ACK for a 2xx to its dialog (ACKs for non-2xx are
// absorbed by the INVITE server transaction).
func (s *Server) onAckRequest(req *gosip.Request, _ gosip.ServerTransaction) {
	if p := s.dialogs.lookup(req); p != nil {
		p.onAck(req)
	}
}

// onDialogRequest routes BYE, UPDATE, INFO and in-dialog OPTIONS/INVITE.
func (s *Server) onDialogRequest(req *gosip.Request, tx gosip.ServerTransaction) {
	src, _ := netip.ParseAddrPort(req.Source())
	if s.guard.Banned(src.Addr(), s.now()) {
		s.metrics.drop("banned")
		return
	}
	s.metrics.request(string(req.Method))
	p := s.dialogs.lookup(req)
	if p == nil {
		// RFC 3261 §12.2.2: a request that matches no dialog gets 481.
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	p.onRequest(req, tx)
}

// respond sends a stateful response and counts it.
func (s *Server) respond(tx gosip.ServerTransaction, req *gosip.Request, code int, reason string, headers ...gosip.Header) {
	res := gosip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	s.metrics.response(string(req.Method), code)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip_respond_failed", "method", string(req.Method), "code", code, "error", err)
	}
}

// unsupportedRequire returns the Require option tags we cannot honour.
func unsupportedRequire(req *gosip.Request) []string {
	var out []string
	for _, tag := range requiredOptions(req) {
		if !supportedOptions[strings.ToLower(tag)] {
			out = append(out, tag)
		}
	}
	return out
}
