package mixer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/switchd/switchd/media/audio"
)

// TestAgainstReference compares Step, once the fades are over, with the
// plain definition: each listener that is not deaf hears the saturated
// sum of the unmuted participants it hears, never itself. Settings
// (modes, pair overrides, mute, deafness, joins and leaves) change at
// random between rounds, so plans of both forms (speakers heard, or not
// heard subtracted from the total) are checked, with sums that clip.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := New(Config{})
	var ps []*Participant
	join := func() {
		p, err := m.Join("p", JoinConfig{})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for range 6 {
		join()
	}
	muted := map[*Participant]bool{}
	deaf := map[*Participant]bool{}
	in := map[*Participant]*audio.Frame{}
	write := func() {
		for _, p := range ps {
			f := &audio.Frame{}
			amp := []int{0, 300, 12000, 32767}[rng.IntN(4)]
			for i := range f {
				f[i] = int16(rng.IntN(2*amp+1) - amp)
			}
			in[p] = f
			p.Write(f)
		}
	}
	var out audio.Frame
	var forms [3]int // listeners' plans: hear everyone, not-heard list, heard list
	for round := range 300 {
		// Change some settings.
		for range 1 + rng.IntN(4) {
			a, b := ps[rng.IntN(len(ps))], ps[rng.IntN(len(ps))]
			switch rng.IntN(9) {
			case 0:
				muted[a] = !muted[a]
				a.SetMuted(muted[a])
			case 1:
				deaf[a] = !deaf[a]
				a.SetDeaf(deaf[a])
			case 2, 3:
				if a != b {
					_ = m.SetHears(a, b, rng.IntN(2) == 0)
				}
			case 4:
				if a != b {
					_ = m.ClearHears(a, b)
				}
			case 5:
				if a != b {
					_ = a.Supervise(b, Mode(1+rng.IntN(3)))
				}
			case 6:
				if a != b && rng.IntN(3) == 0 { // a listener who hears one of many
					for _, q := range ps {
						if q != a {
							_ = m.SetHears(a, q, q == b)
						}
					}
				}
			case 7:
				if len(ps) < 14 {
					join()
				}
			case 8:
				if len(ps) > 2 {
					i := rng.IntN(len(ps))
					ps[i].Leave()
					ps = append(ps[:i], ps[i+1:]...)
				}
			}
		}
		// The fade frame, then a steady one to check.
		write()
		m.Step()
		for _, p := range m.parts {
			switch {
			case !p.st.plan.deny:
				forms[2]++
			case len(p.st.plan.entries) > 0:
				forms[1]++
			default:
				forms[0]++
			}
		}
		for _, p := range ps {
			for p.Next(&out) {
			}
		}
		write()
		m.Step()
		for _, l := range ps {
			var want audio.Frame
			if !deaf[l] {
				var sum [audio.FrameSamples]int
				for _, s := range ps {
					if s == l || muted[s] || !m.Hears(l, s) {
						continue
					}
					for i, v := range in[s] {
						sum[i] += int(v)
					}
				}
				for i, v := range sum {
					want[i] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
				}
			}
			if !l.Next(&out) {
				t.Fatalf("round %d: no frame", round)
			}
			if out != want {
				t.Fatalf("round %d (%d participants): a listener's frame differs from the reference", round, len(ps))
			}
		}
	}
	if forms[0] == 0 || forms[1] == 0 || forms[2] == 0 {
		t.Errorf("plans seen: %d hear everyone, %d not-heard lists, %d heard lists; want each form", forms[0], forms[1], forms[2])
	}
}
