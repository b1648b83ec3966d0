package ivr

import (
	"context"
	"errors"

	"github.com/switchd/switchd/call"
)

var playKeys = []string{"prompt", "next"}

// playNode says or plays its prompts, then goes to next.
type playNode struct {
	prompt []promptSpec
	next   string
}

func parsePlay(np *nodeParser) action {
	a := &playNode{prompt: np.prompts("prompt", false), next: np.ref("next", true)}
	if !np.has("prompt") {
		np.missing("prompt")
	}
	return a
}

func (a *playNode) exec(ctx context.Context, r *run) result {
	if err := r.say(ctx, r.render(a.prompt)); err != nil {
		return result{out: r.aborted(ctx)}
	}
	return result{next: a.next, reason: "next"}
}

// say presents prompts in turn. It returns an error only when ctx ended; a
// prompt that fails otherwise (a missing file) is logged and skipped, so
// the caller is not dropped for it.
func (r *run) say(ctx context.Context, ps []call.Prompt) error {
	for _, p := range ps {
		if err := r.sess.Prompt(ctx, p); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.log.Warn("ivr_prompt_failed", "node", r.node.name, "audio", p.Audio, "error", err)
		}
	}
	return nil
}

// ask presents prompts and collects input: all prompts but the last are
// presented (interruptible unless the flow says otherwise, so a digit
// pressed early cuts them short and is collected by the leg), the last is
// Collect's own prompt, which always is. It returns
// call.ErrNoInput when nothing came; other collect errors are logged and
// count as no input. It returns ctx's error when ctx ended.
func (r *run) ask(ctx context.Context, ps []call.Prompt, spec call.CollectSpec) (string, error) {
	if len(ps) > 0 {
		if err := r.say(ctx, ps[:len(ps)-1]); err != nil {
			return "", err
		}
		spec.Prompt = ps[len(ps)-1]
		spec.Prompt.Interruptible = true
	}
	in, err := r.sess.Collect(ctx, spec)
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case errors.Is(err, call.ErrNoInput):
		return "", call.ErrNoInput
	case err != nil:
		r.log.Warn("ivr_collect_failed", "node", r.node.name, "error", err)
		return "", call.ErrNoInput
	case in == "":
		return "", call.ErrNoInput
	}
	return in, nil
}
