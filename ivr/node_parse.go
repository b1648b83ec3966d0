package ivr

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/ivr/expr"
)

// kindSpec is how one node type is read: the keys it allows besides type:
// and description:, and its parse function, which returns the node's action.
type kindSpec struct {
	keys  []string
	parse func(np *nodeParser) action
}

var kindSpecs map[NodeKind]kindSpec

func init() {
	kindSpecs = map[NodeKind]kindSpec{
		NodePlay:      {playKeys, parsePlay},
		NodeMenu:      {menuKeys, parseMenu},
		NodeCollect:   {collectKeys, parseCollect},
		NodeSet:       {setKeys, parseSet},
		NodeBranch:    {branchKeys, parseBranch},
		NodeHours:     {hoursKeys, parseHours},
		NodeHTTP:      {httpKeys, parseHTTP},
		NodeEnqueue:   {enqueueKeys, parseEnqueue},
		NodeTransfer:  {transferKeys, parseTransfer},
		NodeVoicemail: {voicemailKeys, parseVoicemail},
		NodeHangup:    {hangupKeys, parseHangup},
		NodeGoto:      {gotoKeys, parseGoto},
	}
}

// nodeParser reads one node's keys, recording its edges, the variables it
// reads and the names to check.
type nodeParser struct {
	*obj
	f *Flow
	n *node
}

// ref reads the node name at k and records it as an edge; a required
// reference that is absent is reported.
func (np *nodeParser) ref(k string, required bool) string {
	if !np.has(k) {
		if required {
			np.missing(k)
		}
		return ""
	}
	s, ok := np.str(k)
	if !ok {
		return ""
	}
	np.edge(s, np.val[k], np.at(k))
	return s
}

// edge records a reference to node to, read from v at path.
func (np *nodeParser) edge(to string, v *yaml.Node, path string) {
	if to == "" {
		np.p.errf(v, path, "must name a node")
		return
	}
	np.n.edges = append(np.n.edges, edge{to: to, line: lineOf(v), path: path})
}

// read records variables the node reads.
func (np *nodeParser) read(vars ...string) {
	for _, v := range vars {
		if !slices.Contains(np.n.reads, v) {
			np.n.reads = append(np.n.reads, v)
		}
	}
}

// tmpl reads the template at k.
func (np *nodeParser) tmpl(k string) (template, bool) {
	s, ok := np.str(k)
	if !ok {
		return template{}, false
	}
	return np.tmplOf(s, np.val[k], np.at(k))
}

func (np *nodeParser) tmplOf(s string, v *yaml.Node, at string) (template, bool) {
	t, err := parseTemplate(s)
	if err != nil {
		np.p.errf(v, at, "%v", err)
		return template{}, false
	}
	np.read(t.vars()...)
	return t, true
}

// expression reads the expression src found at v.
func (np *nodeParser) expression(src string, v *yaml.Node, at string) *expr.Expr {
	e, err := expr.Parse(src)
	if err != nil {
		np.p.errf(v, at, "%v", err)
		return nil
	}
	for _, name := range e.Vars() {
		if !validVarRef(name) {
			np.p.errf(v, at, "%q is not a variable name", name)
			return nil
		}
	}
	np.read(e.Vars()...)
	return e
}

// check records a name for the Checker.
func (np *nodeParser) check(kind checkKind, value, lang string, line int, at string) {
	np.f.checks = append(np.f.checks, check{kind: kind, value: value, lang: lang, line: line, path: at})
}

// setVar checks that the variable named at v can be set by the flow.
func (np *nodeParser) setVar(name string, v *yaml.Node, at string) bool {
	if !varRE.MatchString(name) || builtinVar(name) {
		np.p.errf(v, at, "%q cannot be set: %s", name, varNameRule)
		return false
	}
	np.f.writes[name] = true
	return true
}

// promptSpec is one prompt item of a node: text to say (with variables),
// a recorded prompt, or both (the audio where it can be played, the text
// otherwise, and always on chat).
type promptSpec struct {
	say           template
	audio         string
	lang          string
	interruptible bool
}

var promptItemKeys = []string{"say", "audio", "language", "interruptible"}

// prompts reads the prompt list at k: a string (text to say), a mapping
// (say:, audio:, language:, interruptible:) or a list of them.
func (np *nodeParser) prompts(k string, interruptible bool) []promptSpec {
	v, ok := np.val[k]
	if !ok {
		return nil
	}
	items := []*yaml.Node{v}
	paths := []string{np.at(k)}
	if v.Kind == yaml.SequenceNode {
		items, paths = nil, nil
		for i, it := range v.Content {
			items = append(items, resolve(it))
			paths = append(paths, fmt.Sprintf("%s[%d]", np.at(k), i))
		}
		if len(items) == 0 {
			np.p.errf(v, np.at(k), "empty prompt list")
		}
	}
	var out []promptSpec
	for i, it := range items {
		ps := promptSpec{interruptible: interruptible, lang: np.f.language}
		at := paths[i]
		switch {
		case it.Kind == yaml.ScalarNode:
			s, _ := np.p.scalar(it, at)
			if s == "" {
				np.p.errf(it, at, "empty prompt")
				continue
			}
			t, ok := np.tmplOf(s, it, at)
			if !ok {
				continue
			}
			ps.say = t
		case it.Kind == yaml.MappingNode:
			o := np.p.object(it, at, promptItemKeys)
			if s, ok := o.str("language"); ok && s != "" {
				if !langRE.MatchString(s) {
					np.p.errf(o.val["language"], o.at("language"), "%q is not a language tag (e.g. \"en-GB\")", s)
				}
				ps.lang = s
			}
			if o.has("interruptible") {
				ps.interruptible = o.boolean("interruptible")
			}
			if s, ok := o.str("say"); ok {
				if t, ok := np.tmplOf(s, o.val["say"], o.at("say")); ok {
					ps.say = t
				}
			}
			if s, ok := o.str("audio"); ok {
				ps.audio = s
				np.checkAudio(s, ps.lang, lineOf(o.val["audio"]), o.at("audio"), o.has("say"))
			}
			if !o.has("say") && !o.has("audio") {
				np.p.errf(it, at, "a prompt needs say: (text) or audio: (a recorded prompt)")
				continue
			}
		default:
			np.p.errf(it, at, "a prompt is text to say, or a mapping with say: or audio:")
			continue
		}
		out = append(out, ps)
	}
	return out
}

// checkAudio records the check of a recorded prompt: a name (checked by
// Checker.Prompt for the language) or a file path with an extension or a
// directory of its own (checked by Checker.File).
func (np *nodeParser) checkAudio(name, lang string, line int, at string, spoken bool) {
	switch {
	case name == "":
		np.p.add(line, at, false, "must not be empty")
	case strings.Contains(name, ".."):
		np.p.add(line, at, false, "%q must not contain \"..\"", name)
	case path.IsAbs(name) || path.Ext(name) != "":
		np.check(checkFile, name, lang, line, at)
	default:
		np.check(checkPrompt, name, lang, line, at)
		np.f.checks[len(np.f.checks)-1].spoken = spoken
	}
}

// render turns prompt specs into call.Prompts with the run's variables.
func (r *run) render(specs []promptSpec) []call.Prompt {
	out := make([]call.Prompt, len(specs))
	for i, s := range specs {
		out[i] = call.Prompt{
			Text:          s.say.expand(r.lookup, nil),
			Audio:         s.audio,
			Language:      s.lang,
			Interruptible: s.interruptible,
		}
	}
	return out
}
