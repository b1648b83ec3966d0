package jitter

import "time"

// Push stores the packet with sequence number seq, RTP timestamp ts and
// source ssrc, which arrived at arrival; the payload is copied. It never
// blocks. It returns false when the packet was dropped: a duplicate, too
// late (its frames were played), beyond the window, or an empty or
// oversized payload (see Stats).
//
// Frames are placed by timestamp, so packets are reordered within the
// window and a payload that is a multiple of Config.BytesPerFrame is
// split into consecutive frames. A new SSRC (a reset) or a timestamp
// jump (a resync: a packet newer in sequence whose timestamp lies beyond
// the window or before the playout point) rebases the new timeline to
// continue right after the newest buffered frame, so playout goes on
// without a gap. Sequence numbers and timestamps wrap (RFC 3550 §5.1).
func (b *Buffer) Push(seq uint16, ts uint32, ssrc uint32, payload []byte, arrival time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Received++

	frames, size := 1, len(payload)
	if b.bpf > 0 && size > b.bpf && size%b.bpf == 0 {
		frames, size = size/b.bpf, b.bpf
	}
	if size == 0 || size > maxPayload {
		b.st.Invalid++
		return false
	}

	resync := false
	switch {
	case !b.haveSSRC:
		b.newSource(ssrc)
	case ssrc != b.ssrc:
		if b.havePrev && ssrc == b.prevSSRC && arrival.Sub(b.switchedAt) < strayWindow {
			b.st.Late++ // a straggler of the source we left
			return false
		}
		b.prevSSRC, b.havePrev, b.switchedAt = b.ssrc, true, arrival
		b.newSource(ssrc)
		b.st.Resets++
		resync = true
	}
	if b.isDuplicate(seq) {
		b.st.Duplicates++
		return false
	}
	newer := !b.haveSeq || int16(seq-b.maxSeq) > 0

	mapped := ts + b.tsOff
	if !b.anchored {
		b.anchored, b.next, b.nextTs, b.highest = true, 0, mapped, -1
	}
	d := b.offset(mapped)
	window := int64(len(b.slots))
	outside := d > b.maxF || d < -window
	switch {
	case resync:
	case newer && (d > b.maxF || d < 0):
		// Newer in sequence but beyond the window or before what was
		// played: the sender's timestamps jumped.
		resync = true
		b.st.Resyncs++
	case !newer && outside:
		// An old stray, or a sender that jumped both its sequence
		// numbers and its timestamps: resync once several consecutive
		// packets agree.
		if b.rejectRun > 0 && seq == b.rejectSeq+1 {
			b.rejectRun++
		} else {
			b.rejectRun = 1
		}
		b.rejectSeq = seq
		if b.rejectRun < forceResyncAfter {
			b.markSeen(seq)
			if d < 0 {
				b.st.Late++
			} else {
				b.st.Early++
			}
			return false
		}
		b.clearSeen()
		newer, resync = true, true
		b.st.Resyncs++
	}
	if resync {
		d = b.rebase(&mapped)
		b.est.restart()
	}
	if newer {
		b.maxSeq, b.haveSeq = seq, true
	}
	b.markSeen(seq)
	b.perPacket = int64(frames)
	b.est.update(b, arrival, mapped, min(b.minF+b.perPacket-1, b.maxF))

	if d < 0 && !b.began && b.highest-(b.next+d) <= b.maxF {
		// Before playout starts, an earlier packet moves the start back.
		b.next += d
		b.nextTs -= uint32(-d) * b.fs
		d = 0
	}
	stored, late, dup := 0, 0, 0
	for i := range frames {
		di := d + int64(i)
		switch {
		case di < 0:
			late++
			continue
		case di > b.maxF:
			continue
		}
		idx := b.next + di
		s := b.slotOf(idx)
		if s.full && s.idx == idx {
			dup++
			continue
		}
		s.idx, s.seq, s.full = idx, seq, true
		s.buf = append(s.buf[:0], payload[i*size:(i+1)*size]...)
		b.highest = max(b.highest, idx)
		stored++
	}
	switch {
	case stored > 0:
		b.rejectRun = 0
		return true
	case dup > 0:
		b.st.Duplicates++
	case late > 0:
		b.st.Late++
	default:
		b.st.Early++
	}
	return false
}

// newSource starts tracking source ssrc: its sequence numbers are new.
func (b *Buffer) newSource(ssrc uint32) {
	b.ssrc, b.haveSSRC = ssrc, true
	b.haveSeq, b.haveLast, b.rejectRun = false, false, 0
	b.clearSeen()
	b.est.restart()
}

// offset returns the position of the frame with (rebased) timestamp
// mapped relative to next, in frames, rounded to the nearest.
func (b *Buffer) offset(mapped uint32) int64 {
	delta := int64(int32(mapped - b.nextTs))
	fs := int64(b.fs)
	q := delta + fs/2
	if q < 0 {
		return (q - fs + 1) / fs
	}
	return q / fs
}

// rebase shifts the timeline so that the frame with timestamp *mapped
// comes right after the newest buffered frame (or at next when nothing
// is buffered), updates *mapped and returns its offset from next.
func (b *Buffer) rebase(mapped *uint32) int64 {
	k := b.depth()
	want := b.nextTs + uint32(k)*b.fs
	b.tsOff += want - *mapped
	*mapped = want
	return k
}

// isDuplicate reports whether seq was received already (within the
// last seenWindow sequence numbers).
func (b *Buffer) isDuplicate(seq uint16) bool {
	if !b.haveSeq {
		return false
	}
	back := int16(b.maxSeq - seq)
	return back >= 0 && int(back) < seenWindow && b.seen[int(seq)%seenWindow] == int32(seq)
}

func (b *Buffer) markSeen(seq uint16) { b.seen[int(seq)%seenWindow] = int32(seq) }

func (b *Buffer) clearSeen() {
	for i := range b.seen {
		b.seen[i] = -1
	}
}
