package sip

import (
	"sync"

	gosip "github.com/emiago/sipgo/sip"
)

// dialogTable routes in-dialog requests (BYE, re-INVITE, ACK, UPDATE, INFO)
// to the leg that owns the dialog. Mutex-guarded, no I/O under the lock.
type dialogTable struct {
	mu sync.RWMutex
	m  map[dialogKey]dialogPeer
}

// dialogPeer is a leg that can take in-dialog requests.
type dialogPeer interface {
	onRequest(req *gosip.Request, tx gosip.ServerTransaction)
	onAck(req *gosip.Request)
}

func newDialogTable() *dialogTable { return &dialogTable{m: make(map[dialogKey]dialogPeer)} }

func (t *dialogTable) add(k dialogKey, p dialogPeer) {
	t.mu.Lock()
	t.m[k] = p
	t.mu.Unlock()
}

func (t *dialogTable) remove(k dialogKey) {
	t.mu.Lock()
	delete(t.m, k)
	t.mu.Unlock()
}

func (t *dialogTable) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}

// get returns the leg of dialog k, if any.
func (t *dialogTable) get(k dialogKey) dialogPeer {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[k]
}

// lookup finds the dialog of an incoming request: our tag is in To, theirs in From.
func (t *dialogTable) lookup(req *gosip.Request) dialogPeer {
	cid, from, to := req.CallID(), req.From(), req.To()
	if cid == nil || from == nil || to == nil {
		return nil
	}
	local, _ := to.Params.Get("tag")
	remote, _ := from.Params.Get("tag")
	return t.get(dialogKey{callID: cid.Value(), localTag: local, remoteTag: remote})
}
