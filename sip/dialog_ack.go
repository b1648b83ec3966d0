package sip

import (
	"context"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// expectAck registers a 2xx we sent to an in-dialog INVITE with CSeq cseq
// and returns a channel closed when its ACK arrives.
func (d *dialogState) expectAck(cseq uint32) chan struct{} {
	ch := make(chan struct{})
	d.acks.Store(cseq, ch)
	return ch
}

// acked records the ACK for cseq (idempotent; ACKs for other CSeqs are ignored).
func (d *dialogState) acked(cseq uint32) {
	if ch, ok := d.acks.LoadAndDelete(cseq); ok {
		close(ch.(chan struct{}))
	}
}

// retransmit2xx sends the 2xx res to an INVITE again until its ACK
// arrives (RFC 3261 §13.3.1.4: the UAS core, not the transaction,
// retransmits a 2xx, at T1 doubling to T2 — whatever the first hop's
// transport, since a later hop may be UDP). It returns nil on the ACK,
// errNoAck after 64·T1 (the caller then ends the dialog with BYE), or
// ctx's error. A failed write is logged and retried.
func (s *Server) retransmit2xx(ctx context.Context, res *gosip.Response, acked <-chan struct{}) error {
	deadline := time.NewTimer(64 * gosip.T1)
	defer deadline.Stop()
	interval := gosip.T1
	retry := time.NewTimer(interval)
	defer retry.Stop()
	for {
		select {
		case <-acked:
			return nil
		case <-deadline.C:
			return errNoAck
		case <-ctx.Done():
			return ctx.Err()
		case <-retry.C:
			if err := s.writeResponse(res); err != nil {
				s.log.Debug("2xx_retransmit_failed", "error", err)
			}
			interval = min(2*interval, gosip.T2)
			retry.Reset(interval)
		}
	}
}
