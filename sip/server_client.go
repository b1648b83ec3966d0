package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// noBuild is a client request option that leaves a fully built request as it is.
func noBuild(*sipgo.Client, *gosip.Request) error { return nil }

// laddrFor returns the listener to send from towards dst over transport, so
// a phone behind NAT sees our requests come from the address it registered
// to. TCP requests reuse the phone's connection and need no local address.
func (s *Server) laddrFor(transport string, local string, dst netip.AddrPort) gosip.Addr {
	if !strings.EqualFold(transport, "udp") {
		return gosip.Addr{}
	}
	conn := s.udp[local]
	if conn == nil {
		for _, c := range s.udp {
			la := addrPortOf(c.LocalAddr()).Addr()
			if la.Is4() == dst.Addr().Is4() && (la.IsUnspecified() || la.IsLoopback() == dst.Addr().IsLoopback()) {
				conn = c
				break
			}
		}
	}
	if conn == nil {
		return gosip.Addr{}
	}
	ap := addrPortOf(conn.LocalAddr())
	return gosip.Addr{IP: net.IP(ap.Addr().AsSlice()), Port: int(ap.Port())}
}

// hostFor is the address we put in Via and Contact towards dst: the
// listener's own IP, or for a wildcard listener the local IP that routes to dst.
func (s *Server) hostFor(laddr gosip.Addr, transport string, dst netip.AddrPort) (string, int) {
	port := laddr.Port
	if port == 0 {
		port = s.listenPort(transport)
	}
	ip, ok := netip.AddrFromSlice(laddr.IP)
	if !ok || ip.IsUnspecified() {
		ip = s.qual.sourceIPFor(dst.Addr())
	}
	return ip.Unmap().String(), port
}

func (s *Server) listenPort(transport string) int {
	for _, l := range s.cfg.ListenAddrs() {
		if strings.EqualFold(l.Transport, transport) {
			if p := s.ua.TransportLayer().GetListenPort(strings.ToLower(transport)); p > 0 {
				return p
			}
			return int(l.Addr.Port())
		}
	}
	return gosip.DefaultUdpPort
}

// contactFor is our Contact header for a dialog on laddr/transport towards dst.
func (s *Server) contactFor(laddr gosip.Addr, transport string) gosip.ContactHeader {
	return s.contactTo(laddr, transport, netip.AddrPort{})
}

func (s *Server) contactTo(laddr gosip.Addr, transport string, dst netip.AddrPort) gosip.ContactHeader {
	host, port := s.hostFor(laddr, transport, dst)
	u := gosip.Uri{Scheme: "sip", User: "switchd", Host: host, Port: port, UriParams: gosip.NewParams()}
	if !strings.EqualFold(transport, "udp") {
		u.UriParams.Add("transport", strings.ToLower(transport))
	}
	return gosip.ContactHeader{Address: u}
}

// viaFor is our Via for a request sent towards dst (RFC 3261 §8.1.1.7):
// the sending listener's address, a fresh branch, and rport (RFC 3581)
// when asked.
func (s *Server) viaFor(req *gosip.Request, dst netip.AddrPort, rport bool) *gosip.ViaHeader {
	host, port := s.hostFor(req.Laddr, req.Transport(), dst)
	via := &gosip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: strings.ToUpper(req.Transport()),
		Host: host, Port: port, Params: gosip.NewParams()}
	via.Params.Add("branch", gosip.GenerateBranchN(16))
	if rport {
		via.Params.Add("rport", "")
	}
	return via
}

// send starts a client transaction for a fully built request, adding our Via.
func (s *Server) send(ctx context.Context, req *gosip.Request) (gosip.ClientTransaction, error) {
	dst, _ := netip.ParseAddrPort(req.Destination())
	if req.Via() == nil {
		req.PrependHeader(s.viaFor(req, dst, true))
	}
	if req.GetHeader("User-Agent") == nil {
		req.AppendHeader(gosip.NewHeader("User-Agent", s.ua.Name()))
	}
	if req.ContentLength() == nil {
		req.SetBody(req.Body())
	}
	s.metrics.request(string(req.Method) + "_out")
	tx, err := s.client.TransactionRequest(ctx, req, noBuild)
	if err != nil {
		return nil, fmt.Errorf("sip: send %s: %w", req.Method, err)
	}
	return tx, nil
}

// requestInDialog sends an in-dialog request and waits for its final response.
func (s *Server) requestInDialog(ctx context.Context, d *dialogState, method gosip.RequestMethod, body []byte) error {
	res, err := s.doInDialog(ctx, d, method, body, nil)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip: %s answered %d %s", method, res.StatusCode, res.Reason)
	}
	return nil
}

// doInDialog sends an in-dialog request and returns its final response.
func (s *Server) doInDialog(ctx context.Context, d *dialogState, method gosip.RequestMethod, body []byte, headers []gosip.Header) (*gosip.Response, error) {
	req := d.newRequest(method)
	for _, h := range headers {
		req.AppendHeader(h)
	}
	if body != nil {
		req.SetBody(body)
		if req.ContentType() == nil {
			req.AppendHeader(gosip.NewHeader("Content-Type", "application/sdp"))
		}
	}
	tx, err := s.send(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("sip: %s: %w", method, err)
			}
			return nil, fmt.Errorf("sip: %s: transaction ended without response", method)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// writeResponse sends a response outside its transaction (2xx retransmission, §13.3.1.4).
func (s *Server) writeResponse(res *gosip.Response) error {
	return s.ua.TransportLayer().WriteMsg(res)
}
