package dtmf

import (
	"math"
	"time"

	"github.com/switchd/switchd/media/audio"
)

// In-band detection works on blocks of blockSize samples (12.75 ms at
// 8 kHz), not on the 20 ms frames: the block length trades frequency
// resolution (SampleRate/blockSize = 78 Hz, enough to tell the DTMF
// frequencies apart, which are 73 Hz apart at the closest, 697/770,
// since each filter sits exactly on its frequency and the neighbour
// falls near the first null) against time resolution. 102 samples let
// two consecutive hits, the confirmation rule, fit in any 40 ms tone
// (ITU-T Q.24: tones of 40 ms must be accepted) whatever its alignment
// with the blocks, and three misses fit in any 40 ms pause, while a
// dropout of 10 ms spans at most two blocks and does not split a digit.
// The usual alternative, 205 samples (25.6 ms, 39 Hz), resolves
// frequency better but holds only one whole block of a 40 ms tone, so a
// single block would decide, which invites talk-off from speech.
const blockSize = 102

// Confirmation rules, in blocks.
const (
	hitsToStart  = 2 // consecutive blocks with the same digit to start it
	missesToEnd  = 3 // consecutive blocks without it to end it
	quietToStart = 2 // blocks with no digit at all before a digit may start
)

// InBand thresholds (ITU-T Q.24 for the limits; the energy checks are the
// usual ones of DTMF detectors, their values checked against the
// talk-off tests of this package, which no block of speech or music
// passes, and the accuracy tests, whose tones pass with a wide margin).
const (
	// MinToneLevel is the weakest tone of a pair accepted, in dBm0:
	// Q.24 receivers accept down to about −25 to −30 dBm0 per tone
	// depending on the administration; −36 keeps a margin for line loss
	// and rejects faint echoes and crosstalk.
	MinToneLevel = -36.0
	// NormalTwistDB is the most the low-group (row) tone may exceed the
	// high-group (column) tone by: the usual case, since lines attenuate
	// the high group more (Q.24, Bellcore/ETSI practice: 8 dB).
	NormalTwistDB = 8.0
	// ReverseTwistDB is the most the high-group tone may exceed the
	// low-group tone by (4 dB).
	ReverseTwistDB = 4.0
)

// Internal thresholds, as power ratios.
var (
	minTonePower = dBm0Power(MinToneLevel)
	normalTwist  = dbRatio(NormalTwistDB)
	reverseTwist = dbRatio(ReverseTwistDB)
	// relativePeak: the strongest tone of a group must exceed each other
	// tone of its group by this much (8 dB): a tone pair has one tone per
	// group, speech and music spread energy over several.
	relativePeak = dbRatio(8)
	// minToneFraction: the two tones must hold this share of the block's
	// energy: DTMF is two sines and little else (a tone pair at 20 dB
	// SNR scores 0.9 to 1), speech and music put most of their energy
	// elsewhere.
	minToneFraction = 0.80
	// maxHarmonic: the second harmonic of each tone must be this far
	// below the tone (10 dB): a sine has none, a voice or an instrument
	// playing that pitch has a strong one.
	maxHarmonic = dbRatio(-10)
)

// freqOffset is how far the two extra filters around each tone are from
// it, in Hz: 0.38 of the filters' resolution, which keeps the
// frequencies Q.23 allows (±1.8 %, 29 Hz at 1633 Hz) inside the three
// filters' span, where refineFreq is accurate.
const freqOffset = 30.0

// maxFreqError is the largest frequency error accepted: Q.23 senders are
// within ±1.8 %, Q.24 receivers reject beyond ±3.5 % or so.
const maxFreqError = 0.03

// dBm0Power returns the mean square of a sine of level dBm0 (the scale of
// audio.FullScaleDBm0).
func dBm0Power(level float64) float64 {
	return 32767.0 * 32767.0 / 2 * math.Pow(10, (level-audio.FullScaleDBm0)/10)
}

// dbRatio converts decibels to a power ratio.
func dbRatio(db float64) float64 { return math.Pow(10, db/10) }

// InBand detects DTMF digits in the decoded audio of one leg (ITU-T Q.23
// tone pairs, Q.24 receiver limits). It cuts the audio into blocks of
// 102 samples and calls a block a hit for a digit when
//
//   - eight Goertzel filters, one on each DTMF frequency, find the
//     strongest row and column tones at MinToneLevel or more, each 8 dB
//     above the other tones of its group;
//   - each tone's actual frequency, estimated from two more filters
//     30 Hz on either side, is within ±3 % of the nominal one;
//   - a least-squares fit of the block to four sines, the two tones and
//     their second harmonics, gives: a twist within NormalTwistDB (row
//     stronger) and ReverseTwistDB (column stronger); the two tones
//     holding 80 % of the block's energy (speech and music spread their
//     energy); each harmonic 10 dB below its tone (voices and
//     instruments are rich in harmonics, a sine has none). A block whose
//     "column tone" is the row tone's own harmonic (one note of 830 Hz
//     has its second harmonic near 1633 Hz) cannot be fitted and is no
//     hit.
//
// A digit starts after two consecutive hits (so a 40 ms tone is always
// accepted, a 20 ms one never) preceded by at least
// two blocks without any hit (the pause between digits), and ends after
// three blocks without it (a 40 ms pause always ends it, a dropout of
// 10 ms never does). It is reported once, when it ends, with its
// duration; a digit that follows another without a pause is ignored, as
// a real keypad always leaves one.
//
// The cost is the eight filters on every sample, about 1.3 µs per 20 ms
// frame of speech or noise; the rest runs only on blocks that look like a
// tone pair (4.3 µs per frame during a digit).
//
// An InBand is not safe for concurrent use. It does not allocate.
type InBand struct {
	bank    dtmfBank
	offset  [8][2]float64 // Goertzel coefficients of each frequency ± freqOffset
	buf     [blockSize]float64
	n       int       // samples in buf
	blockAt time.Time // time of buf[0]

	cand   byte // digit of the current run of hits, 0: none
	hits   int  // length of that run
	quiet  int  // consecutive blocks without any hit before the run
	qrun   int  // consecutive blocks without any hit, now
	active bool // a digit is confirmed and going on
	digit  byte
	misses int
	start  time.Time // start of the digit's first hit block
	end    time.Time // end of its last hit block
}

// NewInBand returns an in-band detector for one audio stream.
func NewInBand() *InBand {
	d := &InBand{bank: newDTMFBank(), qrun: quietToStart}
	for i, f := range append(rowFreqs[:], colFreqs[:]...) {
		d.offset[i] = [2]float64{goertzelCoeff(f - freqOffset), goertzelCoeff(f + freqOffset)}
	}
	return d
}

// sampleTime is the duration of one sample.
const sampleTime = time.Second / audio.SampleRate

// Frame processes 20 ms of audio whose first sample was taken (or
// arrived) at now, and returns a digit when one has just ended. Frames
// are expected back to back; now only dates the digits.
func (d *InBand) Frame(f *audio.Frame, now time.Time) (Event, bool) {
	var ev Event
	var got bool
	for i, s := range f {
		if d.n == 0 {
			d.blockAt = now.Add(time.Duration(i) * sampleTime)
		}
		d.buf[d.n] = float64(s)
		d.n++
		if d.n == blockSize {
			d.n = 0
			if e, ok := d.step(d.classify(&d.buf), d.blockAt); ok {
				ev, got = e, true
			}
		}
	}
	return ev, got
}

// Reset forgets the audio seen so far, e.g. after a gap in the stream.
func (d *InBand) Reset() {
	*d = InBand{bank: d.bank, offset: d.offset, qrun: quietToStart}
}

// classify returns the digit block x holds, or 0.
func (d *InBand) classify(x *[blockSize]float64) byte {
	p, ms := d.bank.run(x[:])
	r := strongest(p[0:4])
	c := strongest(p[4:8])
	if p[r] < minTonePower || p[4+c] < minTonePower {
		return 0
	}
	for i := range 4 {
		if i != r && p[i]*relativePeak > p[r] {
			return 0
		}
		if i != c && p[4+i]*relativePeak > p[4+c] {
			return 0
		}
	}
	// The two tones' actual frequencies (Q.23 allows ±1.8 %), from the
	// filter on each and the two beside it.
	q := goertzel4(x[:], [4]float64{d.offset[r][0], d.offset[r][1], d.offset[4+c][0], d.offset[4+c][1]})
	fr, okr := refineFreq(rowFreqs[r], q[0], p[r], q[1])
	fc, okc := refineFreq(colFreqs[c], q[2], p[4+c], q[3])
	if !okr || !okc || math.Abs(fr/rowFreqs[r]-1) > maxFreqError || math.Abs(fc/colFreqs[c]-1) > maxFreqError {
		return 0
	}
	fit, ok := fitTones(x[:], [4]float64{fr, fc, 2 * fr, 2 * fc})
	if !ok {
		return 0
	}
	pr, pc := fit.power[0], fit.power[1]
	switch {
	case pr < minTonePower || pc < minTonePower:
		return 0
	case pr > pc*normalTwist || pc > pr*reverseTwist:
		return 0
	case pr+pc < minToneFraction*ms:
		return 0
	case fit.power[2] > maxHarmonic*pr || fit.power[3] > maxHarmonic*pc:
		return 0
	}
	return keypad[r][c]
}

// strongest returns the index of the largest of p.
func strongest(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

// step advances the digit state machine by one block that started at at
// and held digit (0: none), and returns a digit that has just ended.
func (d *InBand) step(digit byte, at time.Time) (Event, bool) {
	blockEnd := at.Add(blockSize * sampleTime)
	if d.active {
		if digit == d.digit {
			d.misses, d.end = 0, blockEnd
			return Event{}, false
		}
		d.misses++
		d.track(digit)
		if d.misses < missesToEnd {
			return Event{}, false
		}
		d.active = false
		return Event{Digit: d.digit, Duration: d.end.Sub(d.start), Source: SourceInBand, At: d.start}, true
	}
	if digit != 0 && digit == d.cand {
		d.hits++
	} else {
		d.cand, d.hits, d.quiet = digit, 1, d.qrun
		d.start = at
	}
	d.track(digit)
	if digit != 0 && d.hits >= hitsToStart && d.quiet >= quietToStart {
		d.active, d.digit, d.misses, d.end = true, digit, 0, blockEnd
		d.cand, d.hits = 0, 0
	}
	return Event{}, false
}

// track counts the blocks without any hit.
func (d *InBand) track(digit byte) {
	if digit == 0 {
		d.qrun++
	} else {
		d.qrun = 0
	}
}
