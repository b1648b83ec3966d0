package jitter

import "github.com/switchd/switchd/media/audio"

// ConcealFrames is how many consecutive lost frames Conceal fades over;
// from the next one on it returns silence.
const ConcealFrames = 5

// Conceal fills out for the n-th consecutive lost frame (n ≥ 1) from
// prev, the last frame decoded from a real packet: prev repeated with a
// gain falling linearly, sample by sample, from 1 at the start of the
// first lost frame to 0 at the end of the ConcealFrames-th, then
// silence. The ramp is continuous across consecutive calls, so the fade
// has no steps. out may be prev.
func Conceal(prev *audio.Frame, out *audio.Frame, n int) {
	const total = ConcealFrames * audio.FrameSamples
	if n < 1 {
		n = 1
	}
	if n > ConcealFrames {
		clear(out[:])
		return
	}
	pos := (n - 1) * audio.FrameSamples
	for i, s := range prev {
		out[i] = int16(int32(s) * int32(total-pos-i) / total)
	}
}
