package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/switchd/switchd/acd"
	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/ivr"
	"github.com/switchd/switchd/media/prompt"
	"github.com/switchd/switchd/sip"
)

// queueApp puts a call switchd answered into a queue (a DID's `queue:`).
type queueApp struct {
	a     *acdService
	queue string
}

var _ sip.Application = queueApp{}

// Name implements sip.Application.
func (q queueApp) Name() string { return "queue " + q.queue }

// Run implements sip.Application.
func (q queueApp) Run(ctx context.Context, leg *sip.AppLeg) sip.AppResult {
	return q.a.wait(ctx, leg, acd.Contact{ID: leg.CallID(), Medium: call.MediumVoice, Caller: leg.Caller(), Queue: q.queue})
}

// waiter is a caller waiting in a queue; the connector reaches it by the
// call's ID.
type waiter struct {
	leg       *sip.AppLeg
	exit      chan acd.Exit         // where the engine let the contact go
	announce  chan acd.Announcement // the latest announcement not yet played
	connected chan struct{}         // closed when an agent's device answered
	once      sync.Once

	mu     sync.Mutex
	offers map[acd.AgentID]context.CancelFunc // ringing agents
}

func (w *waiter) markConnected() { w.once.Do(func() { close(w.connected) }) }

// post hands the waiter a value without blocking the engine's outbox: a
// contact exits once, and an announcement the waiter has not taken yet is
// not worth queueing another behind.
func post[T any](ch chan T, v T) bool {
	select {
	case ch <- v:
		return true
	default:
		return false
	}
}

// wait runs a caller's time in the queues: music on hold, announcements,
// until an agent answers (the call goes on connected), the contact
// overflows (to a flow, voicemail, an extension) or the caller hangs up.
func (a *acdService) wait(ctx context.Context, leg *sip.AppLeg, ct acd.Contact) sip.AppResult {
	w := &waiter{leg: leg, exit: make(chan acd.Exit, 1), announce: make(chan acd.Announcement, 1), connected: make(chan struct{}),
		offers: map[acd.AgentID]context.CancelFunc{}}
	log := a.log.With("call_id", string(ct.ID))
	a.mu.Lock()
	a.waiters[ct.ID] = w
	if first, ok := a.queued[ct.ID]; ok {
		// Back in a queue (a transfer): the wait so far and the priority stay.
		ct.Since, ct.Priority = first.Since, max(ct.Priority, first.Priority)
	} else {
		a.queued[ct.ID] = acd.Contact{Since: a.s.now(), Priority: ct.Priority}
	}
	talking := a.talking[ct.ID]
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.waiters, ct.ID)
		a.mu.Unlock()
	}()

	if talking != nil {
		// Transferred here by its agent: the contact is the agent's until
		// the connector has recorded their part ended.
		select {
		case <-talking:
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	pos, err := a.engine.Enqueue(ctx, ct)
	if err != nil {
		log.Warn("enqueue_failed", "queue", ct.Queue, "error", err)
		cause := call.CauseUnavailable
		if errors.Is(err, acd.ErrQueueFull) {
			cause = call.CauseCongestion
		}
		a.say(ctx, leg, "All our agents are busy. Please call again later.")
		return sip.AppResult{Cause: cause}
	}
	log.Info("queued", "queue", pos.Queue, "position", pos.Position, "waiting", pos.Waiting,
		"estimated_wait", pos.EstimatedWait.String(), "overflowed", pos.Overflowed)
	queue := pos.Queue
	if !pos.Overflowed {
		a.s.rec.enteredQueue(leg, queue)
	}
	for {
		moh := a.startMOH(leg, queue)
		select {
		case <-ctx.Done():
			moh()
			a.left(leg, ct.ID, log)
			return sip.AppResult{Cause: leg.Cause()}
		case <-w.connected:
			moh()
			return sip.AppResult{} // the call goes on connected; this is ignored
		case x := <-w.exit:
			moh()
			return a.exitTo(ctx, leg, x)
		case an := <-w.announce:
			moh()
			queue = an.Queue
			a.say(ctx, leg, announcement(an))
		}
	}
}

// left tells the engine that a waiting caller hung up. A caller cut off
// by the switch's shutdown did not abandon: it stays waiting in the stored
// events, and the restarted switch records it lost with cause
// switch_restart, as after a crash.
func (a *acdService) left(leg *sip.AppLeg, id call.ID, log interface{ Debug(string, ...any) }) {
	if leg.Cause() == call.CauseShutdown {
		log.Debug("waiting_at_shutdown")
		return
	}
	if err := a.engine.Abandon(context.Background(), id); err != nil {
		log.Debug("leave_ignored", "error", err) // answered or gone meanwhile
	}
}

// startMOH plays the queue's music on hold until the returned func stops
// it (and waits until it has stopped, so that a prompt can follow).
func (a *acdService) startMOH(leg *sip.AppLeg, queue string) func() {
	dir := a.s.cfg.Prompts.MOHDir
	if q, ok := a.queueConfig(queue); ok && q.MusicOnHold != "" {
		dir = q.MusicOnHold
	}
	ctx, cancel := context.WithCancel(leg.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if dir == "" {
			<-ctx.Done()
			return
		}
		if err := leg.MusicOnHold(ctx, dir); err != nil && ctx.Err() == nil {
			a.log.Warn("moh_failed", "dir", dir, "error", err)
			<-ctx.Done()
		}
	}()
	return func() { cancel(); <-done }
}

// say speaks text to the caller (text to speech), bounded in time.
func (a *acdService) say(ctx context.Context, leg *sip.AppLeg, text string) {
	if err := sayTo(ctx, leg, text); err != nil && ctx.Err() == nil {
		a.log.Warn("announcement_failed", "call_id", string(leg.CallID()), "error", err)
	}
}

// announcement is what a waiting caller hears (docs/ACD_METRICS.md has
// the estimate's formula).
func announcement(an acd.Announcement) string {
	text := fmt.Sprintf("You are number %d in the queue.", an.Position)
	if !an.Known {
		return text
	}
	switch m := int((an.EstimatedWait + 30*time.Second) / time.Minute); {
	case an.EstimatedWait < time.Minute:
		text += " Your expected waiting time is less than one minute."
	case m == 1:
		text += " Your expected waiting time is about one minute."
	default:
		text += fmt.Sprintf(" Your expected waiting time is about %d minutes.", m)
	}
	return text
}

// exitTo sends a contact that overflowed where its queue says.
func (a *acdService) exitTo(ctx context.Context, leg *sip.AppLeg, x acd.Exit) sip.AppResult {
	a.log.Info("queue_exit", "call_id", string(x.Contact), "queue", x.Queue, "target", x.Target.String(), "reason", x.Reason)
	switch x.Target.Kind {
	case acd.TargetExtension:
		return sip.AppResult{Bridge: x.Target.Name}
	case acd.TargetFlow:
		if app, ok := a.s.router.flow(x.Target.Name); ok {
			return app.Run(ctx, leg)
		}
		a.log.Warn("overflow_flow_missing", "flow", x.Target.Name)
	case acd.TargetVoicemail:
		return a.voicemail(ctx, leg, x.Target.Name)
	}
	a.say(ctx, leg, "All our agents are busy. Please call again later.")
	return sip.AppResult{Cause: call.CauseCongestion}
}

// voicemailMax bounds a message left after a queue overflow.
const voicemailMax = 2 * time.Minute

// voicemail records a message for box after a prompt and a beep.
func (a *acdService) voicemail(ctx context.Context, leg *sip.AppLeg, box string) sip.AppResult {
	p := prompt.Prompt{Items: []prompt.Item{
		{Text: "Please leave a message after the tone.", Language: a.s.cfg.Prompts.Language},
		{Tone: prompt.ToneBeep, Duration: 400 * time.Millisecond},
	}}
	if _, err := leg.Play(ctx, p); err != nil && ctx.Err() != nil {
		return sip.AppResult{Cause: leg.Cause()}
	}
	rec, err := leg.Record(ctx, voicemailMax)
	if err != nil && rec.Path == "" {
		a.log.Warn("voicemail_failed", "call_id", string(leg.CallID()), "box", box, "error", err)
		return sip.AppResult{Cause: call.CauseFailure}
	}
	if err := a.s.storeVoicemail(context.WithoutCancel(ctx), ivr.Voicemail{CallID: leg.CallID(), Caller: leg.Caller().Number,
		Box: box, Recording: ivr.Recording{Path: rec.Path, Duration: rec.Duration}, At: a.s.now()}); err != nil {
		a.log.Error("voicemail_not_stored", "call_id", string(leg.CallID()), "path", rec.Path, "error", err)
	}
	return sip.AppResult{Cause: call.CauseNormalClearing}
}

// connector rings agents for the engine over SIP (acd.Connector).
type connector struct{ a *acdService }

var _ acd.Connector = connector{}

func (c connector) waiter(id call.ID) *waiter {
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	return c.a.waiters[id]
}

// Offer implements acd.Connector: the agent's devices ring while the
// caller hears music; an answer the engine accepts connects them.
func (c connector) Offer(_ context.Context, o acd.Offer) {
	a := c.a
	w := c.waiter(o.Contact)
	if w == nil {
		return // the caller has just gone: the engine hears Abandon
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout+5*time.Second)
	w.mu.Lock()
	if prev := w.offers[o.Agent]; prev != nil {
		prev()
	}
	w.offers[o.Agent] = cancel
	w.mu.Unlock()
	log := a.log.With("call_id", string(o.Contact), "agent", string(o.Agent))
	a.calls.Add(1)
	go func() {
		defer a.calls.Done()
		defer cancel()
		accept := func(string) bool {
			err := a.engine.OfferAccepted(context.Background(), o.Contact, o.Agent)
			if err != nil {
				log.Info("answer_refused", "error", err)
			}
			return err == nil
		}
		conn, err := w.leg.Connect(ctx, o.Devices, accept)
		w.mu.Lock()
		if w.offers[o.Agent] != nil && ctx.Err() == nil {
			delete(w.offers, o.Agent)
		}
		w.mu.Unlock()
		if err != nil {
			c.missed(o, err, log)
			return
		}
		talking := make(chan struct{})
		a.mu.Lock()
		a.talking[o.Contact] = talking
		a.mu.Unlock()
		w.markConnected()
		a.s.rec.agentAnswered(o.Contact, string(o.Agent))
		end := <-conn.Ended()
		log.Info("queue_call_ended", "cause", end.Cause.String(), "talk", end.Talk.String(), "hold", end.Hold.String())
		if err := a.engine.ContactEnded(context.Background(), o.Contact, end.Hold); err != nil {
			log.Warn("contact_end_not_recorded", "error", err)
		}
		a.mu.Lock()
		if a.talking[o.Contact] == talking { // not a later connection's (after a transfer back)
			delete(a.talking, o.Contact)
		}
		a.mu.Unlock()
		close(talking)
	}()
}

// missed reports an offer that did not connect, unless the engine itself
// ended it (withdrawn, taken elsewhere) or the caller left.
func (c connector) missed(o acd.Offer, err error, log interface{ Info(string, ...any) }) {
	var ce *sip.ConnectError
	switch {
	case errors.Is(err, sip.ErrCallerGone):
		return
	case errors.As(err, &ce):
		switch {
		case ce.Err != nil, ce.Cause == call.CauseDeclined, ce.Cause == call.CauseAnsweredElsewhere,
			ce.Cause == call.CauseOriginatorCancel:
			return
		}
	}
	log.Info("offer_failed", "error", err)
	if err := c.a.engine.OfferRejected(context.Background(), o.Contact, o.Agent); err != nil && !errors.Is(err, acd.ErrNoOffer) {
		log.Info("offer_failure_not_recorded", "error", err)
	}
}

// Withdraw implements acd.Connector: the agent's devices get CANCEL.
func (c connector) Withdraw(_ context.Context, wd acd.Withdrawal) {
	w := c.waiter(wd.Contact)
	if w == nil {
		return
	}
	w.mu.Lock()
	cancel := w.offers[wd.Agent]
	delete(w.offers, wd.Agent)
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Overflow implements acd.Connector.
func (c connector) Overflow(_ context.Context, x acd.Exit) {
	if w := c.waiter(x.Contact); w == nil || !post(w.exit, x) {
		c.a.log.Warn("overflow_undelivered", "call_id", string(x.Contact), "target", x.Target.String())
	}
}

// Announce implements acd.Connector.
func (c connector) Announce(_ context.Context, an acd.Announcement) {
	if w := c.waiter(an.Contact); w != nil {
		post(w.announce, an)
	}
}
