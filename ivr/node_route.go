package ivr

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/ivr/expr"
)

var (
	transferKeys = []string{"extension", "number", "trunk", "flow"}
	hangupKeys   = []string{"cause"}
	gotoKeys     = []string{"node"}
	enqueueKeys  = []string{"queue", "skills", "priority"}
)

// numberRE is what an external number may look like: digits with an
// optional leading '+' (E.164 or a national form the dial rules accept).
var numberRE = regexp.MustCompile(`^\+?[0-9]{1,32}$`)

// transferNode ends the flow with a transfer to an extension or an
// external number, or goes on in another flow of the Set.
type transferNode struct {
	kind   TargetKind // extension or external; unknown for a flow transfer
	target template
	trunk  string
	flow   string
}

func parseTransfer(np *nodeParser) action {
	a := &transferNode{}
	var set []string
	for _, k := range []string{"extension", "number", "flow"} {
		if np.has(k) {
			set = append(set, k)
		}
	}
	switch len(set) {
	case 0:
		np.p.errf(np.obj.n, np.path, "needs one of extension:, number: or flow:")
		return a
	case 1:
	default:
		np.p.errf(np.key[set[1]], np.path, "has both %s: and %s:; a transfer goes to one place", set[0], set[1])
		return a
	}
	if np.has("trunk") {
		if set[0] != "number" {
			np.p.errf(np.key["trunk"], np.at("trunk"), "only applies to number: transfers")
		} else if t := np.required("trunk"); t != "" {
			a.trunk = t
			np.check(checkTrunk, t, "", np.line("trunk"), np.at("trunk"))
		}
	}
	switch set[0] {
	case "flow":
		a.flow = np.required("flow")
		if a.flow != "" {
			np.check(checkFlow, a.flow, "", np.line("flow"), np.at("flow"))
		}
	case "extension", "number":
		k := set[0]
		a.kind = TargetExtension
		if k == "number" {
			a.kind = TargetExternal
		}
		s := np.required(k)
		t, ok := np.tmplOf(s, np.val[k], np.at(k))
		if !ok || s == "" {
			return a
		}
		a.target = t
		if t.isLiteral() {
			if k == "number" && !numberRE.MatchString(s) {
				np.p.errf(np.val[k], np.at(k), "%q is not a phone number (digits, optionally a leading +)", s)
			}
			if k == "extension" {
				np.check(checkExtension, s, "", np.line(k), np.at(k))
			}
		}
	}
	return a
}

func (a *transferNode) exec(_ context.Context, r *run) result {
	if a.flow != "" {
		return result{flow: a.flow}
	}
	target := strings.TrimSpace(a.target.expand(r.lookup, nil))
	if target == "" || a.kind == TargetExternal && !numberRE.MatchString(target) {
		r.log.Error("ivr_bad_transfer_target", "node", r.node.name, "target_kind", a.kind.String())
		return result{out: &Outcome{Kind: OutcomeHangup, Cause: call.CauseFailure}}
	}
	return result{out: &Outcome{Kind: OutcomeTransfer, Target: target, TargetKind: a.kind, Trunk: a.trunk}}
}

// hangupNode ends the flow with a hangup.
type hangupNode struct{ cause call.Cause }

func parseHangup(np *nodeParser) action {
	a := &hangupNode{cause: call.CauseNormalClearing}
	if s, ok := np.str("cause"); ok {
		c, err := call.ParseCause(s)
		if err != nil || c == call.CauseUnknown {
			np.p.errf(np.val["cause"], np.at("cause"), "%q is not a hangup cause (e.g. normal_clearing, busy, unavailable, congestion, failure)", s)
		} else {
			a.cause = c
		}
	}
	return a
}

func (a *hangupNode) exec(context.Context, *run) result {
	return result{out: &Outcome{Kind: OutcomeHangup, Cause: a.cause}}
}

// gotoNode goes to another node.
type gotoNode struct{ to string }

func parseGoto(np *nodeParser) action { return &gotoNode{to: np.ref("node", true)} }

func (a *gotoNode) exec(context.Context, *run) result { return result{next: a.to, reason: "goto"} }

// Bounds of enqueue priorities.
const (
	minPriority = 0
	maxPriority = 100
)

// enqueueNode ends the flow by handing the call to a queue.
type enqueueNode struct {
	queue    template
	skills   []template
	priority int
	prioExpr *expr.Expr
}

func parseEnqueue(np *nodeParser) action {
	a := &enqueueNode{}
	if s := np.required("queue"); s != "" {
		if t, ok := np.tmplOf(s, np.val["queue"], np.at("queue")); ok {
			a.queue = t
			if t.isLiteral() {
				np.check(checkQueue, s, "", np.line("queue"), np.at("queue"))
			}
		}
	}
	for i, it := range np.list("skills") {
		at := np.at("skills") + "[" + strconv.Itoa(i) + "]"
		if s, ok := np.p.scalar(it, at); ok {
			if s == "" {
				np.p.errf(it, at, "empty skill")
				continue
			}
			if t, ok := np.tmplOf(s, it, at); ok {
				a.skills = append(a.skills, t)
			}
		}
	}
	if s, ok := np.str("priority"); ok {
		if n, err := strconv.Atoi(s); err == nil {
			if n < minPriority || n > maxPriority {
				np.p.errf(np.val["priority"], np.at("priority"), "%d is out of range %d..%d", n, minPriority, maxPriority)
			}
			a.priority = n
		} else if _, err := strconv.ParseFloat(s, 64); err == nil {
			np.p.errf(np.val["priority"], np.at("priority"), "%q is not a whole number", s)
		} else if e := np.expression(s, np.val["priority"], np.at("priority")); e != nil {
			if t := e.Type(); t != expr.TypeNumber && t != expr.TypeAny {
				np.p.errf(np.val["priority"], np.at("priority"), "must be a whole number or an expression giving one, not a %s", t)
			}
			a.prioExpr = e
		}
	}
	return a
}

func (a *enqueueNode) exec(_ context.Context, r *run) result {
	o := &Outcome{Kind: OutcomeEnqueue, Queue: a.queue.expand(r.lookup, nil), Priority: a.priority}
	for _, s := range a.skills {
		if v := s.expand(r.lookup, nil); v != "" {
			o.Skills = append(o.Skills, v)
		}
	}
	if a.prioExpr != nil {
		v, err := a.prioExpr.Eval(exprContext{r})
		n, ok := v.Num()
		if err != nil || !ok {
			r.log.Warn("ivr_bad_priority", "node", r.node.name, "value", v.String(), "error", err)
		} else {
			o.Priority = min(max(int(n), minPriority), maxPriority)
		}
	}
	if o.Queue == "" {
		r.log.Error("ivr_bad_queue", "node", r.node.name)
		return result{out: &Outcome{Kind: OutcomeHangup, Cause: call.CauseFailure}}
	}
	return result{out: o}
}
