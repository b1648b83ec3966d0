package cdr

import (
	"maps"
	"strconv"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
)

// keptKeys are the Data keys a CDR keeps: media facts and routing facts.
var keptKeys = []string{
	call.DataCodecA, call.DataCodecB,
	call.DataPacketsLostA, call.DataJitterMSA, call.DataPacketsLostB, call.DataJitterMSB,
	call.DataTrunk, call.DataDID, call.DataRoute,
}

// change maps one event to the CDR change it makes, if any. call_created
// takes the routing facts of its own Data; media and routing facts seen
// after it are kept per call until call_ended, later ones overriding, and
// go into the answer and the completion.
func (r *Recorder) change(ev call.Event) (store.CDRChange, bool) {
	if ev.CallID == "" {
		return store.CDRChange{}, false
	}
	c := store.CDR{
		ID: string(ev.CallID), Medium: known(ev.Medium, call.MediumUnknown), Direction: known(ev.Direction, call.DirectionUnknown),
		Caller: ev.Caller.Number, CallerName: ev.Caller.Name, Callee: ev.Callee.Number, CalleeName: ev.Callee.Name,
	}
	switch ev.Type {
	case call.EventCallCreated:
		c.Start = ev.Time
		routing(&c, ev.Data)
		return store.CDRChange{Kind: store.CDRCreate, CDR: c}, true
	case call.EventCallAnswered:
		r.remember(ev)
		c.Answer = ev.Time
		routing(&c, r.media[ev.CallID])
		return store.CDRChange{Kind: store.CDRAnswer, CDR: c}, true
	case call.EventCallMedia:
		r.remember(ev)
		return store.CDRChange{}, false
	case call.EventCallEnded:
		r.remember(ev)
		d := r.media[ev.CallID]
		delete(r.media, ev.CallID)
		c.End, c.Cause, c.HangupSide = ev.Time, ev.Cause.String(), ev.HangupSide.String()
		routing(&c, d)
		c.CodecA, c.CodecB = d[call.DataCodecA], d[call.DataCodecB]
		c.QualityA = r.parseQuality(ev.CallID, d, call.DataPacketsLostA, call.DataJitterMSA)
		c.QualityB = r.parseQuality(ev.CallID, d, call.DataPacketsLostB, call.DataJitterMSB)
		return store.CDRChange{Kind: store.CDRComplete, CDR: c}, true
	}
	return store.CDRChange{}, false
}

// routing copies the routing facts of d into c; absent ones stay empty,
// which the store reads as "keep what the row has".
func routing(c *store.CDR, d map[string]string) {
	c.Trunk, c.DID, c.Route = d[call.DataTrunk], d[call.DataDID], d[call.DataRoute]
}

// remember keeps the media and routing facts of ev's Data, later ones
// overriding.
func (r *Recorder) remember(ev call.Event) {
	var kept map[string]string
	for _, k := range keptKeys {
		if v, ok := ev.Data[k]; ok {
			if kept == nil {
				kept = maps.Clone(r.media[ev.CallID])
				if kept == nil {
					kept = map[string]string{}
				}
			}
			kept[k] = v
		}
	}
	if kept != nil {
		r.media[ev.CallID] = kept
	}
}

// known is an enumeration's name, or "" for its unknown zero value.
func known[T interface {
	comparable
	String() string
}](v, unknown T) string {
	if v == unknown {
		return ""
	}
	return v.String()
}

// parseQuality reads one leg's quality from event data; nil when neither
// value is present. Malformed values are logged and left out.
func (r *Recorder) parseQuality(id call.ID, d map[string]string, lostKey, jitterKey string) *store.MediaQuality {
	lost, hasLost := d[lostKey]
	jitter, hasJitter := d[jitterKey]
	if !hasLost && !hasJitter {
		return nil
	}
	q := &store.MediaQuality{}
	var err error
	if hasLost {
		if q.PacketsLost, err = strconv.ParseInt(lost, 10, 64); err != nil {
			r.log.Warn("cdr_bad_quality_value", "call_id", id, "key", lostKey, "value", lost)
		}
	}
	if hasJitter {
		if q.JitterMS, err = strconv.ParseFloat(jitter, 64); err != nil {
			r.log.Warn("cdr_bad_quality_value", "call_id", id, "key", jitterKey, "value", jitter)
		}
	}
	return q
}
