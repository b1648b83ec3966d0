package cdr

import (
	"maps"
	"strconv"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
)

// mediaKeys are the Data keys a CDR keeps.
var mediaKeys = []string{
	call.DataCodecA, call.DataCodecB,
	call.DataPacketsLostA, call.DataJitterMSA, call.DataPacketsLostB, call.DataJitterMSB,
}

// change maps one event to the CDR change it makes, if any. Media facts
// seen before the end are kept per call until call_ended.
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
		return store.CDRChange{Kind: store.CDRCreate, CDR: c}, true
	case call.EventCallAnswered:
		r.remember(ev)
		c.Answer = ev.Time
		return store.CDRChange{Kind: store.CDRAnswer, CDR: c}, true
	case call.EventCallMedia:
		r.remember(ev)
		return store.CDRChange{}, false
	case call.EventCallEnded:
		r.remember(ev)
		d := r.media[ev.CallID]
		delete(r.media, ev.CallID)
		c.End, c.Cause, c.HangupSide = ev.Time, ev.Cause.String(), ev.HangupSide.String()
		c.CodecA, c.CodecB = d[call.DataCodecA], d[call.DataCodecB]
		c.QualityA = r.parseQuality(ev.CallID, d, call.DataPacketsLostA, call.DataJitterMSA)
		c.QualityB = r.parseQuality(ev.CallID, d, call.DataPacketsLostB, call.DataJitterMSB)
		return store.CDRChange{Kind: store.CDRComplete, CDR: c}, true
	}
	return store.CDRChange{}, false
}

// remember keeps the media facts of ev's Data, later ones overriding.
func (r *Recorder) remember(ev call.Event) {
	var kept map[string]string
	for _, k := range mediaKeys {
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
