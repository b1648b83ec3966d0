package server

import (
	"context"
	"net/netip"

	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/sip"
)

// persistBinding queues a binding change for the database (the table's sink).
func (s *Server) persistBinding(c sip.Change) {
	b := c.Binding
	op := store.RegistrationOp{Reg: store.Registration{AOR: b.AOR, Key: b.Key}}
	switch c.Op {
	case sip.OpAdd, sip.OpRefresh:
		op.Reg = store.Registration{
			AOR: b.AOR, Key: b.Key, Contact: b.Contact, Instance: b.Instance, Q: b.Q, RegID: b.RegID,
			CallID: b.CallID, CSeq: b.CSeq, Expires: b.Expires, Source: b.Source.String(),
			Transport: b.Transport, Local: b.Local, UserAgent: b.UserAgent, Updated: b.Updated,
		}
	default:
		op.Delete = true
	}
	s.writer.Queue(op)
}

// restoreBindings loads persisted bindings so phones stay reachable across a restart.
func (s *Server) restoreBindings(ctx context.Context, table *sip.BindingTable) error {
	regs, err := s.store.Registrations(ctx)
	if err != nil {
		return err
	}
	bs := make([]sip.Binding, 0, len(regs))
	for _, r := range regs {
		src, err := netip.ParseAddrPort(r.Source)
		if err != nil {
			s.log.Warn("registration_not_restored", "aor", r.AOR, "contact", r.Contact, "error", err)
			continue
		}
		bs = append(bs, sip.Binding{
			AOR: r.AOR, Key: r.Key, Contact: r.Contact, Instance: r.Instance, RegID: r.RegID, Q: r.Q,
			CallID: r.CallID, CSeq: r.CSeq, Expires: r.Expires, Source: src, Transport: r.Transport,
			Local: r.Local, UserAgent: r.UserAgent, Updated: r.Updated,
		})
	}
	expired := table.Restore(bs, s.now())
	s.log.Info("registrations_restored", "count", len(bs)-len(expired), "expired", len(expired))
	return nil
}
