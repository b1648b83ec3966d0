package server

import (
	"context"

	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/web"
)

// cdrAPI serves call detail records to the API from the database.
type cdrAPI struct{ st *store.Store }

var _ web.CDRs = cdrAPI{}

func (c cdrAPI) ListCDRs(ctx context.Context, q web.CDRQuery) ([]web.CDR, error) {
	list, err := c.st.ListCDRs(ctx, store.CDRFilter{Since: q.Since, Until: q.Until, Caller: q.Caller, Callee: q.Callee, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]web.CDR, len(list))
	for i, x := range list {
		out[i] = WebCDR(x)
	}
	return out, nil
}

// WebCDR is a stored CDR in the API's JSON shape (also printed by `switchd cdr list --json`).
func WebCDR(c store.CDR) web.CDR {
	out := web.CDR{
		ID: c.ID, Medium: c.Medium, Direction: c.Direction, Caller: c.Caller, CallerName: c.CallerName,
		Callee: c.Callee, CalleeName: c.CalleeName, Start: c.Start.UTC(), DurationMS: c.Duration.Milliseconds(),
		BillableMS: c.Billable.Milliseconds(), Cause: c.Cause, HangupSide: c.HangupSide, CodecA: c.CodecA, CodecB: c.CodecB,
		Trunk: c.Trunk, DID: c.DID, Route: c.Route,
	}
	if !c.Answer.IsZero() {
		out.Answer = c.Answer.UTC()
	}
	if !c.End.IsZero() {
		out.End = c.End.UTC()
	}
	if q := c.QualityA; q != nil {
		out.QualityA = &web.MediaQuality{PacketsLost: q.PacketsLost, JitterMS: q.JitterMS}
	}
	if q := c.QualityB; q != nil {
		out.QualityB = &web.MediaQuality{PacketsLost: q.PacketsLost, JitterMS: q.JitterMS}
	}
	return out
}
