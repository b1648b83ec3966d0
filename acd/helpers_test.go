package acd

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

// t0 is the virtual start of core tests.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harness drives a core in virtual time: at is "now", advance moves it
// and fires the timers due, and effects are collected for inspection.
type harness struct {
	t   testing.TB
	s   *core
	at  time.Time
	eff []effect
}

func newHarness(t testing.TB, yaml string) *harness {
	t.Helper()
	cfg, problems := Parse("queues.yaml", []byte(yaml))
	if HasErrors(problems) {
		t.Fatalf("config: %v", problems)
	}
	h := &harness{t: t, s: newCore(cfg, nil), at: t0}
	h.s.rand = newRand(1)
	return h
}

func (h *harness) collect() { h.eff = append(h.eff, h.s.takeEffects()...) }

func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	end := h.at.Add(d)
	for {
		n := h.s.next()
		if n.IsZero() || n.After(end) {
			break
		}
		h.at = n
		h.s.step(n)
		h.collect()
	}
	h.at = end
	h.s.step(end)
	h.collect()
}

func (h *harness) must(err error) {
	h.t.Helper()
	h.collect()
	if err != nil {
		h.t.Fatal(err)
	}
}

// agent adds and logs in an agent: "a1 q=sales,support english=3".
func (h *harness) agent(spec string) {
	h.t.Helper()
	f := strings.Fields(spec)
	a := Agent{ID: AgentID(f[0]), Devices: []string{"dev-" + f[0]}, Skills: map[string]int{}}
	loggedIn := true
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "q":
			for _, qs := range strings.Split(v, ",") {
				m := Membership{}
				parts := strings.Split(qs, ":")
				m.Queue = parts[0]
				if len(parts) > 1 {
					fmt.Sscan(parts[1], &m.Penalty)
				}
				if len(parts) > 2 {
					fmt.Sscan(parts[2], &m.Priority)
				}
				a.Queues = append(a.Queues, m)
			}
		case "chat":
			var n int
			fmt.Sscan(v, &n)
			a.Capacity = map[call.Medium]int{call.MediumVoice: 1, call.MediumChat: n}
		case "wrap":
			d, _ := time.ParseDuration(v)
			a.WrapUp = &d
		case "out":
			loggedIn = false
		default:
			var n int
			fmt.Sscan(v, &n)
			a.Skills[k] = n
		}
	}
	h.must(h.s.putAgent(a, h.at))
	if loggedIn {
		h.must(h.s.login(a.ID, h.at))
	}
}

// id returns a fixed contact ID for a short name.
func id(name string) call.ID { return call.ID("c-" + name) }

// enqueue adds a voice contact: "c1 sales prio=5 skills=english:3 from=+441".
func (h *harness) enqueue(spec string) Position {
	h.t.Helper()
	f := strings.Fields(spec)
	c := Contact{ID: id(f[0]), Medium: call.MediumVoice, Queue: f[1]}
	for _, kv := range f[2:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "prio":
			fmt.Sscan(v, &c.Priority)
		case "skills":
			c.Skills = SkillsFromNames(strings.Split(v, ","))
		case "from":
			c.Caller.Number = v
		case "chat":
			c.Medium = call.MediumChat
		}
	}
	pos, err := h.s.enqueue(c, h.at)
	h.must(err)
	return pos
}

// offers returns and forgets the offers made so far, as "contact>agent".
func (h *harness) offers() []string {
	var out []string
	rest := h.eff[:0]
	for _, e := range h.eff {
		if e.kind == effectOffer {
			out = append(out, strings.TrimPrefix(string(e.offer.Contact), "c-")+">"+string(e.offer.Agent))
		} else {
			rest = append(rest, e)
		}
	}
	h.eff = rest
	return out
}

// events returns and forgets the events of type t so far.
func (h *harness) events(t call.EventType) []call.Event {
	var out []call.Event
	rest := h.eff[:0]
	for _, e := range h.eff {
		if e.kind == effectEvent && e.event.Type == t {
			out = append(out, e.event)
		} else {
			rest = append(rest, e)
		}
	}
	h.eff = rest
	return out
}

// exits returns and forgets the exits so far.
func (h *harness) exits() []Exit {
	var out []Exit
	rest := h.eff[:0]
	for _, e := range h.eff {
		if e.kind == effectExit {
			out = append(out, e.exit)
		} else {
			rest = append(rest, e)
		}
	}
	h.eff = rest
	return out
}

func (h *harness) state(a AgentID) AgentState { return h.s.agents[a].state() }

func (h *harness) answer(c string, a AgentID) { h.t.Helper(); h.must(h.s.accepted(id(c), a, h.at)) }
func (h *harness) hangup(c string)            { h.t.Helper(); h.must(h.s.ended(id(c), 0, h.at)) }

// serve answers and ends contact c with agent a after talk.
func (h *harness) serve(c string, a AgentID, talk time.Duration) {
	h.t.Helper()
	h.answer(c, a)
	h.advance(talk)
	h.hangup(c)
}

func wantOffers(t testing.TB, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("offers %q, want %q", got, want)
	}
}
