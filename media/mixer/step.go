package mixer

import (
	"math"

	"github.com/switchd/switchd/media/audio"
)

// one is unity gain in the Q15 fixed point of the fades.
const one = 1 << 15

// rampUp is a linear fade-in over one frame in Q15, from 1/160 at the
// first sample to exactly unity at the last, so that a fade-in ends on
// the full signal and a fade-out (one − rampUp) on silence.
var rampUp = func() (r [audio.FrameSamples]int32) {
	for i := range r {
		r[i] = int32((i + 1) * one / audio.FrameSamples)
	}
	return r
}()

// weight is how much of a speaker's contribution a plan entry takes this
// frame.
type weight uint8

const (
	wFull weight = iota // all of it
	wUp                 // fading in over the frame (rampUp)
	wDown               // fading out over the frame (one − rampUp)
)

// listenerPlan is how one listener's frame is summed. With deny set it is
// the total minus the listener's own contribution minus the entries
// (what it does not hear); otherwise it is the sum of the entries (what
// it hears). The plan takes whichever list is shorter: a conference
// listener's deny list is empty.
type listenerPlan struct {
	deny    bool
	entries []entry
}

// entry is one speaker in a listenerPlan.
type entry struct {
	idx int32 // speaker's index in Mixer.parts
	w   weight
}

// Step mixes one 20 ms frame: it takes one frame from every
// participant's input queue, and queues for every participant the sum of
// the contributions it hears, clipped to the int16 range. Run calls it
// every 20 ms; tests call it directly. Settings changed since the last
// Step take effect now. It is safe to call from any goroutine (calls are
// serialised) and does nothing on a closed mixer.
func (m *Mixer) Step() {
	m.stepMu.Lock()
	defer m.stepMu.Unlock()
	if !m.sync() {
		return
	}
	parts := m.parts

	// Contributions (faded where a participant joins, leaves or is
	// muted or unmuted) and their total, computed once.
	total := &m.total
	clear(total[:])
	for _, p := range parts {
		s := &p.st
		got := p.popInput(&s.cur)
		target := !s.muted && !s.leaving
		s.active = got && (s.talk || target)
		if s.active {
			switch {
			case !s.talk:
				fade(&s.cur, wUp)
			case !target:
				fade(&s.cur, wDown)
			}
			for i, v := range s.cur {
				total[i] += int32(v)
			}
		}
		s.talk = target
	}

	// Each listener's frame.
	out := &m.out
	for _, p := range parts {
		s := &p.st
		target := !s.deaf && !s.leaving
		if !s.hear && !target {
			if !s.leaving {
				clear(out[:])
				p.pushOutput(out)
			}
			continue
		}
		m.mixFor(s, out)
		switch {
		case !s.hear:
			fade(out, wUp)
		case !target:
			fade(out, wDown)
		}
		s.hear = target
		p.pushOutput(out)
	}
	m.frames.Add(1)
	m.finish()
}

// mixFor sums listener s's frame into out, saturating.
func (m *Mixer) mixFor(s *stepState, out *audio.Frame) {
	total := &m.total
	plan := &s.plan
	if plan.deny && len(plan.entries) == 0 { // hears everyone: total − own
		if s.active {
			for i, v := range s.cur {
				out[i] = clamp(total[i] - int32(v))
			}
		} else {
			for i, v := range total {
				out[i] = clamp(v)
			}
		}
		return
	}
	acc := &m.acc
	sign := int32(1)
	if plan.deny {
		*acc = *total
		if s.active {
			for i, v := range s.cur {
				acc[i] -= int32(v)
			}
		}
		sign = -1
	} else {
		clear(acc[:])
	}
	for _, e := range plan.entries {
		q := &m.parts[e.idx].st
		if !q.active {
			continue
		}
		c := &q.cur
		switch e.w {
		case wFull:
			for i, v := range c {
				acc[i] += sign * int32(v)
			}
		case wUp:
			for i, v := range c {
				acc[i] += sign * (int32(v) * rampUp[i] >> 15)
			}
		case wDown:
			for i, v := range c {
				acc[i] += sign * (int32(v) * (one - rampUp[i]) >> 15)
			}
		}
	}
	for i, v := range acc {
		out[i] = clamp(v)
	}
}

// clamp saturates v to the int16 range.
func clamp(v int32) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}

// fade applies a fade-in (wUp) or fade-out (wDown) over the frame.
func fade(f *audio.Frame, w weight) {
	switch w {
	case wUp:
		for i, v := range f {
			f[i] = int16(int32(v) * rampUp[i] >> 15)
		}
	case wDown:
		for i, v := range f {
			f[i] = int16(int32(v) * (one - rampUp[i]) >> 15)
		}
	}
}

// sync brings the step state up to date with the settings: the
// participants, their flags and the listening plans. It reports false on
// a closed mixer.
func (m *Mixer) sync() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	if m.version == m.seen && !m.replanNext {
		return true
	}
	if m.version != m.seen {
		m.parts = append(m.parts[:0], m.members...)
		for _, p := range m.parts {
			s := &p.st
			s.muted, s.deaf, s.leaving = p.muted, p.deaf, p.leaving
		}
		m.seen = m.version
	}
	m.plan()
	return true
}

// plan builds every listener's plan from the hearing rule. A pair whose
// hearing changed since the last frame (both were mixed in it) gets a
// one-frame fade, and the next Step plans again without it.
func (m *Mixer) plan() {
	parts := m.parts
	n := len(parts)
	m.prevHears, m.hears = m.hears, m.prevHears
	if cap(m.hears) < n*n {
		m.hears = make([]bool, n*n)
	}
	hears := m.hears[:n*n]
	for li, l := range parts {
		for si, s := range parts {
			hears[li*n+si] = li != si && m.hearsLocked(l, s)
		}
	}
	prev, pn := m.prevHears, m.prevN
	// heard is the weight with which l hears s this frame, ok false if
	// not at all.
	heard := func(li, si int) (w weight, ok bool) {
		now := hears[li*n+si]
		before := now
		if a, b := parts[li].st.prevIdx, parts[si].st.prevIdx; a >= 0 && b >= 0 {
			before = prev[a*pn+b]
		}
		switch {
		case now && before:
			return wFull, true
		case now:
			return wUp, true
		case before:
			return wDown, true
		}
		return 0, false
	}
	fading := false
	for li, l := range parts {
		var heardN, deniedN, fadingN int
		for si := range parts {
			if si == li {
				continue
			}
			switch w, ok := heard(li, si); {
			case !ok:
				deniedN++
			case w == wFull:
				heardN++
			default:
				fadingN++
			}
		}
		fading = fading || fadingN > 0
		plan := &l.st.plan
		plan.deny = deniedN <= heardN
		plan.entries = plan.entries[:0]
		for si := range parts {
			if si == li {
				continue
			}
			w, ok := heard(li, si)
			switch {
			case !plan.deny && ok:
				plan.entries = append(plan.entries, entry{idx: int32(si), w: w})
			case plan.deny && !ok:
				plan.entries = append(plan.entries, entry{idx: int32(si), w: wFull})
			case plan.deny && w != wFull: // the part not heard fades the other way
				plan.entries = append(plan.entries, entry{idx: int32(si), w: wUp + wDown - w})
			}
		}
	}
	for i, p := range parts {
		p.st.prevIdx = i
	}
	m.hears, m.prevN = hears, n
	m.replanNext = fading
}

// finish removes the participants whose leaving frame has been mixed.
func (m *Mixer) finish() {
	var gone int
	for _, p := range m.parts {
		if p.st.leaving && !p.st.talk && !p.st.hear {
			gone++
		}
	}
	if gone == 0 {
		return
	}
	m.mu.Lock()
	kept := m.members[:0]
	var removed []*Participant
	for _, p := range m.members {
		if p.st.leaving && !p.st.talk && !p.st.hear {
			p.member = false
			p.agent = nil
			removed = append(removed, p)
			continue
		}
		kept = append(kept, p)
	}
	clear(m.members[len(kept):])
	m.members = kept
	for _, r := range removed {
		for _, p := range m.members {
			if p.agent == r {
				p.agent = nil
			}
		}
		for k := range m.overrides {
			if k.listener == r || k.speaker == r {
				delete(m.overrides, k)
			}
		}
	}
	m.version++
	left := len(m.members)
	m.mu.Unlock()
	for _, p := range removed {
		p.end()
		m.log.Debug("mixer_leave", "participant", p.id, "participants", left)
	}
}
