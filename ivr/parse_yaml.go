package ivr

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchd/switchd/internal/config"
)

// A flow file is read by walking its yaml.v3 node tree rather than by
// decoding into structs: every problem of the file is reported at once, at
// the line of the key or value concerned, and the tree can be checked for
// things struct decoding cannot express (one of several keys, references to
// nodes). These helpers are that walk's vocabulary.

// parser collects the problems of one flow file.
type parser struct {
	file     string
	problems []config.Problem
}

func (p *parser) add(line int, path string, warn bool, format string, args ...any) {
	p.problems = append(p.problems, config.Problem{
		File: p.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...), Warning: warn,
	})
}

// errf records an error at n's line.
func (p *parser) errf(n *yaml.Node, path, format string, args ...any) {
	p.add(lineOf(n), path, false, format, args...)
}

// warnf records a warning at n's line.
func (p *parser) warnf(n *yaml.Node, path, format string, args ...any) {
	p.add(lineOf(n), path, true, format, args...)
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// obj is a YAML mapping being read: its keys were checked against the
// keys allowed there, each getter reports a value of the wrong shape.
type obj struct {
	p    *parser
	n    *yaml.Node
	path string
	keys []string              // in file order
	key  map[string]*yaml.Node // key nodes
	val  map[string]*yaml.Node // value nodes
}

// object reads the mapping n at path, reporting a non-mapping, duplicate
// keys and keys not in allowed (nil allowed: any key).
func (p *parser) object(n *yaml.Node, path string, allowed []string) *obj {
	n = resolve(n)
	o := &obj{p: p, n: n, path: path, key: map[string]*yaml.Node{}, val: map[string]*yaml.Node{}}
	if n == nil {
		return o
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return o
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, path, "must be a mapping (key: value lines)")
		return o
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if k.Kind != yaml.ScalarNode {
			p.errf(k, path, "keys must be plain strings")
			continue
		}
		if _, dup := o.key[name]; dup {
			p.errf(k, join(path, name), "key defined twice (first at line %d)", o.key[name].Line)
			continue
		}
		if allowed != nil && !slices.Contains(allowed, name) {
			if s := suggest(name, allowed); s != "" {
				p.errf(k, path, "unknown key %q (did you mean %q?)", name, s)
			} else {
				p.errf(k, path, "unknown key %q", name)
			}
			continue
		}
		o.keys = append(o.keys, name)
		o.key[name] = k
		o.val[name] = resolve(v)
	}
	return o
}

func (o *obj) has(k string) bool { _, ok := o.val[k]; return ok }

// at returns the path of key k.
func (o *obj) at(k string) string { return join(o.path, k) }

// line returns the line of key k, or of the mapping when k is absent.
func (o *obj) line(k string) int {
	if kn, ok := o.key[k]; ok {
		return kn.Line
	}
	return lineOf(o.n)
}

// missing reports that the required key k is absent.
func (o *obj) missing(k string) {
	o.p.add(lineOf(o.n), o.path, false, "missing key %q", k)
}

// str returns the scalar at k ("" and false when absent). Numbers and
// booleans are read as their text; null is "".
func (o *obj) str(k string) (string, bool) {
	v, ok := o.val[k]
	if !ok {
		return "", false
	}
	return o.p.scalar(v, o.at(k))
}

// scalar returns n's text, reporting a mapping or a sequence.
func (p *parser) scalar(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.errf(n, path, "must be a single value, not a %s", kindName(n))
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return n.Value, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "value"
	}
}

// required returns the non-empty scalar at k, reporting it when missing.
func (o *obj) required(k string) string {
	s, ok := o.str(k)
	if !ok {
		if !o.has(k) {
			o.missing(k)
		}
		return ""
	}
	if s == "" {
		o.p.errf(o.val[k], o.at(k), "must not be empty")
	}
	return s
}

// integer returns the integer at k, def when absent, reporting values
// outside [lo, hi].
func (o *obj) integer(k string, def, lo, hi int) int {
	s, ok := o.str(k)
	if !ok {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		o.p.errf(o.val[k], o.at(k), "%q is not a whole number", s)
		return def
	}
	if v < lo || v > hi {
		o.p.errf(o.val[k], o.at(k), "%d is out of range %d..%d", v, lo, hi)
		return def
	}
	return v
}

// boolean returns the boolean at k (false when absent).
func (o *obj) boolean(k string) bool {
	s, ok := o.str(k)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		o.p.errf(o.val[k], o.at(k), "%q is not true or false", s)
	}
	return b
}

// duration returns the duration at k (a Go duration string such as "5s"),
// def when absent, reporting values outside [lo, hi].
func (o *obj) duration(k string, def, lo, hi time.Duration) time.Duration {
	s, ok := o.str(k)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		o.p.errf(o.val[k], o.at(k), "%q is not a duration (use e.g. \"5s\", \"2m\")", s)
		return def
	}
	if d < lo || d > hi {
		o.p.errf(o.val[k], o.at(k), "%s is out of range %s..%s", d, lo, hi)
		return def
	}
	return d
}

// list returns the items of the sequence at k (nil when absent).
func (o *obj) list(k string) []*yaml.Node {
	v, ok := o.val[k]
	if !ok || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		o.p.errf(v, o.at(k), "must be a list")
		return nil
	}
	items := make([]*yaml.Node, len(v.Content))
	for i, it := range v.Content {
		items[i] = resolve(it)
	}
	return items
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	varRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// suggest returns the allowed key closest to name, if it is close.
func suggest(name string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(name), a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
