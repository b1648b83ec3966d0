package audio

import "time"

// Clip is a piece of audio in the internal format (mono, SampleRate),
// typically a prompt loaded from a WAV file.
type Clip struct {
	// Samples is the audio at SampleRate, mono.
	Samples []int16
	// SourceRate is the sample rate of the source, in Hz, before
	// resampling.
	SourceRate int
	// SourceChannels is the channel count of the source, before mixing
	// down to mono.
	SourceChannels int
}

// Duration returns the length of the clip.
func (c *Clip) Duration() time.Duration {
	return time.Duration(len(c.Samples)) * time.Second / SampleRate
}

// Frames returns the number of Frames the clip fills, the last one
// possibly partly.
func (c *Clip) Frames() int {
	return (len(c.Samples) + FrameSamples - 1) / FrameSamples
}

// Frame copies frame i of the clip into out; the part of the last frame
// past the end, and any frame out of range, is silence.
func (c *Clip) Frame(i int, out *Frame) {
	if i < 0 || i >= c.Frames() {
		clear(out[:])
		return
	}
	n := copy(out[:], c.Samples[i*FrameSamples:])
	clear(out[n:])
}
