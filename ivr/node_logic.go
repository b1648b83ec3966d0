package ivr

import (
	"context"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/switchd/switchd/ivr/expr"
)

var (
	setKeys    = []string{"vars", "next"}
	branchKeys = []string{"cases", "else"}
	caseKeys   = []string{"if", "next"}
)

// setNode sets variables, in file order, then goes to next. A value is a
// template ("${caller}", literal text) or, written {expr: "…"}, an
// expression.
type setNode struct {
	vars []setVar
	next string
}

type setVar struct {
	name  string
	tmpl  template
	e     *expr.Expr
	reads []string
}

func parseSet(np *nodeParser) action {
	a := &setNode{next: np.ref("next", true)}
	vars := np.p.object(np.val["vars"], np.at("vars"), nil)
	if !np.has("vars") {
		np.missing("vars")
	}
	for _, k := range vars.keys {
		at := vars.at(k)
		if !np.setVar(k, vars.key[k], at) {
			continue
		}
		v := vars.val[k]
		sv := setVar{name: k}
		if v.Kind == yaml.MappingNode {
			o := np.p.object(v, at, []string{"expr"})
			src := o.required("expr")
			if src == "" {
				continue
			}
			if sv.e = np.expression(src, o.val["expr"], o.at("expr")); sv.e == nil {
				continue
			}
			sv.reads = sv.e.Vars()
		} else {
			s, ok := np.p.scalar(v, at)
			if !ok {
				continue
			}
			t, ok := np.tmplOf(s, v, at)
			if !ok {
				continue
			}
			sv.tmpl, sv.reads = t, t.vars()
		}
		a.vars = append(a.vars, sv)
	}
	return a
}

func (a *setNode) exec(_ context.Context, r *run) result {
	for _, v := range a.vars {
		var val string
		if v.e != nil {
			x, err := v.e.Eval(exprContext{r})
			if err != nil {
				r.log.Warn("ivr_expression_failed", "node", r.node.name, "var", v.name, "error", err)
			}
			val = x.String()
		} else {
			val = v.tmpl.expand(r.lookup, nil)
		}
		r.assign(v.name, val, r.readsSensitive(v.reads))
	}
	return result{next: a.next, reason: "next"}
}

// branchNode goes to the next of the first case whose condition holds, or
// to else.
type branchNode struct {
	cases []branchCase
	els   string
}

type branchCase struct {
	cond *expr.Expr
	next string
}

func parseBranch(np *nodeParser) action {
	a := &branchNode{els: np.ref("else", true)}
	items := np.list("cases")
	if !np.has("cases") {
		np.missing("cases")
	}
	for i, it := range items {
		at := fmt.Sprintf("%s[%d]", np.at("cases"), i)
		o := np.p.object(it, at, caseKeys)
		c := branchCase{}
		if src := o.required("if"); src != "" {
			c.cond = np.expression(src, o.val["if"], o.at("if"))
			if c.cond != nil {
				if t := c.cond.Type(); t != expr.TypeBool && t != expr.TypeAny {
					np.p.errf(o.val["if"], o.at("if"), "a condition must be true or false, not a %s", t)
				}
			}
		}
		if !o.has("next") {
			o.missing("next")
		} else if to, ok := o.str("next"); ok {
			np.edge(to, o.val["next"], o.at("next"))
			c.next = to
		}
		a.cases = append(a.cases, c)
	}
	return a
}

func (a *branchNode) exec(_ context.Context, r *run) result {
	for i, c := range a.cases {
		if c.cond == nil {
			continue
		}
		ok, err := c.cond.Bool(exprContext{r})
		if err != nil {
			r.log.Warn("ivr_expression_failed", "node", r.node.name, "case", i, "error", err)
			continue
		}
		if ok {
			return result{next: c.next, reason: fmt.Sprintf("case %d", i)}
		}
	}
	return result{next: a.els, reason: "else"}
}
