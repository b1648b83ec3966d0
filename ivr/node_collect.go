package ivr

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchd/switchd/call"
)

var collectKeys = []string{
	"var", "prompt", "min_length", "max_length", "terminator", "timeout", "inter_digit_timeout",
	"pattern", "sensitive", "retries", "invalid_prompt", "no_input_prompt", "next", "invalid", "no_input",
}

// Bounds of collect nodes.
const (
	defaultMaxLength = 20
	maxLength        = 64
)

// collectNode reads digits (or a chat reply) into a variable, checking
// their length and pattern, retrying a bounded number of times.
type collectNode struct {
	v             string
	prompt        []promptSpec
	minLen        int
	maxLen        int
	terminator    string
	timeout       time.Duration
	interDigit    time.Duration
	pattern       *regexp.Regexp
	sensitive     bool
	retries       int
	invalidPrompt []promptSpec
	noInputPrompt []promptSpec
	next          string
	invalid       string
	noInput       string
}

func parseCollect(np *nodeParser) action {
	a := &collectNode{
		prompt:        np.prompts("prompt", true),
		maxLen:        np.integer("max_length", defaultMaxLength, 1, maxLength),
		terminator:    "#",
		timeout:       np.duration("timeout", defaultTimeout, time.Second, maxTimeout),
		interDigit:    np.duration("inter_digit_timeout", defaultInterDigit, 500*time.Millisecond, maxInterDigit),
		sensitive:     np.boolean("sensitive"),
		retries:       np.integer("retries", defaultRetries, 0, maxRetries),
		invalidPrompt: np.prompts("invalid_prompt", true),
		noInputPrompt: np.prompts("no_input_prompt", true),
		next:          np.ref("next", true),
		invalid:       np.ref("invalid", false),
		noInput:       np.ref("no_input", false),
	}
	a.minLen = np.integer("min_length", 1, 1, maxLength)
	if a.minLen > a.maxLen {
		np.p.errf(np.val["min_length"], np.at("min_length"), "min_length %d is more than max_length %d", a.minLen, a.maxLen)
	}
	if name := np.required("var"); name != "" && np.setVar(name, np.val["var"], np.at("var")) {
		a.v = name
	}
	if t, ok := np.str("terminator"); ok {
		if t != "" && t != "#" && t != "*" {
			np.p.errf(np.val["terminator"], np.at("terminator"), "%q is not a terminator (\"#\", \"*\" or \"\" for none)", t)
		}
		a.terminator = t
	}
	if s, ok := np.str("pattern"); ok {
		re, err := regexp.Compile(s)
		if err != nil {
			np.p.errf(np.val["pattern"], np.at("pattern"), "bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		} else {
			a.pattern = re
		}
	}
	return a
}

// valid reports whether in is acceptable input: its length in range and,
// when a pattern is set, the whole of it matching.
func (a *collectNode) valid(in string) bool {
	n := utf8.RuneCountInString(in)
	if n < a.minLen || n > a.maxLen {
		return false
	}
	if a.pattern != nil {
		loc := a.pattern.FindStringIndex(in)
		return loc != nil && loc[0] == 0 && loc[1] == len(in)
	}
	return true
}

func (a *collectNode) exec(ctx context.Context, r *run) result {
	if a.sensitive {
		r.sess.SetSensitive(true)
		defer r.sess.SetSensitive(false)
	}
	failure := ResultNoInput
	for attempt := 0; attempt <= a.retries; attempt++ {
		in, err := r.ask(ctx, r.render(a.prompt), call.CollectSpec{
			MaxDigits: a.maxLen, Timeout: a.timeout, InterDigitTimeout: a.interDigit, Terminator: a.terminator,
		})
		if ctx.Err() != nil {
			return result{out: r.aborted(ctx)}
		}
		var retry []promptSpec
		switch {
		case err != nil:
			failure, retry = ResultNoInput, a.noInputPrompt
		case a.valid(in):
			r.input(in, ResultOK, a.sensitive)
			r.assign(a.v, in, a.sensitive)
			return result{next: a.next, reason: "next"}
		default:
			failure, retry = ResultInvalid, a.invalidPrompt
		}
		r.input(in, failure, a.sensitive)
		if attempt < a.retries {
			if r.say(ctx, r.render(retry)) != nil {
				return result{out: r.aborted(ctx)}
			}
		}
	}
	return failed(failure, a.invalid, a.noInput, r)
}
