package ivr

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/switchd/switchd/internal/config"
)

// Checker confirms names that flows refer to but that live elsewhere
// (the database, the routing table, the ACD, the prompts directory). A nil
// function means that kind of name is not checked.
type Checker struct {
	// Extension reports whether an extension number exists (transfer extension:).
	Extension func(number string) bool
	// Trunk reports whether a carrier trunk exists (transfer trunk:).
	Trunk func(name string) bool
	// Queue reports whether a queue exists (enqueue queue:).
	Queue func(name string) bool
	// Prompt reports whether a recorded prompt exists for a language
	// ("" for the default) (audio: name).
	Prompt func(name, lang string) bool
	// File reports whether an audio file exists (audio: given as a path
	// with an extension, "sounds/welcome.wav").
	File func(path string) bool
}

// Set is one consistent version of all flows, immutable once loaded: calls
// keep the Set they started with while a Library moves to a new one.
type Set struct {
	dir     string
	flows   map[string]*Flow
	names   []string
	version string
}

// Flow returns the named flow.
func (s *Set) Flow(name string) (*Flow, bool) {
	if s == nil {
		return nil, false
	}
	f, ok := s.flows[name]
	return f, ok
}

// Names returns the names of the flows, sorted.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.names)
}

// Version identifies the Set's content: the first 12 hex digits of a
// SHA-256 over the flow files' names and bytes. "" for a nil Set.
func (s *Set) Version() string {
	if s == nil {
		return ""
	}
	return s.version
}

// HasErrors reports whether any problem is an error rather than a warning.
func HasErrors(problems []config.Problem) bool {
	return slices.ContainsFunc(problems, func(p config.Problem) bool { return !p.Warning })
}

// isFlowFile reports whether a directory entry is a flow file: a regular
// *.yaml or *.yml file whose name does not start with '.' (editors' and
// atomic writers' temporary files do).
func isFlowFile(e os.DirEntry) bool {
	name := e.Name()
	ext := filepath.Ext(name)
	return !e.IsDir() && !strings.HasPrefix(name, ".") && (ext == ".yaml" || ext == ".yml")
}

// loadSet reads and validates every flow file of dir. The error is for a
// directory that cannot be read; every problem of the files is in the list
// (sorted by file and line). A Set with errors (HasErrors) must not be
// installed; its flow names still serve validation.
func loadSet(dir string, check Checker) (*Set, []config.Problem, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("ivr: flows directory: %w", err)
	}
	s := &Set{dir: dir, flows: map[string]*Flow{}}
	var problems []config.Problem
	h := sha256.New()
	for _, e := range entries {
		if !isFlowFile(e) {
			continue
		}
		file := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			problems = append(problems, config.Problem{File: file, Msg: fmt.Sprintf("cannot read: %v", err)})
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(data))
		h.Write(data)
		f, ps := parseFlow(file, strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), data)
		problems = append(problems, ps...)
		if f == nil {
			continue
		}
		if other, dup := s.flows[f.name]; dup {
			problems = append(problems, config.Problem{File: file, Line: f.line, Msg: fmt.Sprintf("flow %q is also defined in %s", f.name, filepath.Base(other.file))})
			continue
		}
		s.flows[f.name] = f
		s.names = append(s.names, f.name)
	}
	if len(s.flows) == 0 && len(problems) == 0 {
		problems = append(problems, config.Problem{File: dir, Msg: "no flow files (*.yaml)", Warning: true})
	}
	written := map[string]bool{}
	for _, f := range s.flows {
		for v := range f.writes {
			written[v] = true
		}
	}
	for _, name := range s.names {
		problems = append(problems, s.checkNames(s.flows[name], check)...)
		problems = append(problems, unsetReads(s.flows[name], written)...)
	}
	slices.SortStableFunc(problems, func(a, b config.Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	slices.Sort(s.names)
	s.version = hex.EncodeToString(h.Sum(nil))[:12]
	return s, problems, nil
}

// checkNames checks a flow's references to other flows of s and, through
// check, to extensions, trunks, queues and prompts.
func (s *Set) checkNames(f *Flow, checker Checker) []config.Problem {
	var problems []config.Problem
	bad := func(c check, format string, args ...any) {
		problems = append(problems, config.Problem{File: f.file, Line: c.line, Path: c.path, Msg: fmt.Sprintf(format, args...)})
	}
	for _, c := range f.checks {
		switch c.kind {
		case checkFlow:
			if _, ok := s.flows[c.value]; !ok {
				bad(c, "no flow named %q%s", c.value, didYouMean(c.value, s.names))
			}
		case checkExtension:
			if checker.Extension != nil && !checker.Extension(c.value) {
				bad(c, "no extension %q", c.value)
			}
		case checkTrunk:
			if checker.Trunk != nil && !checker.Trunk(c.value) {
				bad(c, "no trunk named %q", c.value)
			}
		case checkQueue:
			if checker.Queue != nil && !checker.Queue(c.value) {
				bad(c, "no queue named %q", c.value)
			}
		case checkPrompt:
			if checker.Prompt != nil && !checker.Prompt(c.value, c.lang) {
				if c.spoken {
					problems = append(problems, config.Problem{File: f.file, Line: c.line, Path: c.path, Warning: true,
						Msg: fmt.Sprintf("no recorded prompt %q: its say: text is spoken instead", c.value)})
					continue
				}
				if c.lang != "" {
					bad(c, "no recorded prompt %q for language %s", c.value, c.lang)
				} else {
					bad(c, "no recorded prompt %q", c.value)
				}
			}
		case checkFile:
			if checker.File != nil && !checker.File(c.value) {
				bad(c, "no audio file %q", c.value)
			}
		}
	}
	return problems
}

// unsetReads warns about variables a flow reads that no flow of the set
// sets (a typo, most often): they are always empty.
func unsetReads(f *Flow, written map[string]bool) []config.Problem {
	var problems []config.Problem
	for _, n := range f.order {
		for _, v := range n.reads {
			if written[v] || builtinVar(v) || strings.HasPrefix(v, "customer.") {
				continue
			}
			problems = append(problems, config.Problem{
				File: f.file, Line: n.line, Path: n.path, Warning: true,
				Msg: fmt.Sprintf("reads variable %q, which no flow sets: it is always empty%s", v, didYouMean(v, slices.Sorted(maps.Keys(written)))),
			})
		}
	}
	return problems
}

// Validate checks every flow file of dir as the switch loads them, for
// `switchd validate`: every problem of every file, errors and warnings,
// sorted by file and line, and the names of the flows it read. A directory
// that cannot be read is one problem.
func Validate(dir string, check Checker) (names []string, problems []config.Problem) {
	s, problems, err := loadSet(dir, check)
	if err != nil {
		return nil, []config.Problem{{File: dir, Msg: err.Error()}}
	}
	return s.names, problems
}

// Library holds the current Set of flows of a directory and replaces it
// on Reload, atomically and only with a Set without errors.
type Library struct {
	dir   string
	check Checker
	log   *slog.Logger
	cur   atomic.Pointer[Set]

	mu    sync.Mutex // serialises loads
	stamp string     // the directory's state at the last load (Watch)
}

// NewLibrary loads every flow file (*.yaml, *.yml) of dir. The problems
// include warnings. The error is only for a directory that cannot be read.
//
// When the files have errors, the Library is returned without a Set
// (Current returns nil, and Run on it hangs up with ErrNoFlow): serve
// should refuse to start when HasErrors(problems), as validate reports. A
// later Reload installs the first valid Set.
func NewLibrary(dir string, check Checker, log *slog.Logger) (*Library, []config.Problem, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Library{dir: dir, check: check, log: log}
	problems, err := l.Reload()
	if err != nil {
		return nil, problems, err
	}
	return l, problems, nil
}

// Dir returns the flows directory.
func (l *Library) Dir() string { return l.dir }

// Current returns the Set in use (nil until a valid one was loaded).
// Start each call on the Set returned here and keep it for the call.
func (l *Library) Current() *Set { return l.cur.Load() }

// Reload re-reads and re-validates the directory. When there is no error
// the new Set replaces the current one atomically (calls in progress keep
// theirs); otherwise the current Set stays and the errors are logged. It
// returns every problem found, warnings included; the error is only for a
// directory that cannot be read.
func (l *Library) Reload() ([]config.Problem, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	stamp, _ := dirStamp(l.dir)
	set, problems, err := loadSet(l.dir, l.check)
	if err != nil {
		l.log.Error("ivr_flows_unreadable", "dir", l.dir, "error", err)
		return nil, err
	}
	l.stamp = stamp
	for _, p := range problems {
		if p.Warning {
			l.log.Warn("ivr_flow_problem", "problem", p.Error())
		} else {
			l.log.Error("ivr_flow_problem", "problem", p.Error())
		}
	}
	if HasErrors(problems) {
		l.log.Error("ivr_flows_rejected", "dir", l.dir, "kept_version", l.cur.Load().Version())
		return problems, nil
	}
	old := l.cur.Swap(set)
	if old.Version() != set.Version() {
		l.log.Info("ivr_flows_loaded", "dir", l.dir, "version", set.Version(), "flows", len(set.names), "previous_version", old.Version())
	}
	return problems, nil
}
