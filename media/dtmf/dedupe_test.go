package dtmf

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// ev builds an event of digit from source, starting at ms and lasting dur
// ms.
func ev(digit byte, src Source, ms, dur int) Event {
	return Event{Digit: digit, Source: src, At: t0.Add(time.Duration(ms) * time.Millisecond), Duration: time.Duration(dur) * time.Millisecond}
}

func TestMerger(t *testing.T) {
	const (
		R = SourceRFC4733
		I = SourceInBand
		S = SourceSIPInfo
	)
	cases := []struct {
		name string
		in   []Event
		want string // digits passed on
	}{
		{"one press, RFC 4733 and in-band", []Event{ev('5', R, 0, 100), ev('5', I, 10, 90)}, "5"},
		{"in-band first", []Event{ev('5', I, 10, 90), ev('5', R, 0, 100)}, "5"},
		{"three sources", []Event{ev('7', R, 0, 100), ev('7', S, 50, 0), ev('7', I, 5, 95)}, "7"},
		{"in-band late by a jitter buffer of 100 ms", []Event{ev('2', R, 0, 100), ev('2', I, 100, 100)}, "2"},
		{"within the window after", []Event{ev('2', R, 0, 100), ev('2', I, 215, 50)}, "2"},
		{"beyond the window", []Event{ev('2', R, 0, 100), ev('2', I, 225, 50)}, "22"},
		{"INFO without duration before the press", []Event{ev('9', S, 0, 0), ev('9', R, 100, 100)}, "9"},
		{"different digits", []Event{ev('1', R, 0, 100), ev('2', I, 0, 100)}, "12"},
		{"11 from one source", []Event{ev('1', R, 0, 50), ev('1', R, 100, 50)}, "11"},
		{"11 from two sources, interleaved", []Event{ev('1', R, 0, 50), ev('1', I, 5, 45), ev('1', R, 100, 50), ev('1', I, 105, 45)}, "11"},
		{"11 from two sources, one after the other", []Event{ev('1', R, 0, 50), ev('1', R, 100, 50), ev('1', I, 5, 45), ev('1', I, 105, 45)}, "11"},
		{"11, in-band late by 100 ms", []Event{ev('1', R, 0, 100), ev('1', R, 200, 100), ev('1', I, 100, 100), ev('1', I, 300, 100)}, "11"},
		{"111, in-band misses the first", []Event{ev('1', R, 0, 50), ev('1', R, 100, 50), ev('1', R, 200, 50), ev('1', I, 105, 45), ev('1', I, 205, 45)}, "111"},
		{"in-band only, 11", []Event{ev('1', I, 0, 50), ev('1', I, 90, 50)}, "11"},
		{"a long press and a short echo", []Event{ev('#', R, 0, 5000), ev('#', I, 4000, 40)}, "#"},
		{"same digit much later", []Event{ev('3', R, 0, 100), ev('3', I, 5000, 100)}, "33"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMerger()
			var got []byte
			for _, e := range c.in {
				if out, ok := m.Add(e); ok {
					if out != e {
						t.Errorf("passed on %v for %v", out, e)
					}
					got = append(got, out.Digit)
				}
			}
			if string(got) != c.want {
				t.Errorf("digits %q, want %q", got, c.want)
			}
			if d := m.Dropped(); int(d) != len(c.in)-len(got) {
				t.Errorf("Dropped %d, want %d", d, len(c.in)-len(got))
			}
		})
	}
}

func TestMergerWindowAndReset(t *testing.T) {
	m := NewMerger(WithMergeWindow(0))
	if _, ok := m.Add(ev('4', SourceRFC4733, 0, 100)); !ok {
		t.Fatal("first press dropped")
	}
	if _, ok := m.Add(ev('4', SourceInBand, 101, 50)); !ok {
		t.Error("window 0: a press 1 ms after the other was merged")
	}
	if _, ok := m.Add(ev('4', SourceSIPInfo, 50, 0)); ok {
		t.Error("window 0: an overlapping press was not merged")
	}
	m.Reset()
	if _, ok := m.Add(ev('4', SourceInBand, 120, 50)); !ok {
		t.Error("after Reset: dropped")
	}
}

// TestMergerMany: more presses than the Merger remembers, two sources.
func TestMergerMany(t *testing.T) {
	m := NewMerger()
	var n int
	for i := range 100 {
		d := allDigits[i%len(allDigits)]
		for _, src := range []Source{SourceRFC4733, SourceInBand} {
			if _, ok := m.Add(ev(d, src, i*150, 80)); ok {
				n++
			}
		}
	}
	if n != 100 {
		t.Errorf("%d presses passed on, want 100", n)
	}
}

// TestMergerConcurrent: the sources of a leg feed it from their own
// goroutines (run with -race).
func TestMergerConcurrent(t *testing.T) {
	m := NewMerger()
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for _, src := range []Source{SourceRFC4733, SourceInBand, SourceSIPInfo} {
		wg.Go(func() {
			for i := range 50 {
				if _, ok := m.Add(ev('0', src, i*1000, 100)); ok {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if passed < 50 || passed > 150 {
		t.Errorf("%d passed on", passed)
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{SourceUnknown: "unknown", SourceRFC4733: "rfc4733", SourceInBand: "inband", SourceSIPInfo: "sip-info", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s.String(), want)
		}
	}
	if got := fmt.Sprint(ev('5', SourceInBand, 0, 100)); got != "5 (inband, 100ms)" {
		t.Errorf("Event.String: %q", got)
	}
}

func TestDigitCodes(t *testing.T) {
	for code := range uint8(16) {
		d, ok := DigitOf(code)
		if !ok {
			t.Fatalf("DigitOf(%d) not ok", code)
		}
		if c, ok := EventCode(d); !ok || c != code {
			t.Errorf("EventCode(%q) = %d, %v; want %d", d, c, ok, code)
		}
	}
	if _, ok := DigitOf(16); ok {
		t.Error("DigitOf(16) (hook flash) ok")
	}
	if c, ok := EventCode('d'); !ok || c != 15 {
		t.Errorf("EventCode('d') = %d %v", c, ok)
	}
}
