package routing

import (
	"fmt"
	"strings"
)

// Inbound routes a call that arrived on trunk tr (nil: from no known trunk;
// then only entries without trunks apply) for the called number as
// received. The number is normalised with the trunk's numbering plan (the
// home plan when tr is nil); a digit string that cannot be normalised is
// also tried as E.164 without its "+" ("862155550100"), as many carriers
// send it. A URI parameter suffix (";npdi") is ignored.
//
// Exact entries win over wildcard ones; among wildcards, the one with the
// fewest X wins (Validate refuses entries that would tie). ErrUnknownDID
// (wrapped) when none matches.
func (t *Table) Inbound(tr *Trunk, called string) (Inbound, error) {
	if t == nil {
		return Inbound{}, fmt.Errorf("%w: %q", ErrUnknownDID, called)
	}
	plan := t.home
	if tr != nil {
		plan = tr.Numbering
	}
	raw, _, _ := strings.Cut(called, ";")
	n, ok := plan.E164(raw)
	if !ok {
		if !isDigits(n) || len(n) > maxE164Digits || n[0] == '0' {
			return Inbound{}, fmt.Errorf("%w: %q", ErrUnknownDID, called)
		}
		n = "+" + n
	}
	if e := t.lookupDID(tr, n); e != nil {
		return Inbound{DID: n, Pattern: e.number, Dest: e.dest}, nil
	}
	return Inbound{}, fmt.Errorf("%w: %q", ErrUnknownDID, called)
}

// lookupDID finds the entry for the E.164 number n on trunk tr.
func (t *Table) lookupDID(tr *Trunk, n string) *didEntry {
	for _, e := range t.exact[n] {
		if e.on(tr) {
			return e
		}
	}
	for _, e := range t.wild {
		if len(n) == len(e.number) && strings.HasPrefix(n, e.prefix) && e.on(tr) {
			return e
		}
	}
	return nil
}

// on reports whether the entry applies to calls arriving on tr.
func (e *didEntry) on(tr *Trunk) bool { return e.trunks == nil || e.trunks[tr] }
