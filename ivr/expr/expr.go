// Package expr is the small, safe expression language of IVR flows: the
// conditions of branch nodes, computed variables of set nodes and computed
// priorities of enqueue nodes.
//
// An expression is literals ("gold", 'gold', 42, 1.5, true, false),
// variables (caller, customer.vip_level), comparisons (== != < <= > >=),
// membership (x in ["a", "b"]), logic (&& || ! or and, or, not),
// parentheses and calls of a fixed set of functions (see Functions). There
// are no loops, no assignments and no way to call anything else; an
// expression is parsed once, when its flow is loaded (errors name the
// column), and its evaluation visits each node of the syntax tree at most
// once, so it is bounded by the expression's length.
//
// Variables are strings. Comparing a variable with a number compares
// numerically when the variable's text is a number; two variables compare
// numerically when both are numbers and as text otherwise. A variable used
// as a condition is true unless it is empty, "0", "false" or "no"; an
// unset variable is empty.
package expr

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Errors of package expr. Parse returns a *SyntaxError, which matches
// ErrSyntax; evaluation errors match ErrEval.
var (
	ErrSyntax = errors.New("expr: syntax error")
	ErrEval   = errors.New("expr: evaluation error")
)

// Limits of an expression.
const (
	MaxLen   = 2000 // bytes of source
	MaxDepth = 32   // nesting of parentheses, operators and calls
	MaxItems = 100  // items of an in [...] list
)

// SyntaxError is a problem found by Parse, at a column (1-based, in
// characters) of the source.
type SyntaxError struct {
	Col int
	Msg string
}

// Error returns "column N: message".
func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// Unwrap makes a *SyntaxError match ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Context is what an expression reads when it is evaluated.
type Context interface {
	// Var returns the value of the variable name ("" when unset).
	Var(name string) string
	// Now returns the current time in the location that hour(), weekday(),
	// date() and time_between() apply to.
	Now() time.Time
}

// Expr is a parsed expression, safe for concurrent use.
type Expr struct {
	src  string
	root node
	vars []string
}

// Parse parses src.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLen {
		return nil, &SyntaxError{Col: 1, Msg: fmt.Sprintf("longer than %d bytes", MaxLen)}
	}
	if !utf8.ValidString(src) {
		return nil, &SyntaxError{Col: 1, Msg: "not valid UTF-8"}
	}
	p := &parser{src: src}
	if err := p.lex(); err != nil {
		return nil, err
	}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, root: root, vars: p.vars}, nil
}

// MustParse is Parse for expressions known to be valid; it panics otherwise.
func MustParse(src string) *Expr {
	e, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source.
func (e *Expr) String() string { return e.src }

// Vars returns the variables the expression reads, in order of first use.
func (e *Expr) Vars() []string { return e.vars }

// Type returns the static type of the expression's value.
func (e *Expr) Type() Type { return e.root.typ() }

// Eval evaluates the expression.
func (e *Expr) Eval(c Context) (Value, error) { return e.root.eval(c) }

// Bool evaluates the expression as a condition.
func (e *Expr) Bool(c Context) (bool, error) {
	v, err := e.root.eval(c)
	if err != nil {
		return false, err
	}
	return v.Truth(), nil
}

// Type is the static type of an expression or a value.
type Type uint8

// Types. A variable's type is TypeAny: a string whose use decides how it is read.
const (
	TypeAny    Type = iota // a variable: a string read as the context needs
	TypeBool               // true or false
	TypeNumber             // a float64
	TypeString             // text
	TypeList               // the right side of in
)

var typeNames = []string{"any", "boolean", "number", "string", "list"}

// String returns the type's name ("boolean").
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Value is the result of an expression.
type Value struct {
	t    Type
	s    string
	n    float64
	b    bool
	list []Value
}

// String returns a value of the given type.
func String(s string) Value { return Value{t: TypeString, s: s} }

// Number returns a number value.
func Number(n float64) Value { return Value{t: TypeNumber, n: n} }

// Bool returns a boolean value.
func Bool(b bool) Value { return Value{t: TypeBool, b: b} }

// Type returns the value's type (TypeAny for a variable's value).
func (v Value) Type() Type { return v.t }

// String returns the value as text: numbers without a trailing ".0",
// booleans as "true" or "false".
func (v Value) String() string {
	switch v.t {
	case TypeBool:
		return strconv.FormatBool(v.b)
	case TypeNumber:
		return strconv.FormatFloat(v.n, 'f', -1, 64)
	case TypeList:
		return "[list]"
	}
	return v.s
}

// Num returns the value as a number, if it is one or is text that parses
// as one.
func (v Value) Num() (float64, bool) {
	switch v.t {
	case TypeNumber:
		return v.n, true
	case TypeString, TypeAny:
		f, err := strconv.ParseFloat(v.s, 64)
		if err != nil || f != f { // reject NaN
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// Truth returns the value as a condition: booleans are themselves, numbers
// are true unless 0, text is true unless "", "0", "false" or "no".
func (v Value) Truth() bool {
	switch v.t {
	case TypeBool:
		return v.b
	case TypeNumber:
		return v.n != 0
	case TypeList:
		return len(v.list) > 0
	}
	switch v.s {
	case "", "0", "false", "no", "FALSE", "False", "NO", "No":
		return false
	}
	return true
}
