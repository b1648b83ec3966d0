package acd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchd/switchd/internal/config"
)

// Queue files. A queue file holds a `queues:` list; the queue directory
// (configs/queues/*.yaml) may hold one file with every queue or one file
// per queue, as the admin prefers: LoadDir reads every *.yaml file of the
// directory and joins their lists, reporting a queue name used twice. Keys
// are strict (an unknown key is an error) and every problem is reported as
// file:line: path: message.
//
//	queues:
//	  - name: support                # letters, digits, '_', '-', '.'
//	    strategy: skills             # default longest-idle
//	    skills: {english: 3}         # required of every agent: skill → min proficiency 1–5
//	    relax:                       # steps, by waiting time in this queue
//	      - {after: 30s, min_proficiency: 2}
//	      - {after: 60s, drop: [billing]}
//	      - {after: 90s, any: true}  # any agent of the queue
//	    priority_aging: {every: 30s, step: 1, max: 100}
//	    offer_timeout: 20s           # default 20s
//	    rona: 2                      # misses in a row before not-ready; 0 never; default 2
//	    wrap_up: 10s                 # default 0
//	    max_waiting: 50              # 0 = unlimited
//	    max_wait: 5m                 # 0 = unlimited; needs overflow
//	    overflow: {kind: voicemail, name: support}
//	    join_empty: true             # default true
//	    leave_empty: false           # default false; needs overflow
//	    music_on_hold: moh/default   # folder, for the wiring
//	    announce_interval: 60s       # 0 = no announcements
//	    sticky_wait: 20s             # 0 = no sticky routing
//	    service_level: 20s           # default 20s
//	    short_abandon: 5s            # default 5s
//	    default_handle_time: 3m      # default 3m

// Config is the ACD's queue configuration: the queues, in file order.
type Config struct {
	Queues []QueueConfig `yaml:"queues"`
}

// Defaults applied by QueueConfig.withDefaults.
const (
	DefaultOfferTimeout      = 20 * time.Second
	DefaultRONA              = 2
	DefaultServiceLevel      = 20 * time.Second
	DefaultShortAbandon      = 5 * time.Second
	DefaultHandleTime        = 3 * time.Minute
	DefaultStrategy          = StrategyLongestIdle
	MinProficiency           = 1
	MaxProficiency           = 5
	maxOverflowHops          = 4
	maxRelaxSteps            = 32
	maxQueueNameLen          = 64
	defaultRecentHandleTimes = 20
)

// QueueConfig is one queue. Durations are written "30s", "5m".
type QueueConfig struct {
	// Name identifies the queue (IVR enqueue nodes, overflow targets).
	Name string `yaml:"name"`
	// Number, when set, is an internal number extensions dial to reach
	// the queue, and transfers target ("4001"): digits, * and #. The
	// engine does not use it; the switch's dial plan does.
	Number string `yaml:"number"`
	// Strategy chooses among eligible agents; default longest-idle.
	Strategy Strategy `yaml:"strategy"`
	// Skills every agent taking a contact of this queue must have, with the
	// minimum proficiency (1–5). The contact's own skills are added.
	Skills map[string]int `yaml:"skills"`
	// Relax loosens the skill requirement with time waited in the queue.
	// Steps apply cumulatively in order of After.
	Relax []RelaxStep `yaml:"relax"`
	// PriorityAging raises waiting contacts' priority with time.
	PriorityAging Aging `yaml:"priority_aging"`
	// OfferTimeout is how long an offer rings an agent (default 20s).
	OfferTimeout config.Duration `yaml:"offer_timeout"`
	// RONA is how many offers in a row an agent may miss before they are
	// made not ready (ReasonMissedOffer); 0 never; nil means DefaultRONA.
	RONA *int `yaml:"rona"`
	// WrapUp is the after-contact work time (default 0); an agent's
	// WrapUp overrides it.
	WrapUp config.Duration `yaml:"wrap_up"`
	// MaxWaiting caps the contacts waiting (0 unlimited); a contact beyond
	// it overflows (or Enqueue fails with ErrQueueFull).
	MaxWaiting int `yaml:"max_waiting"`
	// MaxWait is how long a contact waits before it overflows (0 never).
	MaxWait config.Duration `yaml:"max_wait"`
	// Overflow is where contacts go on max wait, when the queue is full,
	// and when it is empty (join_empty false, leave_empty true).
	Overflow Target `yaml:"overflow"`
	// JoinEmpty lets contacts join while no agent is present (default true).
	JoinEmpty *bool `yaml:"join_empty"`
	// LeaveEmpty sends waiting contacts to Overflow when the last present
	// agent leaves (default false). An agent is present when logged in and
	// not not-ready (busy and wrap-up count as present).
	LeaveEmpty bool `yaml:"leave_empty"`
	// MusicOnHold is the folder of hold music, for the wiring.
	MusicOnHold string `yaml:"music_on_hold"`
	// AnnounceInterval is how often a waiting contact hears its position
	// and estimated wait (0 never).
	AnnounceInterval config.Duration `yaml:"announce_interval"`
	// StickyWait is how long a returning caller waits for the agent who
	// served them last, if that agent is logged in (0: no sticky routing).
	StickyWait config.Duration `yaml:"sticky_wait"`
	// ServiceLevel is the answer-time threshold of the service level
	// (default 20s).
	ServiceLevel config.Duration `yaml:"service_level"`
	// ShortAbandon is the wait under which an abandon is not counted
	// against the queue (default 5s).
	ShortAbandon config.Duration `yaml:"short_abandon"`
	// DefaultHandleTime is the handle time the wait estimate uses until the
	// queue has handled contacts (default 3m).
	DefaultHandleTime config.Duration `yaml:"default_handle_time"`
}

// RelaxStep loosens a queue's skill requirement once a contact has waited
// After in the queue.
type RelaxStep struct {
	After config.Duration `yaml:"after"`
	// MinProficiency lowers the minimum proficiency of every required
	// skill to at most this (0: unchanged).
	MinProficiency int `yaml:"min_proficiency"`
	// Drop removes skills from the requirement.
	Drop []string `yaml:"drop"`
	// Any removes the skill requirement: any agent of the queue.
	Any bool `yaml:"any"`
}

// Aging raises a waiting contact's priority by Step every Every waited
// (since it first joined a queue), up to Max (0: no cap).
type Aging struct {
	Every config.Duration `yaml:"every"`
	Step  int             `yaml:"step"`
	Max   int             `yaml:"max"`
}

// Target is where a contact overflows to.
type Target struct {
	Kind TargetKind `yaml:"kind"`
	Name string     `yaml:"name"`
}

// IsZero reports whether no target is set.
func (t Target) IsZero() bool { return t == Target{} }

// String formats the target as "kind name".
func (t Target) String() string {
	if t.IsZero() {
		return "none"
	}
	return t.Kind.String() + " " + t.Name
}

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	skillRE = regexp.MustCompile(`^[a-z0-9_.-]+$`)
)

// Validate checks the configuration; paths are relative to the file
// ("queues[2].relax[0].after").
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	seen := map[string]int{}
	numbers := map[string]int{}
	for i, q := range c.Queues {
		at := fmt.Sprintf("queues[%d]", i)
		ps.Merge(at, q.Validate())
		if q.Number != "" {
			if strings.Trim(q.Number, "0123456789*#") != "" || len(q.Number) > 32 {
				ps.Add(at+".number", "%q is not a dialable number (digits, * and #)", q.Number)
			} else if j, dup := numbers[q.Number]; dup {
				ps.Add(at+".number", "number %s is also queue %d's", q.Number, j)
			} else {
				numbers[q.Number] = i
			}
		}
		if j, dup := seen[q.Name]; dup && q.Name != "" {
			ps.Add(at+".name", "queue %q is also defined at queues[%d]", q.Name, j)
		} else {
			seen[q.Name] = i
		}
	}
	for i, q := range c.Queues {
		if q.Overflow.Kind == TargetQueue && q.Overflow.Name != "" {
			if _, ok := seen[q.Overflow.Name]; !ok {
				ps.Add(fmt.Sprintf("queues[%d].overflow.name", i), "no queue %q", q.Overflow.Name)
			} else if q.Overflow.Name == q.Name {
				ps.Add(fmt.Sprintf("queues[%d].overflow.name", i), "a queue cannot overflow to itself")
			}
		}
	}
	return ps.List()
}

// Validate checks one queue on its own (references to other queues are
// checked by Config.Validate).
func (q *QueueConfig) Validate() []config.Problem {
	var ps config.Problems
	switch {
	case q.Name == "":
		ps.Add("name", "missing queue name")
	case len(q.Name) > maxQueueNameLen || !nameRE.MatchString(q.Name):
		ps.Add("name", "%q is not a queue name (letters, digits, '_', '-', '.'; at most %d)", q.Name, maxQueueNameLen)
	}
	if int(q.Strategy) >= len(strategyNames) {
		ps.Add("strategy", "unknown strategy %d", q.Strategy)
	}
	for _, name := range sortedKeys(q.Skills) {
		checkSkill(&ps, "skills."+name, name, q.Skills[name])
	}
	var last time.Duration = -1
	for i, st := range q.Relax {
		at := fmt.Sprintf("relax[%d]", i)
		switch {
		case st.After.D() <= 0:
			ps.Add(at+".after", "must be a positive duration")
		case st.After.D() <= last:
			ps.Add(at+".after", "steps must be in increasing order of after")
		}
		last = max(last, st.After.D())
		if st.MinProficiency != 0 && (st.MinProficiency < MinProficiency || st.MinProficiency > MaxProficiency) {
			ps.Add(at+".min_proficiency", "%d is outside %d..%d", st.MinProficiency, MinProficiency, MaxProficiency)
		}
		for j, d := range st.Drop {
			if _, ok := q.Skills[d]; !ok && skillRE.MatchString(d) {
				ps.Warn(fmt.Sprintf("%s.drop[%d]", at, j), "skill %q is not among the queue's skills (it may come from contacts)", d)
			} else if !skillRE.MatchString(d) {
				ps.Add(fmt.Sprintf("%s.drop[%d]", at, j), "%q is not a skill name (lowercase letters, digits, '_', '-', '.')", d)
			}
		}
		if st.MinProficiency == 0 && len(st.Drop) == 0 && !st.Any {
			ps.Add(at, "a step needs min_proficiency, drop or any")
		}
		if st.Any && (st.MinProficiency != 0 || len(st.Drop) != 0) {
			ps.Warn(at, "any: true makes min_proficiency and drop useless")
		}
	}
	if len(q.Relax) > maxRelaxSteps {
		ps.Add("relax", "at most %d steps", maxRelaxSteps)
	}
	a := q.PriorityAging
	switch {
	case a.Every.D() < 0:
		ps.Add("priority_aging.every", "must not be negative")
	case a.Every.D() > 0 && a.Step <= 0:
		ps.Add("priority_aging.step", "must be positive when every is set")
	case a.Every.D() == 0 && (a.Step != 0 || a.Max != 0):
		ps.Add("priority_aging.every", "missing: how often priority rises")
	}
	if a.Max < 0 {
		ps.Add("priority_aging.max", "must not be negative")
	}
	nonNeg := func(path string, d config.Duration) {
		if d.D() < 0 {
			ps.Add(path, "must not be negative")
		}
	}
	nonNeg("offer_timeout", q.OfferTimeout)
	nonNeg("wrap_up", q.WrapUp)
	nonNeg("max_wait", q.MaxWait)
	nonNeg("announce_interval", q.AnnounceInterval)
	nonNeg("sticky_wait", q.StickyWait)
	nonNeg("service_level", q.ServiceLevel)
	nonNeg("short_abandon", q.ShortAbandon)
	nonNeg("default_handle_time", q.DefaultHandleTime)
	if d := q.OfferTimeout.D(); d > 0 && d < time.Second {
		ps.Add("offer_timeout", "%s is too short to answer (at least 1s)", d)
	}
	if d := q.AnnounceInterval.D(); d > 0 && d < 10*time.Second {
		ps.Add("announce_interval", "%s is too frequent (at least 10s)", d)
	}
	if q.RONA != nil && *q.RONA < 0 {
		ps.Add("rona", "must not be negative (0: never make agents not ready)")
	}
	if q.MaxWaiting < 0 {
		ps.Add("max_waiting", "must not be negative (0: unlimited)")
	}
	o := q.Overflow
	switch {
	case o.IsZero():
		if q.MaxWait.D() > 0 {
			ps.Add("max_wait", "needs an overflow target")
		}
		if q.LeaveEmpty {
			ps.Add("leave_empty", "needs an overflow target")
		}
	case o.Kind == TargetUnknown:
		ps.Add("overflow.kind", "missing: one of %s", oneOf(targetKindNames[1:]))
	case o.Name == "":
		ps.Add("overflow.name", "missing: the %s to overflow to", o.Kind)
	case !nameRE.MatchString(o.Name):
		ps.Add("overflow.name", "%q is not a name (letters, digits, '_', '-', '.')", o.Name)
	}
	if q.MusicOnHold != "" && (filepath.IsAbs(q.MusicOnHold) || slices.Contains(strings.Split(filepath.ToSlash(q.MusicOnHold), "/"), "..")) {
		ps.Warn("music_on_hold", "%q should be a folder relative to the sounds directory", q.MusicOnHold)
	}
	return ps.List()
}

func checkSkill(ps *config.Problems, path, name string, min int) {
	if !skillRE.MatchString(name) {
		ps.Add(path, "%q is not a skill name (lowercase letters, digits, '_', '-', '.')", name)
	}
	if min < MinProficiency || min > MaxProficiency {
		ps.Add(path, "minimum proficiency %d is outside %d..%d", min, MinProficiency, MaxProficiency)
	}
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// withDefaults returns the queue with its defaults filled in.
func (q QueueConfig) withDefaults() QueueConfig {
	if q.Strategy == StrategyUnknown {
		q.Strategy = DefaultStrategy
	}
	if q.OfferTimeout == 0 {
		q.OfferTimeout = config.Duration(DefaultOfferTimeout)
	}
	if q.RONA == nil {
		n := DefaultRONA
		q.RONA = &n
	}
	if q.JoinEmpty == nil {
		t := true
		q.JoinEmpty = &t
	}
	if q.ServiceLevel == 0 {
		q.ServiceLevel = config.Duration(DefaultServiceLevel)
	}
	if q.ShortAbandon == 0 {
		q.ShortAbandon = config.Duration(DefaultShortAbandon)
	}
	if q.DefaultHandleTime == 0 {
		q.DefaultHandleTime = config.Duration(DefaultHandleTime)
	}
	slices.SortStableFunc(q.Relax, func(a, b RelaxStep) int { return int(a.After - b.After) })
	return q
}

// Parse reads one queue file (data, named file in problems). It returns
// the queues and every problem (errors and warnings), each with file:line;
// the Config is usable when HasErrors(problems) is false.
func Parse(file string, data []byte) (Config, []config.Problem) {
	var c Config
	err := config.Decode(file, data, &c)
	if err == nil {
		return c, nil
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		return c, ce.Problems
	}
	return c, []config.Problem{{File: file, Msg: err.Error()}}
}

// LoadDir reads every *.yaml file of dir (in name order) and joins their
// queues. A queue name defined in two files, and an overflow to a queue
// defined nowhere, are reported at the later use.
func LoadDir(dir string) (Config, []config.Problem) {
	names, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	sort.Strings(names)
	var all Config
	var problems []config.Problem
	type origin struct {
		file string
		data []byte
		idx  int
	}
	var origins []origin
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			problems = append(problems, config.Problem{File: name, Msg: err.Error()})
			continue
		}
		c, ps := Parse(name, data)
		problems = append(problems, ps...)
		for i, q := range c.Queues {
			all.Queues = append(all.Queues, q)
			origins = append(origins, origin{name, data, i})
		}
	}
	// Cross-file checks, mapped back to the file each queue came from.
	seen := map[string]string{}
	for i, q := range all.Queues {
		o := origins[i]
		if f, dup := seen[q.Name]; dup && q.Name != "" && f != o.file {
			p := []config.Problem{{Path: fmt.Sprintf("queues[%d].name", o.idx), Msg: fmt.Sprintf("queue %q is also defined in %s", q.Name, filepath.Base(f))}}
			config.Locate(o.file, o.data, p)
			problems = append(problems, p...)
		} else if !dup {
			seen[q.Name] = o.file
		}
	}
	for i, q := range all.Queues {
		o := origins[i]
		if q.Overflow.Kind == TargetQueue && q.Overflow.Name != "" {
			if f, ok := seen[q.Overflow.Name]; ok && f != o.file {
				// Config.Validate of o.file reported it missing; it is in f.
				problems = slices.DeleteFunc(problems, func(p config.Problem) bool {
					return p.File == o.file && p.Path == fmt.Sprintf("queues[%d].overflow.name", o.idx)
				})
			}
		}
	}
	return all, problems
}

// HasErrors reports whether any problem is more than a warning.
func HasErrors(problems []config.Problem) bool {
	return (&config.Error{Problems: problems}).HasErrors()
}

// checkConfig validates c for New and Reload.
func checkConfig(c Config) error {
	for _, p := range c.Validate() {
		if !p.Warning {
			return fmt.Errorf("%w: %s", ErrInvalidConfig, p.Error())
		}
	}
	return nil
}
