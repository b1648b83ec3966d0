package sip

import (
	"strings"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// Timers of RFC 3261 §17.1.1.1 for retransmitting a 2xx to an INVITE.
const (
	timerT1 = 500 * time.Millisecond
	timerT2 = 4 * time.Second
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

// retransmit2xx sends res again until its ACK arrives (RFC 3261 §13.3.1.4:
// the UAS core retransmits a 2xx to INVITE itself, at T1 doubling to T2,
// over unreliable transports). When no ACK comes within 64·T1 it reports
// false, and the caller ends the dialog with BYE.
func (s *Server) retransmit2xx(d *dialogState, res *gosip.Response, acked <-chan struct{}) bool {
	if !strings.EqualFold(res.Transport(), "udp") {
		d.acks.Delete(res.CSeq().SeqNo) // reliable transport: no retransmission (§17.2.1)
		return true
	}
	deadline := time.NewTimer(64 * timerT1)
	defer deadline.Stop()
	interval := timerT1
	for {
		t := time.NewTimer(interval)
		select {
		case <-acked:
			t.Stop()
			return true
		case <-deadline.C:
			t.Stop()
			cseq := res.CSeq().SeqNo
			d.acks.Delete(cseq)
			return false
		case <-t.C:
			if err := s.writeResponse(res); err != nil {
				s.log.Debug("2xx_retransmit_failed", "error", err)
			}
			interval = min(2*interval, timerT2)
		}
	}
}
