package mixer

import (
	"errors"
	"math"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// TestStepSumsOthers drives Step by hand: after the join fade, each
// participant hears exactly the sum of the others.
func TestStepSumsOthers(t *testing.T) {
	r := newRig(t)
	a := r.join("a", 0, 100, JoinConfig{})
	b := r.join("b", 0, 200, JoinConfig{})
	c := r.join("c", 0, -400, JoinConfig{})
	r.step(3)
	for _, tc := range []struct {
		pa   *party
		want int16
	}{{a, -200}, {b, -300}, {c, 300}} {
		for i, v := range tc.pa.last() {
			if v != tc.want {
				t.Fatalf("%s sample %d = %d, want %d", tc.pa.p.ID(), i, v, tc.want)
			}
		}
	}
	if st := r.m.Stats(); st.Frames != 3 || st.Participants != 3 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestSaturation: loud inputs clip at the int16 limits instead of
// wrapping around.
func TestSaturation(t *testing.T) {
	for _, tc := range []struct {
		name string
		dc   int16
		want int16
	}{
		{"positive", 30000, math.MaxInt16},
		{"negative", -30000, math.MinInt16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.join("a", 0, tc.dc, JoinConfig{})
			r.join("b", 0, tc.dc, JoinConfig{})
			c := r.join("c", 0, 0, JoinConfig{})
			d := r.join("d", 0, tc.dc, JoinConfig{}) // hears a+b: 60000 → clipped
			r.step(3)
			for _, pa := range []*party{c, d} {
				for i, v := range pa.last() {
					if v != tc.want {
						t.Fatalf("%s sample %d = %d, want %d (clipped)", pa.p.ID(), i, v, tc.want)
					}
				}
			}
		})
	}
}

// TestSaturationTone: two loud tones summed clip; the listener's signal
// never wraps to the opposite sign.
func TestSaturationTone(t *testing.T) {
	r := newRig(t)
	a := r.join("a", 0, 0, JoinConfig{})
	b := r.join("b", 0, 0, JoinConfig{})
	a.tone = audio.NewTone(audio.ToneSpec{Freqs: []float64{fCustomer}, Level: audio.FullScaleDBm0})
	b.tone = audio.NewTone(audio.ToneSpec{Freqs: []float64{fCustomer}, Level: audio.FullScaleDBm0})
	c := r.join("c", 0, 0, JoinConfig{})
	r.step(4)
	s := samples(c.out, 2)
	var hi, lo int
	for i, v := range s {
		ref := a.in[2+i/audio.FrameSamples][i%audio.FrameSamples]
		if int(v)*int(ref) < 0 {
			t.Fatalf("sample %d = %d, input %d: wrapped", i, v, ref)
		}
		switch v {
		case math.MaxInt16:
			hi++
		case math.MinInt16:
			lo++
		}
	}
	if hi == 0 || lo == 0 {
		t.Errorf("no clipping seen (%d high, %d low)", hi, lo)
	}
}

// TestToneHeardByOthersNotSelf: a tone said by one participant is heard
// by every other participant and not by itself.
func TestToneHeardByOthersNotSelf(t *testing.T) {
	r := newRig(t)
	a := r.join("a", fAgent, 0, JoinConfig{})
	others := []*party{r.join("b", 0, 0, JoinConfig{}), r.join("c", 0, 0, JoinConfig{}), r.join("d", 0, 0, JoinConfig{})}
	r.step(5)
	all := map[string]float64{"a": fAgent}
	checkHears(t, "a", a, all)
	for _, o := range others {
		checkHears(t, o.p.ID(), o, all, "a")
		// It hears the tone as sent: the mixer adds nothing to it.
		if *o.last() != a.in[len(a.in)-1] {
			t.Errorf("%s: heard frame differs from a's frame", o.p.ID())
		}
	}
}

// TestThreeTones: three participants with three distinct tones each hear
// exactly the other two.
func TestThreeTones(t *testing.T) {
	r := newRig(t)
	a := r.join("a", fCustomer, 0, JoinConfig{})
	b := r.join("b", fAgent, 0, JoinConfig{})
	c := r.join("c", fSupervisor, 0, JoinConfig{})
	r.step(5)
	all := map[string]float64{"a": fCustomer, "b": fAgent, "c": fSupervisor}
	checkHears(t, "a", a, all, "b", "c")
	checkHears(t, "b", b, all, "a", "c")
	checkHears(t, "c", c, all, "a", "b")
}

// TestSupervisorModes is the truth table of listen, whisper and barge with
// customer, agent and supervisor each saying a tone, switching the mode
// during the session.
func TestSupervisorModes(t *testing.T) {
	r := newRig(t)
	cust := r.join("customer", fCustomer, 0, JoinConfig{})
	agent := r.join("agent", fAgent, 0, JoinConfig{})
	r.step(3)
	sup := r.join("supervisor", fSupervisor, 0, JoinConfig{Agent: agent.p, Mode: Listen})
	all := map[string]float64{"customer": fCustomer, "agent": fAgent, "supervisor": fSupervisor}

	// Joining in listen mode, the supervisor is never heard, not even
	// faded in on its first frame.
	r.step(3)
	for i := 3; i < 6; i++ {
		for _, pa := range []*party{cust, agent} {
			if lvl := levelAt(pa.out[i][:], fSupervisor); lvl > absent {
				t.Fatalf("frame %d: %s hears the listening supervisor (%.1f dBm0)", i, pa.p.ID(), lvl)
			}
		}
	}

	table := []struct {
		mode                Mode
		customer, agentHear []string
	}{
		{Listen, []string{"agent"}, []string{"customer"}},
		{Whisper, []string{"agent"}, []string{"customer", "supervisor"}},
		{Barge, []string{"agent", "supervisor"}, []string{"customer", "supervisor"}},
		{Whisper, []string{"agent"}, []string{"customer", "supervisor"}},
		{Listen, []string{"agent"}, []string{"customer"}},
		{Barge, []string{"agent", "supervisor"}, []string{"customer", "supervisor"}},
		{Listen, []string{"agent"}, []string{"customer"}},
	}
	for _, tc := range table {
		if err := sup.p.Supervise(agent.p, tc.mode); err != nil {
			t.Fatal(err)
		}
		r.step(2) // the fade frame, then a steady one
		checkHears(t, tc.mode.String()+": customer", cust, all, tc.customer...)
		checkHears(t, tc.mode.String()+": agent", agent, all, tc.agentHear...)
		checkHears(t, tc.mode.String()+": supervisor", sup, all, "customer", "agent")
		for who, pa := range map[string]*party{"customer": cust, "agent": agent, "supervisor": sup} {
			for other := range all {
				want := other != who && (other != "supervisor" || tc.mode == Barge ||
					(tc.mode == Whisper && who == "agent"))
				if got := r.m.Hears(pa.p, r.m.memberByID(other)); got != want {
					t.Errorf("%v: Hears(%s, %s) = %v, want %v", tc.mode, who, other, got, want)
				}
			}
		}
	}
}

// memberByID finds a participant by ID (tests only).
func (m *Mixer) memberByID(id string) *Participant {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.members {
		if p.id == id {
			return p
		}
	}
	return nil
}

// TestMuteDeaf: a muted participant is not heard but hears; a deaf one
// hears silence but is heard.
func TestMuteDeaf(t *testing.T) {
	r := newRig(t)
	a := r.join("a", fCustomer, 0, JoinConfig{})
	b := r.join("b", fAgent, 0, JoinConfig{})
	c := r.join("c", fSupervisor, 0, JoinConfig{})
	all := map[string]float64{"a": fCustomer, "b": fAgent, "c": fSupervisor}
	r.step(3)

	a.p.SetMuted(true)
	r.step(2)
	checkHears(t, "a muted: a", a, all, "b", "c")
	checkHears(t, "a muted: b", b, all, "c")
	checkHears(t, "a muted: c", c, all, "b")

	b.p.SetDeaf(true)
	r.step(2)
	if *b.last() != (audio.Frame{}) {
		t.Error("b deaf: hears something")
	}
	checkHears(t, "b deaf: a", a, all, "b", "c")
	checkHears(t, "b deaf: c", c, all, "b")

	a.p.SetMuted(false)
	b.p.SetDeaf(false)
	r.step(2)
	checkHears(t, "restored: a", a, all, "b", "c")
	checkHears(t, "restored: b", b, all, "a", "c")
	checkHears(t, "restored: c", c, all, "a", "b")

	// Joining muted and deaf.
	d := r.join("d", fFourth, 0, JoinConfig{Muted: true, Deaf: true})
	all["d"] = fFourth
	r.step(2)
	for _, f := range d.out {
		if f != (audio.Frame{}) {
			t.Fatal("d joined deaf: hears something")
		}
	}
	for _, pa := range []*party{a, b, c} {
		for i := len(pa.out) - 2; i < len(pa.out); i++ {
			if lvl := levelAt(pa.out[i][:], fFourth); lvl > absent {
				t.Errorf("%s hears d, which joined muted (%.1f dBm0)", pa.p.ID(), lvl)
			}
		}
	}
}

// TestFades: joining, leaving, muting, deafening and changing who hears
// whom never jump by more than one step of the one-frame ramp.
func TestFades(t *testing.T) {
	const dc = 16000
	limit := rampStep(dc)
	r := newRig(t)
	listener := r.join("listener", 0, 0, JoinConfig{})
	r.step(2)
	speaker := r.join("speaker", 0, dc, JoinConfig{})
	r.step(1)
	// The first frame is the fade-in: from nearly 0 to dc.
	first := speaker.p.m.frames.Load() - 1
	f := listener.out[first]
	if f[0] > int16(limit) || f[audio.FrameSamples-1] != dc {
		t.Errorf("join fade: first sample %d, last %d", f[0], f[audio.FrameSamples-1])
	}
	r.step(2)
	speaker.p.SetMuted(true)
	r.step(2)
	speaker.p.SetMuted(false)
	r.step(2)
	if err := r.m.SetHears(listener.p, speaker.p, false); err != nil {
		t.Fatal(err)
	}
	r.step(2)
	if err := r.m.ClearHears(listener.p, speaker.p); err != nil {
		t.Fatal(err)
	}
	r.step(2)
	if err := speaker.p.Supervise(nil, Listen); err != nil {
		t.Fatal(err)
	}
	r.step(2)
	if err := speaker.p.Supervise(nil, Barge); err != nil {
		t.Fatal(err)
	}
	r.step(2)
	listener.p.SetDeaf(true)
	r.step(2)
	listener.p.SetDeaf(false)
	r.step(2)
	speaker.p.Leave()
	r.step(3)

	s := samples(listener.out, 0)
	if jump, at := maxJump(s); jump > limit {
		t.Errorf("jump of %d at sample %d (frame %d), fade allows %d", jump, at, at/audio.FrameSamples, limit)
	}
	if *listener.last() != (audio.Frame{}) {
		t.Error("still hears the speaker after it left")
	}
	// Every change was heard: the level went to 0 and back each time.
	var zeros int
	for i := 1; i < len(listener.out); i++ {
		if listener.out[i] == (audio.Frame{}) && listener.out[i-1] != (audio.Frame{}) {
			zeros++
		}
	}
	if zeros != 5 { // mute, SetHears, Listen, deaf, leave
		t.Errorf("speaker went silent %d times, want 5", zeros)
	}
	// The speaker got its fade-out frame, then nothing.
	if ok := speaker.gotOK[len(speaker.gotOK)-3:]; !ok[0] || ok[1] || ok[2] {
		t.Errorf("speaker's Next around leaving: %v, want [true false false]", ok)
	}
	select {
	case <-speaker.p.Done():
	default:
		t.Error("Done not closed after leaving")
	}
}

// TestJoinLeaveNoGap: while others join and leave, a listener keeps
// getting one frame per Step holding exactly the talker's audio.
func TestJoinLeaveNoGap(t *testing.T) {
	r := newRig(t)
	talker := r.join("talker", fAgent, 0, JoinConfig{})
	listener := r.join("listener", 0, 0, JoinConfig{})
	r.step(2)
	var extra []*Participant
	for i := range 6 {
		pa := r.join("x", 0, 0, JoinConfig{})
		pa.mute = i%2 == 0 // some send nothing at all
		extra = append(extra, pa.p)
		r.step(1)
		if i%2 == 1 {
			extra[i-1].Leave()
		}
		r.step(1)
	}
	for _, p := range extra {
		p.Leave()
	}
	r.step(3)
	for i := 2; i < len(listener.out); i++ {
		if !listener.gotOK[i] {
			t.Fatalf("frame %d: no frame ready", i)
		}
		if listener.out[i] != talker.in[i] {
			t.Fatalf("frame %d: listener's frame is not the talker's", i)
		}
	}
	if n := r.m.Len(); n != 2 {
		t.Errorf("Len = %d after the others left, want 2", n)
	}
}

// TestLeaveBeforeMixed: a participant that leaves before its first frame
// is removed without ever being heard.
func TestLeaveBeforeMixed(t *testing.T) {
	r := newRig(t)
	a := r.join("a", 0, 0, JoinConfig{})
	p, err := r.m.Join("b", JoinConfig{})
	if err != nil {
		t.Fatal(err)
	}
	f := audio.Frame{0: 1000}
	p.Write(&f)
	p.Leave()
	p.Leave()
	r.step(1)
	if *a.last() != (audio.Frame{}) {
		t.Error("a heard b")
	}
	<-p.Done()
	if n := r.m.Len(); n != 1 {
		t.Errorf("Len = %d", n)
	}
}

// TestQueues: the input queue drops its oldest frames past its depth
// and counts underruns; so does the output queue.
func TestQueues(t *testing.T) {
	m := New(Config{})
	a, _ := m.Join("a", JoinConfig{})
	b, _ := m.Join("b", JoinConfig{})
	m.Step() // both faded in on silence
	for i := range 5 {
		f := audio.Frame{}
		for j := range f {
			f[j] = int16(100 * (i + 1))
		}
		a.Write(&f)
	}
	var out audio.Frame
	for range 5 {
		b.Next(&out) // drain the join frame, then underrun
	}
	m.Step()
	if !b.Next(&out) || out[0] != 300 {
		t.Errorf("b hears %d, want 300 (frames 1 and 2 dropped)", out[0])
	}
	for range 5 {
		m.Step()
	}
	st := a.Stats()
	want := ParticipantStats{InFrames: 5, InDropped: 2, InUnderruns: 4, OutFrames: 7, OutDropped: 4}
	if st != want {
		t.Errorf("a: %+v, want %+v", st, want)
	}
	st = b.Stats()
	want = ParticipantStats{InUnderruns: 7, OutFrames: 7, OutDropped: 2, OutUnderruns: 4}
	if st != want {
		t.Errorf("b: %+v, want %+v", st, want)
	}
}

// TestDepthConfig: the queue depths come from Config.
func TestDepthConfig(t *testing.T) {
	m := New(Config{InputDepth: 1, OutputDepth: 5})
	p, _ := m.Join("a", JoinConfig{})
	var f audio.Frame
	p.Write(&f)
	p.Write(&f)
	for range 7 {
		m.Step()
	}
	if st := p.Stats(); st.InDropped != 1 || st.OutDropped != 2 {
		t.Errorf("stats %+v, want 1 input and 2 output dropped", st)
	}
}

// TestSetHearsOverride: a pair override wins over modes, ClearHears
// restores them, and overrides go with the participant who leaves.
func TestSetHearsOverride(t *testing.T) {
	r := newRig(t)
	a := r.join("a", fCustomer, 0, JoinConfig{})
	b := r.join("b", fAgent, 0, JoinConfig{})
	c := r.join("c", fSupervisor, 0, JoinConfig{Agent: b.p, Mode: Listen})
	all := map[string]float64{"a": fCustomer, "b": fAgent, "c": fSupervisor}
	if err := r.m.SetHears(a.p, c.p, true); err != nil { // a hears the listener anyway
		t.Fatal(err)
	}
	if err := r.m.SetHears(c.p, a.p, false); err != nil {
		t.Fatal(err)
	}
	r.step(3)
	checkHears(t, "a", a, all, "b", "c")
	checkHears(t, "b", b, all, "a")
	checkHears(t, "c", c, all, "b")
	if err := r.m.ClearHears(a.p, c.p); err != nil {
		t.Fatal(err)
	}
	r.step(2)
	checkHears(t, "a cleared", a, all, "b")
	a.p.Leave()
	r.step(2)
	r.m.mu.Lock()
	n := len(r.m.overrides)
	r.m.mu.Unlock()
	if n != 0 {
		t.Errorf("%d overrides left after a left", n)
	}
	if err := r.m.SetHears(a.p, c.p, true); !errors.Is(err, ErrNotMember) {
		t.Errorf("SetHears of a departed participant: %v", err)
	}
}

// TestErrors covers the refusals.
func TestErrors(t *testing.T) {
	m := New(Config{})
	other := New(Config{})
	a, _ := m.Join("a", JoinConfig{})
	x, _ := other.Join("x", JoinConfig{})
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"unknown mode", a.Supervise(nil, Mode(0)), ErrMode},
		{"mode out of range", a.Supervise(nil, Mode(9)), ErrMode},
		{"whisper without agent", a.Supervise(nil, Whisper), ErrMode},
		{"agent of another mixer", a.Supervise(x, Whisper), ErrNotMember},
		{"self as agent", a.Supervise(a, Whisper), ErrNotMember},
		{"pair with itself", m.SetHears(a, a, false), ErrNotMember},
		{"pair across mixers", m.SetHears(a, x, false), ErrNotMember},
		{"clear across mixers", m.ClearHears(x, a), ErrNotMember},
		{"join with foreign agent", joinErr(m, JoinConfig{Agent: x}), ErrNotMember},
		{"join whisper without agent", joinErr(m, JoinConfig{Mode: Whisper}), ErrMode},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if m.Hears(a, x) || m.Hears(a, a) {
		t.Error("Hears across mixers or of itself")
	}
	m.Close()
	m.Close()
	if _, err := m.Join("b", JoinConfig{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close: %v", err)
	}
	if err := a.Supervise(nil, Barge); !errors.Is(err, ErrNotMember) {
		t.Errorf("Supervise after Close: %v", err)
	}
	<-a.Done()
	m.Step() // no-op
	var f audio.Frame
	a.Write(&f)
	if a.Next(&f) {
		t.Error("Next after Close reports a frame")
	}
	if st := a.Stats(); st.InFrames != 0 || st.OutUnderruns != 0 {
		t.Errorf("stats after Close: %+v", st)
	}
}

func joinErr(m *Mixer, jc JoinConfig) error {
	_, err := m.Join("j", jc)
	return err
}

// TestModeString names the modes.
func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{0: "unknown", Listen: "listen", Whisper: "whisper", Barge: "barge", 7: "unknown"} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d) = %q, want %q", m, got, want)
		}
	}
}

// TestCushion: when the mixer's steps and a leg's Next alternate in
// phase (two clocks of the same rate), a leg without a cushion finds its
// queue empty now and then; with a one-frame cushion it never does once
// filled.
func TestCushion(t *testing.T) {
	underruns := func(cushion int) uint64 {
		m := New(Config{Cushion: cushion})
		defer m.Close()
		p, err := m.Join("a", JoinConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Join("b", JoinConfig{}); err != nil {
			t.Fatal(err)
		}
		var f audio.Frame
		for i := range 200 {
			if i%2 == 0 {
				m.Step()
				p.Next(&f)
			} else {
				p.Next(&f)
				m.Step()
			}
		}
		return p.Stats().OutUnderruns
	}
	if n := underruns(0); n == 0 {
		t.Fatal("without a cushion the alternating clocks never ran the queue dry: the test shows nothing")
	}
	if n := underruns(1); n != 0 {
		t.Fatalf("with a one-frame cushion: %d underruns", n)
	}
}
