// Package config is the toolkit every section of switchd.yaml is built with:
// strict YAML decoding, problems that carry a path and are reported as
// file:line, and small value types (durations, port ranges).
//
// Each package owns its own section (sip.Config, media.Config, …) and its
// Validate method; the wiring package composes them into the whole file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong (or worth a warning) in a configuration file.
type Problem struct {
	File    string
	Line    int
	Path    string // dotted path of the key, e.g. "sip.realm" or "sip.listen[1]"
	Msg     string
	Warning bool
}

// Error formats the problem as "file:line: path: message".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems collects the problems of one section. The zero value is ready to use.
type Problems struct {
	list []Problem
}

// Add records a problem at path (relative to the section).
func (ps *Problems) Add(path, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Warn records a warning: reported, but it does not stop the switch.
func (ps *Problems) Warn(path, format string, args ...any) {
	ps.list = append(ps.list, Problem{Path: path, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// Merge adds the problems of a sub-section, prefixing their paths.
func (ps *Problems) Merge(prefix string, sub []Problem) {
	for _, p := range sub {
		switch {
		case prefix == "":
		case p.Path == "":
			p.Path = prefix
		case strings.HasPrefix(p.Path, "["):
			p.Path = prefix + p.Path
		default:
			p.Path = prefix + "." + p.Path
		}
		ps.list = append(ps.list, p)
	}
}

// List returns the problems recorded so far.
func (ps *Problems) List() []Problem { return ps.list }

// Error is every problem of one file, errors and warnings, in line order.
type Error struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any problem is more than a warning.
func (e *Error) HasErrors() bool {
	for _, p := range e.Problems {
		if !p.Warning {
			return true
		}
	}
	return false
}

// Validator is implemented by a configuration section.
type Validator interface {
	Validate() []Problem
}

// Decode strictly decodes data (from file) into out: syntax errors, unknown
// keys and type mismatches are all reported, each with its line. Then it runs
// out's Validate (when out implements Validator) and maps each problem's path
// back to the line of that key. The result is nil, or an *Error holding every
// problem; an *Error with only warnings does not stop the load (check
// HasErrors).
func Decode(file string, data []byte, out any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return &Error{Problems: []Problem{syntaxProblem(file, err)}}
	}
	var problems []Problem
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(out); err != nil {
			var te *yaml.TypeError
			if !errors.As(err, &te) {
				return &Error{Problems: []Problem{syntaxProblem(file, err)}}
			}
			for _, msg := range te.Errors {
				problems = append(problems, typeProblem(file, msg))
			}
		}
	}
	if v, ok := out.(Validator); ok && len(problems) == 0 {
		for _, p := range v.Validate() {
			p.File = file
			p.Line = LineOf(&root, p.Path)
			problems = append(problems, p)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	return &Error{Problems: problems}
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxProblem(file string, err error) Problem {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: file, Line: line, Msg: m[2]}
	}
	return Problem{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

var fieldNotFoundRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

func typeProblem(file, msg string) Problem {
	p := syntaxProblem(file, errors.New(msg))
	if m := fieldNotFoundRE.FindStringSubmatch(p.Msg); m != nil {
		p.Msg = fmt.Sprintf("unknown key %q", m[1])
	} else {
		p.Msg = strings.ReplaceAll(p.Msg, "cannot unmarshal ", "cannot read ")
	}
	return p
}

// Locate fills in the file and line of problems found outside Decode (for
// example by checking the file against the database), from the document data.
func Locate(file string, data []byte, problems []Problem) {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return
	}
	for i := range problems {
		problems[i].File = file
		if problems[i].Line == 0 {
			problems[i].Line = LineOf(&root, problems[i].Path)
		}
	}
}

// LineOf returns the line of the key or item at path ("a.b[2].c") in the
// document, or of the deepest ancestor that exists; 0 for an empty document.
func LineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return 0
		}
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range splitPath(path) {
		next, keyLine := child(n, seg)
		if next == nil {
			return line
		}
		if keyLine > 0 {
			line = keyLine
		} else {
			line = next.Line
		}
		n = next
	}
	return line
}

func splitPath(path string) []string {
	var segs []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			switch {
			case i < 0:
				segs = append(segs, part)
				part = ""
			case i > 0:
				segs = append(segs, part[:i])
				part = part[i:]
			default:
				j := strings.IndexByte(part, ']')
				if j < 0 {
					return segs
				}
				segs = append(segs, part[:j+1])
				part = part[j+1:]
			}
		}
	}
	return segs
}

func child(n *yaml.Node, seg string) (*yaml.Node, int) {
	if strings.HasPrefix(seg, "[") {
		idx, err := strconv.Atoi(strings.Trim(seg, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || idx < 0 || idx >= len(n.Content) {
			return nil, 0
		}
		return n.Content[idx], 0
	}
	if n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			// Report the line of the value for scalars, of the key otherwise.
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}
