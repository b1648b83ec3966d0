package expr

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp // operators and punctuation: == != < <= > >= && || ! ( ) [ ] , -
)

type token struct {
	kind tokKind
	text string // identifier, operator, number text, or the string's value
	pos  int    // byte offset in the source
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	vars  []string
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &SyntaxError{Col: utf8.RuneCountInString(p.src[:min(pos, len(p.src))]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// lex splits the source into tokens.
func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && (isIdentChar(s[j]) || s[j] == '.' && j+1 < len(s) && isIdentChar(s[j+1])) {
				j++
			}
			p.toks = append(p.toks, token{tIdent, s[i:j], i})
			i = j
		case isDigit(c):
			j := i
			for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
				j++
			}
			if _, err := strconv.ParseFloat(s[i:j], 64); err != nil {
				return p.errAt(i, "%q is not a number", s[i:j])
			}
			if j < len(s) && isIdentStart(s[j]) {
				return p.errAt(j, "unexpected %q after a number", s[j])
			}
			p.toks = append(p.toks, token{tNumber, s[i:j], i})
			i = j
		case c == '"' || c == '\'':
			v, n, err := unquote(s[i:], c)
			if err != "" {
				return p.errAt(i+n, "%s", err)
			}
			p.toks = append(p.toks, token{tString, v, i})
			i += n
		default:
			op := ""
			for _, o := range []string{"==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ",", "-"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(s[i:])
				if c == '=' {
					return p.errAt(i, "unexpected \"=\" (compare with \"==\"; expressions cannot assign)")
				}
				return p.errAt(i, "unexpected %q", r)
			}
			p.toks = append(p.toks, token{tOp, op, i})
			i += len(op)
		}
	}
	p.toks = append(p.toks, token{tEOF, "", len(s)})
	return nil
}

// unquote reads a string literal at the start of s quoted with q. It
// returns its value and length, or an error message and its offset.
func unquote(s string, q byte) (string, int, string) {
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, ""
		case c == '\\':
			if i+1 >= len(s) {
				return "", i, "unterminated string"
			}
			switch e := s[i+1]; e {
			case '\\', '"', '\'':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				return "", i, fmt.Sprintf("unknown escape \\%c", e)
			}
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, "unterminated string"
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

// isOp reports whether the next token is one of the operators (or the
// keyword aliases and, or, not, in).
func (p *parser) isOp(ops ...string) bool {
	t := p.peek()
	return (t.kind == tOp || t.kind == tIdent) && slices.Contains(ops, t.text)
}

func (p *parser) expect(op string) error {
	t := p.peek()
	if t.kind != tOp || t.text != op {
		return p.errAt(t.pos, "expected %q, found %s", op, describe(t))
	}
	p.next()
	return nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(pos, "nested more than %d deep", MaxDepth)
	}
	return nil
}

// parse reads the whole expression.
func (p *parser) parse() (node, error) {
	if p.peek().kind == tEOF {
		return nil, p.errAt(0, "empty expression")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t.pos, "unexpected %s", describe(t))
	}
	if n.typ() == TypeList {
		return nil, p.errAt(0, "a list is only allowed after in")
	}
	return n, nil
}

// or: and { ("||" | "or") and }
func (p *parser) or() (node, error) {
	l, err := p.and()
	for err == nil && p.isOp("||", "or") {
		t := p.next()
		var r node
		if r, err = p.and(); err == nil {
			if err = p.wantBool(l, t); err == nil {
				if err = p.wantBool(r, t); err == nil {
					l = &logic{or: true, l: l, r: r, at: t.pos}
				}
			}
		}
	}
	return l, err
}

// and: not { ("&&" | "and") not }
func (p *parser) and() (node, error) {
	l, err := p.cmp()
	for err == nil && p.isOp("&&", "and") {
		t := p.next()
		var r node
		if r, err = p.cmp(); err == nil {
			if err = p.wantBool(l, t); err == nil {
				if err = p.wantBool(r, t); err == nil {
					l = &logic{l: l, r: r, at: t.pos}
				}
			}
		}
	}
	return l, err
}

func (p *parser) wantBool(n node, op token) error {
	if t := n.typ(); t != TypeBool && t != TypeAny {
		return p.errAt(n.pos(), "%q needs conditions on both sides, not a %s", op.text, t)
	}
	return nil
}

// cmp: unary [ op unary | ["not"] "in" list ]
func (p *parser) cmp() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	switch {
	case p.isOp("==", "!=", "<", "<=", ">", ">="):
		t := p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		for _, side := range []node{l, r} {
			switch st := side.typ(); {
			case st == TypeList:
				return nil, p.errAt(side.pos(), "a list is only allowed after in")
			case st == TypeBool && t.text != "==" && t.text != "!=":
				return nil, p.errAt(side.pos(), "%q cannot order booleans", t.text)
			}
		}
		lt, rt := l.typ(), r.typ()
		if lt != TypeAny && rt != TypeAny && lt != rt {
			return nil, p.errAt(t.pos, "compares a %s with a %s", lt, rt)
		}
		return &compare{op: t.text, l: l, r: r, at: t.pos}, nil
	case p.isOp("in") || p.isOp("not") && p.i+1 < len(p.toks) && p.toks[p.i+1].text == "in":
		neg := p.next().text == "not"
		if neg {
			p.next()
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		if r.typ() != TypeList {
			return nil, p.errAt(r.pos(), "in needs a list: [\"a\", \"b\"]")
		}
		var n node = &inList{x: l, list: r.(*list), at: l.pos()}
		if neg {
			n = &not{x: n, at: n.pos()}
		}
		return n, nil
	}
	return l, nil
}

// unary: ("!" | "not") unary | "-" number | primary
func (p *parser) unary() (node, error) {
	t := p.peek()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	switch {
	case p.isOp("!", "not"):
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if xt := x.typ(); xt != TypeBool && xt != TypeAny {
			return nil, p.errAt(x.pos(), "%q needs a condition, not a %s", t.text, xt)
		}
		return &not{x: x, at: t.pos}, nil
	case p.isOp("-"):
		p.next()
		n := p.next()
		if n.kind != tNumber {
			return nil, p.errAt(n.pos, "\"-\" must be followed by a number")
		}
		f, _ := strconv.ParseFloat(n.text, 64)
		return &lit{v: Number(-f), at: t.pos}, nil
	}
	return p.primary()
}

// primary: literal | variable | call | "(" or ")" | "[" items "]"
func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return &lit{v: String(t.text), at: t.pos}, nil
	case tNumber:
		f, _ := strconv.ParseFloat(t.text, 64)
		return &lit{v: Number(f), at: t.pos}, nil
	case tIdent:
		switch t.text {
		case "true", "false":
			return &lit{v: Bool(t.text == "true"), at: t.pos}, nil
		case "and", "or", "not", "in":
			return nil, p.errAt(t.pos, "unexpected %q", t.text)
		}
		if p.isOp("(") {
			return p.call(t)
		}
		if !slices.Contains(p.vars, t.text) {
			p.vars = append(p.vars, t.text)
		}
		return &variable{name: t.text, at: t.pos}, nil
	case tOp:
		switch t.text {
		case "(":
			n, err := p.or()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return n, nil
		case "[":
			l := &list{at: t.pos}
			for !p.isOp("]") {
				if len(l.items) > 0 {
					if err := p.expect(","); err != nil {
						return nil, err
					}
				}
				if len(l.items) >= MaxItems {
					return nil, p.errAt(p.peek().pos, "more than %d items", MaxItems)
				}
				it, err := p.or()
				if err != nil {
					return nil, err
				}
				if it.typ() == TypeList {
					return nil, p.errAt(it.pos(), "lists cannot be nested")
				}
				l.items = append(l.items, it)
			}
			p.next()
			return l, nil
		}
	}
	return nil, p.errAt(t.pos, "unexpected %s", describe(t))
}

// call reads the arguments of the function named by t and checks them.
func (p *parser) call(t token) (node, error) {
	f, ok := functions[t.text]
	if !ok {
		return nil, p.errAt(t.pos, "unknown function %q (functions: %s)", t.text, strings.Join(FunctionNames(), ", "))
	}
	p.next() // (
	c := &callNode{name: t.text, f: f, at: t.pos}
	for !p.isOp(")") {
		if len(c.args) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		if len(c.args) >= 3 {
			return nil, p.errAt(p.peek().pos, "%s takes %d arguments", t.text, len(f.args))
		}
		a, err := p.or()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
	}
	p.next() // )
	if len(c.args) != len(f.args) {
		return nil, p.errAt(t.pos, "%s takes %d argument%s, not %d", t.text, len(f.args), plural(len(f.args)), len(c.args))
	}
	for i, a := range c.args {
		want, got := f.args[i], a.typ()
		if want == TypeAny || got == TypeAny || got == want || want == TypeString && got == TypeNumber {
			if got == TypeList {
				return nil, p.errAt(a.pos(), "a list is only allowed after in")
			}
			continue
		}
		return nil, p.errAt(a.pos(), "argument %d of %s must be a %s, not a %s", i+1, t.text, want, got)
	}
	if f.prepare != nil {
		if err := f.prepare(c); err != nil {
			return nil, p.errAt(c.args[min(len(c.args)-1, f.litArg)].pos(), "%s", err)
		}
	}
	return c, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
