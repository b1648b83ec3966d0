package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func upd(aor, callID string, cseq uint32, contacts ...ContactUpdate) Update {
	return Update{AOR: aor, CallID: callID, CSeq: cseq, Contacts: contacts,
		Source: netip.MustParseAddrPort("192.0.2.10:5060"), Transport: "udp"}
}

func cu(contact string, exp time.Duration) ContactUpdate {
	return ContactUpdate{Key: contact, Contact: contact, Expires: exp}
}

func TestBindingTableApply(t *testing.T) {
	var sunk []Change
	tb := NewBindingTable(3, func(c Change) { sunk = append(sunk, c) })

	ch, after, err := tb.Apply(upd("1001", "a", 1, cu("sip:1001@192.0.2.10", time.Hour)), t0)
	if err != nil || len(ch) != 1 || ch[0].Op != OpAdd || len(after) != 1 {
		t.Fatalf("add: changes %v after %v err %v", ch, after, err)
	}
	// Retransmission (same Call-ID and CSeq): no change, same answer.
	ch, after, err = tb.Apply(upd("1001", "a", 1, cu("sip:1001@192.0.2.10", time.Hour)), t0.Add(time.Second))
	if err != nil || len(ch) != 0 || len(after) != 1 || !after[0].Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("retransmission: changes %v after %v err %v", ch, after, err)
	}
	// Lower CSeq on the same Call-ID is out of order (RFC 3261 §10.3 step 7) and changes nothing.
	tb.Apply(upd("1001", "a", 5, cu("sip:1001@192.0.2.10", time.Hour)), t0)
	if _, _, err := tb.Apply(upd("1001", "a", 4, cu("sip:1001@192.0.2.10", 0)), t0); err != ErrCSeqOutOfOrder {
		t.Fatalf("out of order: err = %v", err)
	}
	if tb.Len() != 1 {
		t.Fatal("out-of-order request changed the table")
	}
	// A different Call-ID (phone rebooted) may refresh at any CSeq.
	ch, _, _ = tb.Apply(upd("1001", "b", 1, cu("sip:1001@192.0.2.10", 2*time.Hour)), t0)
	if len(ch) != 1 || ch[0].Op != OpRefresh {
		t.Fatalf("refresh from new Call-ID: %v", ch)
	}
	// Several contacts, then the per-AOR limit, checked before anything changes.
	tb.Apply(upd("1001", "c", 1, cu("sip:1001@192.0.2.11", time.Hour), cu("sip:1001@192.0.2.12", time.Hour)), t0)
	if tb.Len() != 3 {
		t.Fatalf("len = %d, want 3", tb.Len())
	}
	if _, _, err := tb.Apply(upd("1001", "d", 1, cu("sip:1001@192.0.2.13", time.Hour)), t0); err != ErrTooManyContacts {
		t.Fatalf("limit: err = %v", err)
	}
	// Expires 0 removes one; Contact: * removes all.
	ch, after, _ = tb.Apply(upd("1001", "c", 2, cu("sip:1001@192.0.2.11", 0)), t0)
	if len(ch) != 1 || ch[0].Op != OpRemove || len(after) != 2 {
		t.Fatalf("remove: %v %v", ch, after)
	}
	u := upd("1001", "z", 1)
	u.Wildcard = true
	ch, after, _ = tb.Apply(u, t0)
	if len(ch) != 2 || len(after) != 0 || tb.Len() != 0 {
		t.Fatalf("wildcard: %v %v len %d", ch, after, tb.Len())
	}
	// The sink saw every change, in order.
	want := []ChangeOp{OpAdd, OpRefresh, OpRefresh, OpAdd, OpAdd, OpRemove, OpRemove, OpRemove}
	if len(sunk) != len(want) {
		t.Fatalf("sink saw %d changes, want %d", len(sunk), len(want))
	}
	for i, op := range want {
		if sunk[i].Op != op {
			t.Errorf("sink[%d] = %v, want %v", i, sunk[i].Op, op)
		}
	}
}

func TestBindingTableMovedPhoneIsAdd(t *testing.T) {
	tb := NewBindingTable(10, nil)
	tb.Apply(upd("1001", "a", 1, cu("sip:1001@192.0.2.10", time.Hour)), t0)
	u := upd("1001", "a", 2, cu("sip:1001@192.0.2.10", time.Hour))
	u.Source = netip.MustParseAddrPort("198.51.100.1:40000")
	ch, _, _ := tb.Apply(u, t0)
	if len(ch) != 1 || ch[0].Op != OpAdd || ch[0].Binding.Source != u.Source {
		t.Fatalf("moved phone: %v", ch)
	}
}

func TestBindingTableRestoreDropsExpired(t *testing.T) {
	var sunk []Change
	tb := NewBindingTable(10, func(c Change) { sunk = append(sunk, c) })
	expired := tb.Restore([]Binding{
		{AOR: "1001", Key: "k1", Contact: "sip:a", Expires: t0.Add(time.Minute)},
		{AOR: "1001", Key: "k2", Contact: "sip:b", Expires: t0.Add(-time.Minute)},
	}, t0)
	if len(expired) != 1 || tb.Len() != 1 || len(sunk) != 1 || sunk[0].Op != OpExpire {
		t.Fatalf("expired %v len %d sunk %v", expired, tb.Len(), sunk)
	}
}

// TestRunExpiry drives the registrar's expiry loop in virtual time.
func TestRunExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sunk []Change
		tb := NewBindingTable(10, func(c Change) { sunk = append(sunk, c) })
		r := &Registrar{table: tb, now: time.Now, log: slog.New(slog.DiscardHandler)}
		now := time.Now()
		tb.Apply(upd("1001", "a", 1, cu("sip:1001@192.0.2.10", 30*time.Second)), now)
		tb.Apply(upd("1002", "a", 1, cu("sip:1002@192.0.2.11", 90*time.Second)), now)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { r.RunExpiry(ctx, time.Second); close(done) }()

		time.Sleep(29 * time.Second)
		synctest.Wait()
		if tb.Len() != 2 {
			t.Fatalf("at 29s: %d bindings, want 2", tb.Len())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if b := tb.All(); len(b) != 1 || b[0].AOR != "1002" {
			t.Fatalf("at 31s: %v", b)
		}
		time.Sleep(60 * time.Second)
		synctest.Wait()
		if tb.Len() != 0 {
			t.Fatalf("at 91s: %d bindings", tb.Len())
		}
		if len(sunk) != 4 || sunk[2].Op != OpExpire || sunk[3].Op != OpExpire {
			t.Fatalf("sink: %v", sunk)
		}
		cancel()
		<-done
	})
}
