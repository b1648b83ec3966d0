package ivr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchd/switchd/internal/config"
)

// Flow is one validated flow, immutable once loaded and shared by the
// calls running it.
type Flow struct {
	name        string
	file        string
	description string
	line        int // of name:, or 1
	start       string
	language    string
	loc         *time.Location // nil: the clock's own location
	vars        []kv           // initial variables, in file order
	nodes       map[string]*node
	order       []*node         // in file order
	checks      []check         // to do against the Checker and the Set
	writes      map[string]bool // variables the flow sets
}

// kv is one variable and its value.
type kv struct{ k, v string }

// Name returns the flow's name (its file name without extension, or name:).
func (f *Flow) Name() string { return f.name }

// File returns the file the flow was read from.
func (f *Flow) File() string { return f.file }

// Description returns the flow's description: text.
func (f *Flow) Description() string { return f.description }

// Start returns the name of the flow's first node.
func (f *Flow) Start() string { return f.start }

// Language returns the flow's default prompt language ("" for the
// switch's default).
func (f *Flow) Language() string { return f.language }

// Nodes returns the names of the flow's nodes in file order.
func (f *Flow) Nodes() []string {
	names := make([]string, len(f.order))
	for i, n := range f.order {
		names[i] = n.name
	}
	return names
}

// NodeKind returns the type of the named node.
func (f *Flow) NodeKind(name string) (NodeKind, bool) {
	n, ok := f.nodes[name]
	if !ok {
		return NodeUnknown, false
	}
	return n.kind, true
}

// node is one node of a flow.
type node struct {
	name  string
	kind  NodeKind
	line  int
	path  string // "nodes.<name>"
	edges []edge // the nodes it can go to
	reads []string
	act   action
}

// usesCustomer reports whether the node reads customer attributes.
func (n *node) usesCustomer() bool {
	return slices.ContainsFunc(n.reads, func(v string) bool { return strings.HasPrefix(v, "customer.") })
}

// edge is a reference from a node to another (next:, options, cases…).
type edge struct {
	to   string
	line int
	path string
}

// action is what a node does when a run enters it.
type action interface {
	exec(ctx context.Context, r *run) result
}

// result is where a node sends the run: to the next node (with the reason
// traced as the branch taken), to another flow, or out of the flow.
type result struct {
	next   string
	reason string
	flow   string   // go on at the start of this flow of the Set
	out    *Outcome // the run ends (Kind set; Flow, Node, Vars filled in by the run)
}

// checkKind names what a check looks up.
type checkKind uint8

const (
	checkExtension checkKind = iota + 1
	checkTrunk
	checkQueue
	checkPrompt
	checkFile
	checkFlow
)

// check is a name a flow refers to that only the Checker (or the Set, for
// flows) can confirm.
type check struct {
	kind        checkKind
	value, lang string
	line        int
	path        string
	spoken      bool // a recorded prompt with say: text spoken when it is missing
}

// Limits of a flow file.
const (
	maxFileSize = 1 << 20
	maxNodes    = 1000
)

var flowKeys = []string{"name", "description", "start", "language", "timezone", "vars", "nodes"}

var langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// parseFlow reads and checks one flow file on its own (the Checker and
// references to other flows are checked by the Set). name is the flow's
// default name (the file's base name without extension). It returns the
// flow (nil when the file cannot be read as one) and every problem found.
func parseFlow(file, name string, data []byte) (*Flow, []config.Problem) {
	p := &parser{file: file}
	f := p.flow(name, data)
	return f, p.problems
}

func (p *parser) flow(name string, data []byte) *Flow {
	if len(data) > maxFileSize {
		p.add(0, "", false, "file is larger than %d bytes", maxFileSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(0, "", false, "empty file: a flow needs start: and nodes:")
			return nil
		}
		p.syntax(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.add(extra.Line, "", false, "a second YAML document: one flow per file")
	} else if !errors.Is(err, io.EOF) {
		p.syntax(err)
		return nil
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			p.add(0, "", false, "empty file: a flow needs start: and nodes:")
			return nil
		}
		doc = doc.Content[0]
	}
	top := p.object(doc, "", flowKeys)
	f := &Flow{name: name, file: p.file, line: max(1, top.line("name")), nodes: map[string]*node{}, writes: map[string]bool{}}
	if s, ok := top.str("name"); ok {
		if !nameRE.MatchString(s) {
			p.errf(top.val["name"], "name", "%q is not a flow name (letters, digits, '_', '-', '.')", s)
		} else {
			f.name = s
		}
	} else if !nameRE.MatchString(name) {
		p.add(0, "", false, "file name %q is not a flow name (letters, digits, '_', '-', '.'): rename it or set name:", name)
	}
	f.description, _ = top.str("description")
	if s, ok := top.str("language"); ok && s != "" {
		if !langRE.MatchString(s) {
			p.errf(top.val["language"], "language", "%q is not a language tag (e.g. \"en-GB\")", s)
		}
		f.language = s
	}
	if s, ok := top.str("timezone"); ok && s != "" {
		loc, err := loadLocation(s)
		if err != nil {
			p.errf(top.val["timezone"], "timezone", "%q is not a time zone (IANA name such as \"Europe/London\")", s)
		}
		f.loc = loc
	}
	vars := p.object(top.val["vars"], "vars", nil)
	for _, k := range vars.keys {
		if !varRE.MatchString(k) || builtinVar(k) {
			p.errf(vars.key[k], vars.at(k), "%q cannot be set: %s", k, varNameRule)
			continue
		}
		v, _ := vars.str(k)
		f.vars = append(f.vars, kv{k, v})
		f.writes[k] = true
	}
	nodes := p.object(top.val["nodes"], "nodes", nil)
	if !top.has("nodes") {
		top.missing("nodes")
	} else if len(nodes.keys) == 0 && (nodes.n.Kind == yaml.MappingNode || nodes.n.Tag == "!!null") {
		p.errf(top.key["nodes"], "nodes", "no nodes")
	}
	if len(nodes.keys) > maxNodes {
		p.errf(top.key["nodes"], "nodes", "more than %d nodes", maxNodes)
		return nil
	}
	for _, k := range nodes.keys {
		if n := p.node(f, k, nodes.key[k], nodes.val[k]); n != nil {
			f.nodes[k] = n
			f.order = append(f.order, n)
		}
	}
	f.start = top.required("start")
	if f.start != "" && len(nodes.keys) > 0 && !slices.Contains(nodes.keys, f.start) {
		p.errf(top.val["start"], "start", "no node named %q", f.start)
	}
	p.graph(f, nodes.keys)
	return f
}

var syntaxLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntax records a YAML syntax error with its line.
func (p *parser) syntax(err error) {
	msg := err.Error()
	if m := syntaxLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.add(line, "", false, "%s", m[2])
		return
	}
	p.add(0, "", false, "%s", strings.TrimPrefix(msg, "yaml: "))
}

// node reads one node. It returns nil when the node's type is unknown.
func (p *parser) node(f *Flow, name string, key, v *yaml.Node) *node {
	path := join("nodes", name)
	if !nameRE.MatchString(name) {
		p.errf(key, path, "%q is not a node name (letters, digits, '_', '-', '.')", name)
	}
	v = resolve(v)
	if v == nil || v.Kind != yaml.MappingNode {
		p.errf(key, path, "must be a mapping with a type: key")
		return nil
	}
	var typ string
	var typNode *yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == "type" {
			typNode = resolve(v.Content[i+1])
			typ, _ = p.scalar(typNode, join(path, "type"))
		}
	}
	if typNode == nil {
		p.errf(key, path, "missing key %q (one of %s)", "type", strings.Join(nodeKindNames[1:], ", "))
		return nil
	}
	var kind NodeKind
	if kind.UnmarshalText([]byte(typ)) != nil || kind == NodeUnknown {
		p.errf(typNode, join(path, "type"), "unknown node type %q (one of %s)", typ, strings.Join(nodeKindNames[1:], ", "))
		return nil
	}
	spec := kindSpecs[kind]
	n := &node{name: name, kind: kind, line: key.Line, path: path}
	np := &nodeParser{obj: p.object(v, path, append([]string{"type", "description"}, spec.keys...)), f: f, n: n}
	n.act = spec.parse(np)
	return n
}

// varNameRule says which variable names a flow may set.
const varNameRule = "variables are letters, digits and '_' (not starting with a digit), and caller, dialled, call_id and now are read-only"

// builtinVar reports whether name is a read-only variable of every run.
func builtinVar(name string) bool {
	switch name {
	case "caller", "dialled", "call_id", "now", "flow":
		return true
	}
	return false
}

// String returns a short description ("flow main (main.yaml)").
func (f *Flow) String() string { return fmt.Sprintf("flow %s (%s)", f.name, f.file) }
