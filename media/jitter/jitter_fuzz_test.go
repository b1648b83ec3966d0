package jitter

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzBuffer feeds random packet and pop sequences (reordering,
// duplicates, loss, SSRC changes, sequence and timestamp jumps, clock
// jumps, multi-frame and invalid payloads). The buffer must not panic,
// its depth must stay within Max plus one frame, and Pop must return
// only frames that were pushed, intact, and each no more often than
// Push accepted it (once, unless the sender replayed a packet that the
// buffer could not know as a duplicate, e.g. across SSRC changes).
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{1, 9, 1, 0, 0, 4, 0, 0, 0, 4, 0, 1, 3, 0, 0, 4, 0, 5, 0, 4, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 5, 0, 3, 1, 0, 0, 2, 200, 5, 0, 5, 0, 6, 7, 5, 0})
	f.Add([]byte{3, 2, 2, 0, 2, 1, 255, 0, 1, 4, 90, 7, 120, 0, 0, 5, 0, 8, 2, 5, 0, 5, 0})
	f.Add([]byte{7, 15, 1, 0, 1, 0, 1, 0, 1, 0, 1, 5, 0, 5, 0, 5, 0, 9, 0, 5, 0, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		c := Config{
			Min:           time.Duration(data[0]%8+1) * tick,
			Max:           time.Duration(data[1]%16) * tick,
			BytesPerFrame: [...]int{0, 4, 8}[data[2]%3],
		}
		maxDepth := c.Max
		if maxDepth == 0 {
			maxDepth = 200 * time.Millisecond
		}
		maxDepth = max(maxDepth, c.Min) + tick
		b := New(c)

		type sent struct {
			seq     uint16
			ts      uint32
			ssrc    uint32
			payload []byte
		}
		var (
			seq      uint16
			ts       uint32
			ssrc     uint32
			arrival  = t0
			now      = t0
			nextID   uint32
			history  []sent
			sizes    = map[uint32]int{} // frame id → payload size
			accepted = map[uint32]int{} // frame id → times Push accepted it
			returned = map[uint32]int{}
			played   uint64
		)
		pushSent := func(s sent) {
			if b.Push(s.seq, s.ts, s.ssrc, s.payload, arrival) {
				for i := 0; i+4 <= len(s.payload); i += max(4, c.BytesPerFrame) {
					accepted[binary.BigEndian.Uint32(s.payload[i:])]++
					if c.BytesPerFrame == 0 {
						break
					}
				}
			}
		}
		push := func(frames int, arg byte) {
			var p []byte
			switch {
			case arg == 255:
				p = nil // invalid
			case c.BytesPerFrame == 0:
				p = make([]byte, 4+int(arg%5))
				binary.BigEndian.PutUint32(p, nextID)
				sizes[nextID] = len(p)
				nextID++
				frames = 1
			default:
				for range frames {
					fr := make([]byte, c.BytesPerFrame)
					binary.BigEndian.PutUint32(fr, nextID)
					sizes[nextID] = len(fr)
					nextID++
					p = append(p, fr...)
				}
			}
			s := sent{seq, ts, ssrc, p}
			history = append(history, s)
			pushSent(s)
			seq++
			ts += uint32(frames) * 160
		}
		for i := 3; i+1 < len(data); i += 2 {
			op, arg := data[i], data[i+1]
			switch op % 10 {
			case 0: // the next packet
				push(1+int(arg%3), arg)
				arrival = arrival.Add(tick)
			case 1: // reorder or lose: move seq and ts
				d := int(arg%8) - 3
				seq += uint16(d)
				ts += uint32(d * 160)
				push(1, arg)
			case 2: // timestamp jump
				ts += uint32(arg) << 14
				push(1, arg)
			case 3: // SSRC change
				ssrc = uint32(arg % 3)
				push(1, arg)
			case 4: // a previous packet again, verbatim
				if len(history) > 0 {
					pushSent(history[len(history)-1-int(arg)%len(history)])
				}
			case 5, 8: // a pop one frame later
				now = now.Add(tick)
				fallthrough
			case 9: // a pop at an odd time
				if op%10 == 9 {
					now = now.Add(time.Duration(int8(arg)) * time.Millisecond)
				}
				pl, st := b.Pop(now)
				switch st {
				case Ok:
					played++
					if len(pl) < 4 {
						t.Fatalf("payload of %d bytes", len(pl))
					}
					id := binary.BigEndian.Uint32(pl)
					size, ok := sizes[id]
					if !ok || size != len(pl) {
						t.Fatalf("frame %d: %d bytes, pushed %d (%v)", id, len(pl), size, ok)
					}
					returned[id]++
					if returned[id] > accepted[id] {
						t.Fatalf("frame %d returned %d times, accepted %d", id, returned[id], accepted[id])
					}
				case Lost, Empty:
					if pl != nil {
						t.Fatalf("%v with a payload", st)
					}
				default:
					t.Fatalf("status %v", st)
				}
			case 6: // sequence number jump
				seq += uint16(arg) << 8
				push(1, arg)
			case 7: // arrival jitter
				arrival = arrival.Add(time.Duration(int8(arg)) * time.Millisecond)
			}
			st := b.Stats()
			if st.Depth > maxDepth || st.Depth < 0 {
				t.Fatalf("depth %v > %v", st.Depth, maxDepth)
			}
			if st.Played != played || st.Target > maxDepth {
				t.Fatalf("played %d (counted %d), target %v", st.Played, played, st.Target)
			}
		}
	})
}
