// Package audio is switchd's internal audio: 8 kHz, 16-bit signed linear
// PCM in frames of 20 ms, and the conversions at its edges (G.711, WAV
// files, resampling, tone generation). Legs decode RTP into Frames only
// when something needs the audio (prompts, DTMF detection, taps,
// transcoding); two-party calls relay RTP without decoding.
package audio

import "time"

// The internal format.
const (
	SampleRate    = 8000                  // Hz
	FrameDuration = 20 * time.Millisecond // one frame
	FrameSamples  = 160                   // samples per frame (SampleRate × FrameDuration)
)

// Frame is 20 ms of mono audio at SampleRate. It is an array so that
// frames can be passed and pooled without allocation.
type Frame [FrameSamples]int16
