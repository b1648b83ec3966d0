package recordings

import (
	"time"

	"github.com/switchd/switchd/media/audio"
)

// Pausing a recording: paused time is written as silence, so the file's
// timeline stays the call's, and kept as intervals for the index.

// Reasons to Pause: each holds its own pause.
const (
	// PauseAPI is the pause an operator or agent asks for through the API.
	PauseAPI = "api"
	// PauseSensitive is the pause an IVR collect marked sensitive holds
	// while card digits are entered.
	PauseSensitive = "sensitive"
)

// Pause starts writing silence in place of the audio, from now until
// every reason that paused it has resumed (the API and an IVR's
// sensitive collect pause independently; one resuming does not unpause
// the other). Pausing again for a reason already held does nothing.
// Slots that overlap a pause at all are silent, including audio still
// queued from before the call to Pause whose time is after it.
func (w *Writer) Pause(reason string) {
	off := w.offset()
	w.pmu.Lock()
	defer w.pmu.Unlock()
	if w.holds[reason] {
		return
	}
	w.holds[reason] = true
	if len(w.holds) == 1 {
		w.paused = append(w.paused, Interval{Start: off, End: -1})
		w.hasPauses.Store(true)
	}
}

// Resume releases reason's pause; the audio is written again once no
// reason holds one. Resuming a reason that does not hold a pause does
// nothing.
func (w *Writer) Resume(reason string) {
	off := w.offset()
	w.pmu.Lock()
	defer w.pmu.Unlock()
	if !w.holds[reason] {
		return
	}
	delete(w.holds, reason)
	if len(w.holds) > 0 {
		return
	}
	last := &w.paused[len(w.paused)-1]
	if last.End = max(off, last.Start); last.End == last.Start {
		w.paused = w.paused[:len(w.paused)-1] // nothing was paused
	}
}

// offset is now on the timeline.
func (w *Writer) offset() time.Duration { return max(0, w.o.Now().Sub(w.start)) }

// pausedAt reports whether slot k overlaps a pause.
func (w *Writer) pausedAt(k int64) bool {
	if !w.hasPauses.Load() {
		return false
	}
	from := time.Duration(k) * audio.FrameDuration
	to := from + audio.FrameDuration
	w.pmu.Lock()
	defer w.pmu.Unlock()
	for i := len(w.paused) - 1; i >= 0; i-- {
		iv := w.paused[i]
		if iv.End >= 0 && iv.End <= from {
			return false // intervals are in order: the earlier ones end earlier
		}
		if iv.Start < to {
			return true
		}
	}
	return false
}
