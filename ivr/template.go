package ivr

import (
	"errors"
	"strings"
)

// template is text with ${var} references (prompts' say:, http urls,
// headers and bodies, set values, transfer targets). "$$" is a literal "$".
type template struct {
	parts []tpart
}

// tpart is literal text, or (v != "") a variable reference.
type tpart struct {
	lit, v string
}

// errTemplate describes a malformed template.
var (
	errUnclosed = errors.New(`"${" without a closing "}"`)
	errVarName  = errors.New("not a variable name")
)

// parseTemplate compiles s. A reference names a variable (letters, digits,
// underscores) or a customer attribute (customer.<attr>).
func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			lit.WriteByte(c)
			i++
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			lit.WriteByte('$')
			i += 2
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return template{}, errUnclosed
			}
			name := strings.TrimSpace(s[i+2 : i+end])
			if !validVarRef(name) {
				return template{}, errVarNameAt(name)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tpart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tpart{v: name})
			i += end + 1
		default:
			lit.WriteByte(c)
			i++
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tpart{lit: lit.String()})
	}
	return t, nil
}

func errVarNameAt(name string) error {
	return &varNameError{name}
}

type varNameError struct{ name string }

func (e *varNameError) Error() string { return `"${` + e.name + `}": ` + errVarName.Error() }

// validVarRef reports whether name can be read in a template or an
// expression: a variable or customer.<attr>.
func validVarRef(name string) bool {
	if attr, ok := strings.CutPrefix(name, "customer."); ok {
		return varRE.MatchString(attr)
	}
	return varRE.MatchString(name)
}

// vars returns the variables t reads.
func (t template) vars() []string {
	var vs []string
	for _, p := range t.parts {
		if p.v != "" {
			vs = append(vs, p.v)
		}
	}
	return vs
}

// isLiteral reports whether t reads no variables.
func (t template) isLiteral() bool { return len(t.vars()) == 0 }

// expand returns t with each reference replaced by look(name), passed
// through esc when esc is not nil.
func (t template) expand(look func(string) string, esc func(string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.v == "" {
			b.WriteString(p.lit)
			continue
		}
		v := look(p.v)
		if esc != nil {
			v = esc(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// String returns the literal text of a template without references.
func (t template) String() string {
	return t.expand(func(n string) string { return "${" + n + "}" }, nil)
}
