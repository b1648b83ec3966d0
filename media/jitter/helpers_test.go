package jitter

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// t0 is the time of tick 0 in every test.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const tick = 20 * time.Millisecond

// pkt is a test packet: its RTP fields, the identities of the frames it
// carries (written into the payload) and its arrival time after t0.
type pkt struct {
	seq  uint16
	ts   uint32
	ssrc uint32
	ids  []int
	at   time.Duration
}

// stream returns n packets of one 20 ms frame each, in order and paced:
// frame i has sequence number seq0+i, timestamp ts0+160·i, identity i
// and arrives at i·20 ms.
func stream(n int, seq0 uint16, ts0 uint32, ssrc uint32) []pkt {
	ps := make([]pkt, n)
	for i := range ps {
		ps[i] = pkt{seq: seq0 + uint16(i), ts: ts0 + uint32(i)*160, ssrc: ssrc, ids: []int{i}, at: time.Duration(i) * tick}
	}
	return ps
}

// without returns ps without the packets carrying the given frames.
func without(ps []pkt, ids ...int) []pkt {
	return slices.DeleteFunc(slices.Clone(ps), func(p pkt) bool { return slices.Contains(ids, p.ids[0]) })
}

// delay makes the packet carrying frame id arrive k ticks later, right
// after the packet that arrives then.
func delay(ps []pkt, id, k int) []pkt {
	i := slices.IndexFunc(ps, func(p pkt) bool { return p.ids[0] == id })
	p := ps[i]
	p.at += time.Duration(k) * tick
	ps = slices.Delete(slices.Clone(ps), i, i+1)
	j := i
	for j < len(ps) && ps[j].at <= p.at {
		j++
	}
	return slices.Insert(ps, j, p)
}

// payloadOf builds the payload of frames ids, size bytes each: the
// identity big-endian, then its low byte repeated.
func payloadOf(ids []int, size int) []byte {
	b := make([]byte, 0, len(ids)*size)
	for _, id := range ids {
		f := make([]byte, size)
		binary.BigEndian.PutUint32(f, uint32(id))
		for i := 4; i < size; i++ {
			f[i] = byte(id)
		}
		b = append(b, f...)
	}
	return b
}

// frameID returns the identity in a frame payload, checking its fill.
func frameID(t testing.TB, p []byte) int {
	t.Helper()
	if len(p) < 4 {
		t.Fatalf("payload of %d bytes", len(p))
	}
	id := int(binary.BigEndian.Uint32(p))
	for i := 4; i < len(p); i++ {
		if p[i] != byte(id) {
			t.Fatalf("frame %d: payload corrupted at byte %d", id, i)
		}
	}
	return id
}

// player drives a Buffer: packets arrive in slice order, each pushed at
// the first tick not before its arrival time (with that arrival time),
// and Pop is called once per tick after the pushes.
type player struct {
	t        testing.TB
	b        *Buffer
	size     int // bytes per frame
	ps       []pkt
	i        int
	tick     int
	rejected []int // first frame of every packet Push refused
}

func newPlayer(t testing.TB, b *Buffer, ps []pkt) *player {
	return &player{t: t, b: b, size: 160, ps: ps}
}

// run plays n ticks and returns the output: a frame identity for Ok,
// "L" for Lost, "-" for Empty.
func (p *player) run(n int) string {
	p.t.Helper()
	var out []string
	for range n {
		now := t0.Add(time.Duration(p.tick) * tick)
		for p.i < len(p.ps) && p.ps[p.i].at <= time.Duration(p.tick)*tick {
			k := p.ps[p.i]
			buf := payloadOf(k.ids, p.size)
			if !p.b.Push(k.seq, k.ts, k.ssrc, buf, t0.Add(k.at)) {
				p.rejected = append(p.rejected, k.ids[0])
			}
			clear(buf) // the buffer must have copied it
			p.i++
		}
		pl, st := p.b.Pop(now)
		switch st {
		case Ok:
			out = append(out, strconv.Itoa(frameID(p.t, pl)))
		case Lost:
			out = append(out, "L")
		case Empty:
			out = append(out, "-")
		default:
			p.t.Fatalf("tick %d: status %v", p.tick, st)
		}
		if st != Ok && pl != nil {
			p.t.Fatalf("tick %d: %v with a payload", p.tick, st)
		}
		p.tick++
	}
	return strings.Join(out, " ")
}

// seqOut returns the expected output of frames a…b in order.
func seqOut(a, b int) string {
	var s []string
	for i := a; i <= b; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, " ")
}

// join joins pieces of expected output.
func join(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " ")
}

// rep repeats a token n times.
func rep(tok string, n int) string {
	return strings.TrimSpace(strings.Repeat(tok+" ", n))
}

// expect compares outputs, showing the first difference.
func expect(t testing.TB, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Fields(got), strings.Fields(want)
	for i := range max(len(g), len(w)) {
		if i >= len(g) || i >= len(w) || g[i] != w[i] {
			lo := max(0, i-5)
			t.Fatalf("output differs at tick %d:\n got  …%v\n want …%v", i,
				g[lo:min(len(g), i+6)], w[lo:min(len(w), i+6)])
		}
	}
	t.Fatalf("output differs")
}

// checkStats compares selected counters.
func checkStats(t testing.TB, b *Buffer, want map[string]uint64) {
	t.Helper()
	st := b.Stats()
	got := map[string]uint64{
		"received": st.Received, "late": st.Late, "duplicates": st.Duplicates, "early": st.Early,
		"invalid": st.Invalid, "played": st.Played, "lost": st.Lost, "dropped": st.Dropped,
		"underruns": st.Underruns, "resets": st.Resets, "resyncs": st.Resyncs,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stats %s = %d, want %d (%s)", k, got[k], v, fmt.Sprintf("%+v", st))
		}
	}
}
