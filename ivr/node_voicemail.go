package ivr

import (
	"context"
	"time"
)

var voicemailKeys = []string{"box", "prompt", "max_duration", "next", "failure"}

// Bounds of voicemail nodes.
const (
	defaultVoicemailDuration = 2 * time.Minute
	maxVoicemailDuration     = 10 * time.Minute
)

// voicemailNode plays its prompt, records a message after a beep and hands
// it to Env.Voicemail for box; then next (failure when recording or
// storing fails; next when failure is not set).
type voicemailNode struct {
	box     template
	prompt  []promptSpec
	maxDur  time.Duration
	next    string
	failure string
}

func parseVoicemail(np *nodeParser) action {
	a := &voicemailNode{
		prompt:  np.prompts("prompt", true),
		maxDur:  np.duration("max_duration", defaultVoicemailDuration, 5*time.Second, maxVoicemailDuration),
		next:    np.ref("next", true),
		failure: np.ref("failure", false),
	}
	if s := np.required("box"); s != "" {
		if t, ok := np.tmplOf(s, np.val["box"], np.at("box")); ok {
			a.box = t
		}
	}
	return a
}

func (a *voicemailNode) exec(ctx context.Context, r *run) result {
	if r.say(ctx, r.render(a.prompt)) != nil {
		return result{out: r.aborted(ctx)}
	}
	rec, err := r.sess.Record(ctx, a.maxDur)
	if rec.Path != "" {
		// Callers often hang up to end their message: what was recorded is
		// stored even when the leg ended.
		err = nil
	} else if ctx.Err() != nil {
		return result{out: r.aborted(ctx)}
	}
	if err == nil && r.env.Voicemail == nil {
		err = ErrNoVoicemailStore
	}
	if err == nil {
		err = r.env.Voicemail(context.WithoutCancel(ctx), Voicemail{
			CallID:    r.sess.CallID(),
			Caller:    r.vars["caller"],
			Box:       a.box.expand(r.lookup, nil),
			Flow:      r.flow.name,
			Node:      r.node.name,
			Recording: rec,
			At:        r.env.Now(),
		})
	}
	if err != nil {
		r.log.Error("ivr_voicemail_failed", "node", r.node.name, "error", err)
	} else {
		r.log.Info("ivr_voicemail_stored", "node", r.node.name, "duration", rec.Duration)
	}
	switch {
	case r.done(ctx):
		return result{out: r.aborted(ctx)}
	case err != nil && a.failure != "":
		return result{next: a.failure, reason: "failure"}
	}
	return result{next: a.next, reason: "next"}
}
