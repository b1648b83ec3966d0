package ivr

import (
	"slices"
	"strings"
)

// graph checks the flow's node graph: references to unknown nodes,
// unreachable nodes (a warning), and loops that no caller input can break.
// names are every node key of the file (also those whose type was wrong, so
// that references to them are not reported twice).
func (p *parser) graph(f *Flow, names []string) {
	for _, n := range f.order {
		for _, e := range n.edges {
			if !slices.Contains(names, e.to) {
				p.add(e.line, e.path, false, "no node named %q%s", e.to, didYouMean(e.to, names))
			}
		}
	}
	if f.nodes[f.start] == nil {
		return
	}
	// Reachability from start.
	seen := map[string]bool{f.start: true}
	queue := []string{f.start}
	for len(queue) > 0 {
		n := f.nodes[queue[0]]
		queue = queue[1:]
		if n == nil {
			continue
		}
		for _, e := range n.edges {
			if !seen[e.to] {
				seen[e.to] = true
				queue = append(queue, e.to)
			}
		}
	}
	for _, n := range f.order {
		if !seen[n.name] {
			p.add(n.line, n.path, true, "unreachable: no path from start leads here")
		}
	}
	// Loops: instant nodes (no prompt, no input, no wait) in a cycle spin
	// forever; a cycle with prompts or webhooks but no input node only ends
	// at the step limit.
	spinning := map[string]bool{}
	for _, scc := range cycles(f, instant) {
		p.add(scc[0].line, scc[0].path, false, "nodes %s form a loop with no input node in it: a call would spin forever", loopText(scc))
		for _, n := range scc {
			spinning[n.name] = true
		}
	}
	for _, scc := range cycles(f, noInput) {
		if slices.ContainsFunc(scc, func(n *node) bool { return spinning[n.name] }) {
			continue
		}
		p.add(scc[0].line, scc[0].path, true, "nodes %s form a loop with no menu, collect or voicemail in it: a call only leaves it at the step limit", loopText(scc))
	}
}

// instant reports whether a node takes no time: it neither talks to the
// party nor waits for anything.
func instant(n *node) bool {
	switch n.kind {
	case NodeSet, NodeBranch, NodeGoto, NodeHours:
		return true
	}
	return false
}

// noInput reports whether a node does not read the party's input.
func noInput(n *node) bool {
	switch n.kind {
	case NodeMenu, NodeCollect, NodeVoicemail:
		return false
	}
	return true
}

func loopText(scc []*node) string {
	names := make([]string, len(scc))
	for i, n := range scc {
		names[i] = n.name
	}
	return strings.Join(names, ", ")
}

// cycles returns the strongly connected components of the subgraph of
// nodes for which keep holds that contain a cycle (Tarjan's algorithm),
// each sorted by line, and the components in order of their first line.
func cycles(f *Flow, keep func(*node) bool) [][]*node {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []*node
	var out [][]*node
	next := 0
	var strong func(n *node)
	strong = func(n *node) {
		index[n.name], low[n.name] = next, next
		next++
		stack = append(stack, n)
		onStack[n.name] = true
		self := false
		for _, e := range n.edges {
			m := f.nodes[e.to]
			if m == nil || !keep(m) {
				continue
			}
			if m == n {
				self = true
			}
			if _, ok := index[m.name]; !ok {
				strong(m)
				low[n.name] = min(low[n.name], low[m.name])
			} else if onStack[m.name] {
				low[n.name] = min(low[n.name], index[m.name])
			}
		}
		if low[n.name] != index[n.name] {
			return
		}
		var scc []*node
		for {
			m := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[m.name] = false
			scc = append(scc, m)
			if m == n {
				break
			}
		}
		if len(scc) > 1 || self {
			slices.SortFunc(scc, func(a, b *node) int { return a.line - b.line })
			out = append(out, scc)
		}
	}
	for _, n := range f.order {
		if _, ok := index[n.name]; !ok && keep(n) {
			strong(n)
		}
	}
	slices.SortFunc(out, func(a, b []*node) int { return a[0].line - b[0].line })
	return out
}

// didYouMean suggests the closest name, as " (did you mean "x"?)".
func didYouMean(name string, names []string) string {
	if s := suggest(name, names); s != "" {
		return ` (did you mean "` + s + `"?)`
	}
	return ""
}
