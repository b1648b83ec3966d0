package sip

import (
	"strconv"
	"sync"
	"sync/atomic"

	gosip "github.com/emiago/sipgo/sip"
)

// dialogState is the part of a dialog needed to send and match in-dialog
// requests (RFC 3261 §12). One exists per leg once a To tag is known.
type dialogState struct {
	callID    string
	localTag  string
	remoteTag string
	local     gosip.Uri // our URI (From of our requests)
	localName string
	remote    gosip.Uri // peer's URI (To of our requests)

	localCSeq atomic.Uint32
	// pendingOut is set while we have an INVITE outstanding on the dialog;
	// an INVITE from the peer meanwhile is glare (RFC 3261 §14.2: 491).
	pendingOut atomic.Bool

	mu           sync.Mutex
	remoteCSeq   uint32
	remoteTarget gosip.Uri // peer's Contact (§12.1.1); updated by target-refresh requests
	routeSet     []gosip.Uri
	destination  string // where requests go: the peer's NATed source (ip:port), not its Contact
	transport    string // "UDP" or "TCP"
	laddr        gosip.Addr
	contact      gosip.ContactHeader // our Contact

	acks sync.Map // CSeq → chan struct{}: 2xx to in-dialog INVITEs awaiting ACK (dialog_ack.go)
}

// dialogKey identifies a dialog from our side: Call-ID, our tag, their tag.
type dialogKey struct{ callID, localTag, remoteTag string }

func (d *dialogState) key() dialogKey {
	return dialogKey{callID: d.callID, localTag: d.localTag, remoteTag: d.remoteTag}
}

// newRequest builds an in-dialog request (RFC 3261 §12.2.1.1).
func (d *dialogState) newRequest(method gosip.RequestMethod) *gosip.Request {
	d.mu.Lock()
	target := d.remoteTarget
	routes := append([]gosip.Uri(nil), d.routeSet...)
	dest, transport, laddr, contact := d.destination, d.transport, d.laddr, d.contact
	d.mu.Unlock()

	req := gosip.NewRequest(method, target)
	from := &gosip.FromHeader{DisplayName: d.localName, Address: d.local, Params: gosip.NewParams()}
	from.Params.Add("tag", d.localTag)
	to := &gosip.ToHeader{Address: d.remote, Params: gosip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := gosip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	seq := d.localCSeq.Load()
	if method != gosip.ACK && method != gosip.CANCEL {
		seq = d.localCSeq.Add(1)
	}
	req.AppendHeader(&gosip.CSeqHeader{SeqNo: seq, MethodName: method})
	mf := gosip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, r := range routes {
		req.AppendHeader(&gosip.RouteHeader{Address: r})
	}
	if method == gosip.INVITE || method == gosip.UPDATE || method == gosip.NOTIFY {
		// Target-refresh requests carry Contact (RFC 3261 §12.2.1.1; NOTIFY: RFC 6665 §4.1.2.2).
		c := contact
		req.AppendHeader(&c)
	}
	req.SetTransport(transport)
	if dest != "" {
		req.SetDestination(dest)
	}
	req.Laddr = laddr
	return req
}

// checkRemoteCSeq applies RFC 3261 §12.2.2: a request with a lower CSeq
// than the last one is out of order. It records the new CSeq.
func (d *dialogState) checkRemoteCSeq(seq uint32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.remoteCSeq != 0 && seq < d.remoteCSeq {
		return false
	}
	d.remoteCSeq = seq
	return true
}

// refreshTarget updates the remote target from a target-refresh request or
// its 2xx (RFC 3261 §12.2.2, re-INVITE/UPDATE).
func (d *dialogState) refreshTarget(c *gosip.ContactHeader) {
	if c == nil {
		return
	}
	d.mu.Lock()
	d.remoteTarget = *c.Address.Clone()
	d.mu.Unlock()
}

// routeSetFrom returns the Record-Route URIs of msg, reversed when we are the UAC (§12.1.2).
func routeSetFrom(msg interface{ GetHeaders(string) []gosip.Header }, reverse bool) []gosip.Uri {
	var out []gosip.Uri
	for _, h := range msg.GetHeaders("Record-Route") {
		if rr, ok := h.(*gosip.RecordRouteHeader); ok {
			out = append(out, *rr.Address.Clone())
		}
	}
	if reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func newTag() string { return randHex(8) }

func newCallID(host string) string { return randHex(16) + "@" + host }

func u32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}
