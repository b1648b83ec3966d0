package ivr

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/switchd/switchd/call"
)

var menuKeys = []string{
	"prompt", "options", "speech", "timeout", "inter_digit_timeout", "retries",
	"invalid_prompt", "no_input_prompt", "invalid", "no_input",
}

// Bounds and defaults of menu and collect nodes.
const (
	defaultRetries    = 2
	maxRetries        = 10
	defaultTimeout    = 5 * time.Second
	maxTimeout        = 60 * time.Second
	maxOptionDigits   = 4
	defaultInterDigit = 3 * time.Second
	maxInterDigit     = 30 * time.Second
)

// menuNode presents a prompt and branches on the DTMF option pressed,
// retrying a bounded number of times after invalid or no input.
type menuNode struct {
	prompt        []promptSpec
	options       map[string]string // DTMF keys → node
	speech        map[string]string // keyword → node (parsed and validated; matched once ASR lands)
	maxDigits     int
	timeout       time.Duration
	interDigit    time.Duration
	retries       int
	invalidPrompt []promptSpec
	noInputPrompt []promptSpec
	invalid       string
	noInput       string
}

// validDTMF reports whether s is a DTMF key sequence of 0-9, * and #.
func validDTMF(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '*' || c == '#') {
			return false
		}
	}
	return true
}

func parseMenu(np *nodeParser) action {
	a := &menuNode{
		prompt:        np.prompts("prompt", true),
		options:       map[string]string{},
		speech:        map[string]string{},
		timeout:       np.duration("timeout", defaultTimeout, time.Second, maxTimeout),
		interDigit:    np.duration("inter_digit_timeout", defaultInterDigit, 500*time.Millisecond, maxInterDigit),
		retries:       np.integer("retries", defaultRetries, 0, maxRetries),
		invalidPrompt: np.prompts("invalid_prompt", true),
		noInputPrompt: np.prompts("no_input_prompt", true),
		invalid:       np.ref("invalid", false),
		noInput:       np.ref("no_input", false),
	}
	if !np.has("prompt") {
		np.missing("prompt")
	}
	opts := np.p.object(np.val["options"], np.at("options"), nil)
	var keys []string
	for _, k := range opts.keys {
		at := opts.at(k)
		switch {
		case !validDTMF(k):
			np.p.errf(opts.key[k], at, "%q is not a DTMF option (keys 0-9, * and #)", k)
			continue
		case len(k) > maxOptionDigits:
			np.p.errf(opts.key[k], at, "option %q is longer than %d keys", k, maxOptionDigits)
			continue
		}
		to, ok := opts.str(k)
		if !ok {
			continue
		}
		np.edge(to, opts.val[k], at)
		a.options[k] = to
		a.maxDigits = max(a.maxDigits, len(k))
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		for _, l := range keys[i+1:] {
			if strings.HasPrefix(l, k) {
				np.p.warnf(opts.key[k], opts.at(k), "option %q is a prefix of %q: callers pressing %s wait %s for more keys", k, l, k, a.interDigit)
			}
		}
	}
	sp := np.p.object(np.val["speech"], np.at("speech"), nil)
	for _, k := range sp.keys {
		if strings.TrimSpace(k) == "" || len(k) > 100 {
			np.p.errf(sp.key[k], sp.at(k), "a speech keyword must be 1 to 100 characters")
			continue
		}
		to, ok := sp.str(k)
		if !ok {
			continue
		}
		np.edge(to, sp.val[k], sp.at(k))
		a.speech[strings.ToLower(k)] = to
	}
	if len(a.options) == 0 && len(a.speech) == 0 && !np.has("options") {
		np.missing("options")
	} else if len(a.options) == 0 && len(a.speech) > 0 {
		np.p.warnf(np.key["speech"], np.at("speech"), "a menu with speech keywords but no DTMF options cannot be answered until speech recognition is enabled")
	}
	return a
}

func (a *menuNode) exec(ctx context.Context, r *run) result {
	failure := ResultNoInput
	for attempt := 0; attempt <= a.retries; attempt++ {
		in, err := r.ask(ctx, r.render(a.prompt), call.CollectSpec{
			MaxDigits: a.maxDigits, Timeout: a.timeout, InterDigitTimeout: a.interDigit,
		})
		if ctx.Err() != nil {
			return result{out: r.aborted(ctx)}
		}
		var retry []promptSpec
		if err != nil {
			failure, retry = ResultNoInput, a.noInputPrompt
		} else if next, ok := a.options[in]; ok {
			r.input(in, ResultOK, false)
			return result{next: next, reason: "option " + in}
		} else {
			failure, retry = ResultInvalid, a.invalidPrompt
		}
		r.input(in, failure, false)
		if attempt < a.retries {
			if r.say(ctx, r.render(retry)) != nil {
				return result{out: r.aborted(ctx)}
			}
		}
	}
	return failed(failure, a.invalid, a.noInput, r)
}

// failed is where a menu or collect goes when its attempts are used up:
// invalid or no_input as the last attempt went, the other one when that is
// not set, and a hangup when neither is.
func failed(failure, invalid, noInput string, r *run) result {
	first, second := invalid, noInput
	if failure == ResultNoInput {
		first, second = noInput, invalid
	}
	switch {
	case first != "":
		return result{next: first, reason: failure}
	case second != "":
		return result{next: second, reason: failure}
	}
	r.log.Info("ivr_retries_exhausted", "node", r.node.name, "result", failure)
	return result{out: &Outcome{Kind: OutcomeHangup, Cause: call.CauseNormalClearing}}
}
