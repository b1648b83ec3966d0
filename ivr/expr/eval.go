package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// node is a node of the syntax tree.
type node interface {
	eval(c Context) (Value, error)
	typ() Type
	pos() int // byte offset in the source, for errors
}

type lit struct {
	v  Value
	at int
}

func (n *lit) eval(Context) (Value, error) { return n.v, nil }
func (n *lit) typ() Type                   { return n.v.t }
func (n *lit) pos() int                    { return n.at }

type variable struct {
	name string
	at   int
}

func (n *variable) eval(c Context) (Value, error) { return Value{t: TypeAny, s: c.Var(n.name)}, nil }
func (n *variable) typ() Type                     { return TypeAny }
func (n *variable) pos() int                      { return n.at }

type not struct {
	x  node
	at int
}

func (n *not) eval(c Context) (Value, error) {
	v, err := n.x.eval(c)
	if err != nil {
		return Value{}, err
	}
	return Bool(!v.Truth()), nil
}
func (n *not) typ() Type { return TypeBool }
func (n *not) pos() int  { return n.at }

// logic is && or || (short-circuit).
type logic struct {
	or   bool
	l, r node
	at   int
}

func (n *logic) eval(c Context) (Value, error) {
	l, err := n.l.eval(c)
	if err != nil {
		return Value{}, err
	}
	if l.Truth() == n.or {
		return Bool(n.or), nil
	}
	r, err := n.r.eval(c)
	if err != nil {
		return Value{}, err
	}
	return Bool(r.Truth()), nil
}
func (n *logic) typ() Type { return TypeBool }
func (n *logic) pos() int  { return n.l.pos() }

type compare struct {
	op   string
	l, r node
	at   int
}

func (n *compare) eval(c Context) (Value, error) {
	l, err := n.l.eval(c)
	if err != nil {
		return Value{}, err
	}
	r, err := n.r.eval(c)
	if err != nil {
		return Value{}, err
	}
	switch n.op {
	case "==":
		return Bool(Equal(l, r)), nil
	case "!=":
		return Bool(!Equal(l, r)), nil
	}
	d, err := Compare(l, r)
	if err != nil {
		return Value{}, err
	}
	switch n.op {
	case "<":
		return Bool(d < 0), nil
	case "<=":
		return Bool(d <= 0), nil
	case ">":
		return Bool(d > 0), nil
	default:
		return Bool(d >= 0), nil
	}
}
func (n *compare) typ() Type { return TypeBool }
func (n *compare) pos() int  { return n.l.pos() }

// Equal reports whether a == b: booleans compare with booleans (a
// variable's text "true" or "false"), numbers numerically (a variable that
// is not a number is unequal to every number), text as text.
func Equal(a, b Value) bool {
	switch {
	case a.t == TypeBool || b.t == TypeBool:
		ab, aok := asBool(a)
		bb, bok := asBool(b)
		return aok && bok && ab == bb
	case a.t == TypeNumber || b.t == TypeNumber:
		an, aok := a.Num()
		bn, bok := b.Num()
		return aok && bok && an == bn
	}
	return a.s == b.s
}

func asBool(v Value) (bool, bool) {
	if v.t == TypeBool {
		return v.b, true
	}
	b, err := strconv.ParseBool(strings.ToLower(v.s))
	return b, err == nil && v.t != TypeNumber
}

// Compare orders a and b (-1, 0, +1): numerically when both are numbers
// (or text that parses as one), as text when both are text; comparing a
// number with text that is not a number, or a boolean, is an error.
func Compare(a, b Value) (int, error) {
	if a.t == TypeBool || b.t == TypeBool {
		return 0, fmt.Errorf("%w: booleans cannot be ordered", ErrEval)
	}
	an, aok := a.Num()
	bn, bok := b.Num()
	switch {
	case aok && bok:
		switch {
		case an < bn:
			return -1, nil
		case an > bn:
			return 1, nil
		}
		return 0, nil
	case a.t == TypeNumber || b.t == TypeNumber:
		s := a.s
		if a.t == TypeNumber {
			s = b.s
		}
		return 0, fmt.Errorf("%w: %q is not a number", ErrEval, s)
	}
	return strings.Compare(a.s, b.s), nil
}

type list struct {
	items []node
	at    int
}

func (n *list) eval(c Context) (Value, error) {
	v := Value{t: TypeList, list: make([]Value, len(n.items))}
	for i, it := range n.items {
		x, err := it.eval(c)
		if err != nil {
			return Value{}, err
		}
		v.list[i] = x
	}
	return v, nil
}
func (n *list) typ() Type { return TypeList }
func (n *list) pos() int  { return n.at }

type inList struct {
	x    node
	list *list
	at   int
}

func (n *inList) eval(c Context) (Value, error) {
	x, err := n.x.eval(c)
	if err != nil {
		return Value{}, err
	}
	for _, it := range n.list.items {
		v, err := it.eval(c)
		if err != nil {
			return Value{}, err
		}
		if Equal(x, v) {
			return Bool(true), nil
		}
	}
	return Bool(false), nil
}
func (n *inList) typ() Type { return TypeBool }
func (n *inList) pos() int  { return n.at }

type callNode struct {
	name string
	f    *function
	args []node
	data any // prepared from literal arguments (a compiled regexp, minutes)
	at   int
}

func (n *callNode) eval(c Context) (Value, error) {
	if n.f.lazy != nil {
		return n.f.lazy(c, n)
	}
	args := make([]Value, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(c)
		if err != nil {
			return Value{}, err
		}
		args[i] = v
	}
	return n.f.call(c, n, args)
}

func (n *callNode) typ() Type {
	if n.name == "if" && len(n.args) == 3 {
		if a, b := n.args[1].typ(), n.args[2].typ(); a == b {
			return a
		}
		return TypeAny
	}
	return n.f.ret
}
func (n *callNode) pos() int { return n.at }
