package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/media/prompt"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/web"
)

// FeaturesConfig is the `features:` section: call pickup, call park and
// the in-call transfer codes of phones without a transfer key.
type FeaturesConfig struct {
	// Pickup is the group pickup code: it answers the call ringing
	// longest at an extension of the dialler's pickup groups. Default "*8".
	Pickup string `yaml:"pickup"`
	// DirectedPickup is the prefix of a directed pickup: the prefix and an
	// extension ("**1001") answers the call ringing that extension, if
	// the dialler shares a pickup group with it. Default "**".
	DirectedPickup string `yaml:"directed_pickup"`
	// PickupGroups are sets of extensions that may pick up each other's
	// calls. None (the default): every extension may pick up any.
	PickupGroups [][]string `yaml:"pickup_groups"`
	// ParkSlots are the park slot numbers, a range "701-720". A call
	// transferred to a free slot waits there with music on hold; dialling
	// the slot from any phone retrieves it. Default "701-720"; "" = no park.
	ParkSlots string `yaml:"park_slots"`
	// ParkTimeout is how long a call stays parked before it rings the
	// extension that parked it again. Default 60s.
	ParkTimeout config.Duration `yaml:"park_timeout"`
	// BlindTransfer is the in-call code for a blind transfer: the code,
	// the number, then # ("##2001#"), keys at most 3 s apart, sent as
	// RFC 4733 events. Only an extension's phone can use it. Default "##";
	// "" turns it off.
	BlindTransfer string `yaml:"blind_transfer"`
	// AttendedTransfer is the in-call code for an attended transfer
	// ("*22001#"): the other party hears music on hold while the target
	// rings and then talks with the transferor; the transferor hanging up
	// completes the transfer, the target hanging up or refusing brings
	// the call back. Default "*2"; "" turns it off.
	AttendedTransfer string `yaml:"attended_transfer"`
}

// DefaultFeaturesConfig is the built-in `features:` section.
func DefaultFeaturesConfig() FeaturesConfig {
	return FeaturesConfig{Pickup: "*8", DirectedPickup: "**", ParkSlots: "701-720",
		ParkTimeout: config.Duration(60 * time.Second), BlindTransfer: "##", AttendedTransfer: "*2"}
}

// parkRange returns the first and last park slot (0, 0: no park).
func (c FeaturesConfig) parkRange() (int, int, error) {
	if c.ParkSlots == "" {
		return 0, 0, nil
	}
	lo, hi, ok := strings.Cut(c.ParkSlots, "-")
	if !ok {
		hi = lo
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a <= 0 || b < a || b-a >= 1000 {
		return 0, 0, fmt.Errorf("%q is not a range like 701-720 (at most 1000 slots)", c.ParkSlots)
	}
	return a, b, nil
}

// Validate checks the section.
func (c *FeaturesConfig) Validate() []config.Problem {
	var ps config.Problems
	for _, f := range []struct{ key, v string }{{"pickup", c.Pickup}, {"directed_pickup", c.DirectedPickup}, {"blind_transfer", c.BlindTransfer}, {"attended_transfer", c.AttendedTransfer}} {
		if strings.Trim(f.v, "0123456789*#") != "" {
			ps.Add(f.key, "%q is not dialable (digits, * and #)", f.v)
		}
	}
	if _, _, err := c.parkRange(); err != nil {
		ps.Add("park_slots", "%v", err)
	}
	if c.ParkTimeout.D() <= 0 {
		ps.Add("park_timeout", "must be positive")
	}
	for i, g := range c.PickupGroups {
		if len(g) == 0 {
			ps.Add(fmt.Sprintf("pickup_groups[%d]", i), "is empty")
		}
	}
	return ps.List()
}

// features serves pickup and park.
type features struct {
	cfg    FeaturesConfig
	lo, hi int // the park slots (0, 0: none)
	mohDir string
	now    func() time.Time
	log    *slog.Logger
	mu     sync.Mutex
	parked map[string]parkedLeg // by slot
}

// parkedLeg is a call waiting in a slot.
type parkedLeg struct {
	leg   *sip.AppLeg
	since time.Time
}

var _ web.Parked = (*features)(nil)

// ParkedCalls implements web.Parked.
func (f *features) ParkedCalls(context.Context) ([]web.ParkedCall, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]web.ParkedCall, 0, len(f.parked))
	for slot, p := range f.parked {
		out = append(out, web.ParkedCall{Slot: slot, CallID: string(p.leg.CallID()), Caller: p.leg.Caller().Number,
			ParkedBy: p.leg.TransferredBy(), Since: p.since})
	}
	slices.SortFunc(out, func(a, b web.ParkedCall) int { return strings.Compare(a.Slot, b.Slot) })
	return out, nil
}

// newFeatures serves cfg (validated: its park range parses).
func newFeatures(cfg FeaturesConfig, mohDir string, now func() time.Time, log *slog.Logger) *features {
	lo, hi, _ := cfg.parkRange()
	return &features{cfg: cfg, lo: lo, hi: hi, mohDir: mohDir, now: now, log: log, parked: map[string]parkedLeg{}}
}

// app returns the application of a number an extension dials, if it is
// a pickup code or a park slot.
func (f *features) app(dialled string) (sip.Application, bool) {
	switch {
	case f.cfg.Pickup != "" && dialled == f.cfg.Pickup:
		return pickupApp{f: f}, true
	case f.cfg.DirectedPickup != "" && len(dialled) > len(f.cfg.DirectedPickup) && strings.HasPrefix(dialled, f.cfg.DirectedPickup):
		ext := dialled[len(f.cfg.DirectedPickup):]
		if strings.Trim(ext, "0123456789") == "" {
			return pickupApp{f: f, ext: ext}, true
		}
	}
	if n, err := strconv.Atoi(dialled); f.lo > 0 && err == nil && n >= f.lo && n <= f.hi && strconv.Itoa(n) == dialled {
		return parkApp{f: f, slot: dialled}, true
	}
	return nil, false
}

// groupOf is the extensions ext may pick up calls of (nil: any).
func (f *features) groupOf(ext string) (exts []string, all bool) {
	if len(f.cfg.PickupGroups) == 0 {
		return nil, true
	}
	for _, g := range f.cfg.PickupGroups {
		if slices.Contains(g, ext) {
			exts = append(exts, g...)
		}
	}
	return exts, false
}

// pickupApp answers a call ringing elsewhere: group pickup (ext "") or
// directed pickup of ext.
type pickupApp struct {
	f   *features
	ext string
}

// Name implements sip.Application.
func (p pickupApp) Name() string {
	if p.ext != "" {
		return "pickup " + p.ext
	}
	return "group pickup"
}

// Run implements sip.Application.
func (p pickupApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	me := leg.Caller().Number
	group, all := p.f.groupOf(me)
	var exts []string
	switch {
	case p.ext != "" && (all || slices.Contains(group, p.ext)):
		exts = []string{p.ext}
	case p.ext != "":
		p.f.log.Info("pickup_refused", "by", me, "extension", p.ext, "reason", "not in a pickup group with it")
	case all:
		exts = []string{sip.AnyExtension}
	default:
		exts = group
	}
	if len(exts) > 0 {
		if got, err := leg.Pickup(ctx, exts); err == nil {
			p.f.log.Info("picked_up", "by", me, "extension", got)
			return sip.AppResult{}
		} else if !errors.Is(err, sip.ErrNothingToPickUp) {
			p.f.log.Info("pickup_failed", "by", me, "error", err)
		}
	}
	congestion(ctx, leg)
	return sip.AppResult{Cause: call.CauseNotFound}
}

// parkApp is one park slot: a call transferred to it waits there (music
// on hold) until a phone dials the slot (retrieve) or the timeout rings
// the extension that parked it.
type parkApp struct {
	f    *features
	slot string
}

// Name implements sip.Application.
func (p parkApp) Name() string { return "park " + p.slot }

// Run implements sip.Application.
func (p parkApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	f := p.f
	f.mu.Lock()
	waiting := f.parked[p.slot].leg
	if waiting == nil && leg.TransferredBy() != "" {
		leg.SetRetrievable(true) // before it is listed: a retrieve may come at once
		f.parked[p.slot] = parkedLeg{leg: leg, since: f.now()}
	}
	f.mu.Unlock()
	switch {
	case waiting != nil && leg.TransferredBy() != "":
		// Transferred to a slot that is taken: back to whoever parked it.
		f.log.Info("park_slot_busy", "slot", p.slot, "call_id", string(leg.CallID()), "ringing", leg.TransferredBy())
		return sip.AppResult{Bridge: leg.TransferredBy()}
	case waiting != nil: // a phone dialled the slot: retrieve
		if err := leg.Retrieve(ctx, waiting); err != nil {
			f.log.Info("retrieve_failed", "slot", p.slot, "by", leg.Caller().Number, "error", err)
			congestion(ctx, leg)
			return sip.AppResult{Cause: call.CauseUnavailable}
		}
		f.log.Info("retrieved", "slot", p.slot, "by", leg.Caller().Number)
		return sip.AppResult{}
	case leg.TransferredBy() == "": // dialled, nothing parked
		congestion(ctx, leg)
		return sip.AppResult{Cause: call.CauseNotFound}
	}
	parker := leg.TransferredBy()
	f.log.Info("parked", "slot", p.slot, "call_id", string(leg.CallID()), "by", parker)
	tctx, cancel := context.WithTimeout(ctx, f.cfg.ParkTimeout.D())
	defer cancel()
	if err := leg.MusicOnHold(tctx, f.mohDir); err != nil {
		f.log.Warn("park_music_failed", "slot", p.slot, "error", err)
		<-tctx.Done()
	}
	// Unlisted before it stops being retrievable: a phone dialling the
	// slot from now on finds it empty rather than failing to retrieve.
	f.mu.Lock()
	if f.parked[p.slot].leg == leg {
		delete(f.parked, p.slot)
	}
	f.mu.Unlock()
	leg.SetRetrievable(false)
	if ctx.Err() != nil {
		return sip.AppResult{} // retrieved, or the caller hung up
	}
	f.log.Info("park_timeout", "slot", p.slot, "call_id", string(leg.CallID()), "ringing", parker)
	return sip.AppResult{Bridge: parker}
}

// congestion plays the congestion tone to leg for 2 s.
func congestion(ctx context.Context, leg *sip.AppLeg) {
	const d = 2 * time.Second
	tctx, cancel := context.WithTimeout(ctx, d+500*time.Millisecond)
	defer cancel()
	leg.Play(tctx, prompt.Prompt{Items: []prompt.Item{{Tone: prompt.ToneCongestion, Duration: d}}})
}
