package expr

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// function is one built-in function.
type function struct {
	args    []Type
	ret     Type
	doc     string
	call    func(c Context, n *callNode, args []Value) (Value, error)
	lazy    func(c Context, n *callNode) (Value, error) // evaluates its own arguments (if)
	prepare func(n *callNode) error                     // checks literal arguments at parse time
	litArg  int                                         // the argument prepare complains about
}

var functions map[string]*function

func init() {
	str := func(f func(string) string) func(Context, *callNode, []Value) (Value, error) {
		return func(_ Context, _ *callNode, a []Value) (Value, error) { return String(f(a[0].String())), nil }
	}
	pred := func(f func(a, b string) bool) func(Context, *callNode, []Value) (Value, error) {
		return func(_ Context, _ *callNode, a []Value) (Value, error) {
			return Bool(f(a[0].String(), a[1].String())), nil
		}
	}
	functions = map[string]*function{
		"matches": {
			args: []Type{TypeString, TypeString}, ret: TypeBool, litArg: 1,
			doc: `matches(s, "re") — s matches the RE2 regular expression (a literal; unanchored, use ^…$)`,
			prepare: func(n *callNode) error {
				l, ok := n.args[1].(*lit)
				if !ok || l.v.t != TypeString {
					return errors.New("the regular expression of matches must be a string literal")
				}
				re, err := regexp.Compile(l.v.s)
				if err != nil {
					return fmt.Errorf("bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
				}
				n.data = re
				return nil
			},
			call: func(_ Context, n *callNode, a []Value) (Value, error) {
				return Bool(n.data.(*regexp.Regexp).MatchString(a[0].String())), nil
			},
		},
		"starts_with": {args: []Type{TypeString, TypeString}, ret: TypeBool, doc: "starts_with(s, prefix)", call: pred(strings.HasPrefix)},
		"ends_with":   {args: []Type{TypeString, TypeString}, ret: TypeBool, doc: "ends_with(s, suffix)", call: pred(strings.HasSuffix)},
		"contains":    {args: []Type{TypeString, TypeString}, ret: TypeBool, doc: "contains(s, part)", call: pred(strings.Contains)},
		"len": {
			args: []Type{TypeString}, ret: TypeNumber, doc: "len(s) — characters in s",
			call: func(_ Context, _ *callNode, a []Value) (Value, error) {
				return Number(float64(utf8.RuneCountInString(a[0].String()))), nil
			},
		},
		"lower": {args: []Type{TypeString}, ret: TypeString, doc: "lower(s)", call: str(strings.ToLower)},
		"upper": {args: []Type{TypeString}, ret: TypeString, doc: "upper(s)", call: str(strings.ToUpper)},
		"hour": {
			ret: TypeNumber, doc: "hour() — the hour now, 0-23, in the flow's time zone",
			call: func(c Context, _ *callNode, _ []Value) (Value, error) { return Number(float64(c.Now().Hour())), nil },
		},
		"minute": {
			ret: TypeNumber, doc: "minute() — the minute now, 0-59",
			call: func(c Context, _ *callNode, _ []Value) (Value, error) { return Number(float64(c.Now().Minute())), nil },
		},
		"weekday": {
			ret: TypeString, doc: `weekday() — "mon" … "sun", in the flow's time zone`,
			call: func(c Context, _ *callNode, _ []Value) (Value, error) {
				return String(strings.ToLower(c.Now().Weekday().String()[:3])), nil
			},
		},
		"date": {
			ret: TypeString, doc: `date() — today as "2006-01-02", in the flow's time zone`,
			call: func(c Context, _ *callNode, _ []Value) (Value, error) {
				return String(c.Now().Format("2006-01-02")), nil
			},
		},
		"time_between": {
			args: []Type{TypeString, TypeString}, ret: TypeBool, litArg: 1,
			doc: `time_between("09:00", "18:00") — the time of day now is in [from, to); to < from spans midnight`,
			prepare: func(n *callNode) error {
				var mins [2]int
				for i := range 2 {
					l, ok := n.args[i].(*lit)
					m, valid := -1, false
					if ok && l.v.t == TypeString {
						m, valid = ParseClock(l.v.s)
					}
					if !valid {
						return errors.New(`time_between takes two literal times of day: time_between("09:00", "18:00")`)
					}
					mins[i] = m
				}
				n.data = mins
				return nil
			},
			call: func(c Context, n *callNode, _ []Value) (Value, error) {
				mins := n.data.([2]int)
				now := c.Now()
				m := now.Hour()*60 + now.Minute()
				from, to := mins[0], mins[1]
				if from <= to {
					return Bool(m >= from && m < to), nil
				}
				return Bool(m >= from || m < to), nil
			},
		},
		"if": {
			args: []Type{TypeBool, TypeAny, TypeAny}, ret: TypeAny,
			doc: "if(cond, a, b) — a when cond holds, b otherwise (only the one chosen is evaluated)",
			lazy: func(c Context, n *callNode) (Value, error) {
				cond, err := n.args[0].eval(c)
				if err != nil {
					return Value{}, err
				}
				if cond.Truth() {
					return n.args[1].eval(c)
				}
				return n.args[2].eval(c)
			},
		},
	}
}

// FunctionNames returns the names of the built-in functions, sorted.
func FunctionNames() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Functions returns one line of documentation per built-in function, sorted.
func Functions() []string {
	var docs []string
	for _, n := range FunctionNames() {
		docs = append(docs, functions[n].doc)
	}
	return docs
}

// ParseClock reads a time of day "HH:MM" (00:00 to 24:00) as minutes
// since midnight.
func ParseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}
