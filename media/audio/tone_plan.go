package audio

import (
	"strings"
	"time"
)

// ToneSet is a region's call-progress tones (ITU-T E.180 and its
// Supplement 2, which lists national tone plans).
type ToneSet struct {
	// Ringback (E.180's ringing tone) tells the caller the called
	// party is being alerted.
	Ringback ToneSpec
	// Busy tells the caller the called party is busy.
	Busy ToneSpec
	// Congestion (also reorder or fast busy) tells the caller
	// the network cannot complete the call.
	Congestion ToneSpec
	// Beep is a single 400 ms 1 kHz beep (recording notice, prompt for
	// input); it does not repeat.
	Beep ToneSpec
}

// DefaultToneRegion is the region Tones falls back to.
const DefaultToneRegion = "eu"

// ms is a shorthand for cadences.
const ms = time.Millisecond

// beep is the same everywhere.
var beep = ToneSpec{Freqs: []float64{1000}, Level: -13, Cadence: []time.Duration{400 * ms}, Once: true}

// Tones returns the tone set of region, case-insensitively: "us" (the
// North American precise tone plan, also "ca"), "uk" (also "gb"; BT SIN
// 350), "cn", or "eu" (the CEPT 425 Hz plan used across continental
// Europe; national congestion cadences vary between 200 and 250 ms).
// Frequencies and cadences follow ITU-T E.180 Suppl. 2 and agree with
// Asterisk's indications.conf. Levels are per component: the precise
// tone plan's −19 dBm0 (ringback) and −24 dBm0 (busy, reorder) for "us",
// −13 dBm0 elsewhere. An unknown region returns the "eu" set and false;
// "" returns the "eu" set and true.
func Tones(region string) (ToneSet, bool) {
	switch strings.ToLower(region) {
	case "us", "ca":
		return ToneSet{
			Ringback:   ToneSpec{Freqs: []float64{440, 480}, Level: -19, Cadence: []time.Duration{2000 * ms, 4000 * ms}},
			Busy:       ToneSpec{Freqs: []float64{480, 620}, Level: -24, Cadence: []time.Duration{500 * ms, 500 * ms}},
			Congestion: ToneSpec{Freqs: []float64{480, 620}, Level: -24, Cadence: []time.Duration{250 * ms, 250 * ms}},
			Beep:       beep,
		}, true
	case "uk", "gb":
		return ToneSet{
			Ringback:   ToneSpec{Freqs: []float64{400, 450}, Level: -13, Cadence: []time.Duration{400 * ms, 200 * ms, 400 * ms, 2000 * ms}},
			Busy:       ToneSpec{Freqs: []float64{400}, Level: -13, Cadence: []time.Duration{375 * ms, 375 * ms}},
			Congestion: ToneSpec{Freqs: []float64{400}, Level: -13, Cadence: []time.Duration{400 * ms, 350 * ms, 225 * ms, 525 * ms}},
			Beep:       beep,
		}, true
	case "cn":
		return ToneSet{
			Ringback:   ToneSpec{Freqs: []float64{450}, Level: -13, Cadence: []time.Duration{1000 * ms, 4000 * ms}},
			Busy:       ToneSpec{Freqs: []float64{450}, Level: -13, Cadence: []time.Duration{350 * ms, 350 * ms}},
			Congestion: ToneSpec{Freqs: []float64{450}, Level: -13, Cadence: []time.Duration{700 * ms, 700 * ms}},
			Beep:       beep,
		}, true
	}
	eu := ToneSet{
		Ringback:   ToneSpec{Freqs: []float64{425}, Level: -13, Cadence: []time.Duration{1000 * ms, 4000 * ms}},
		Busy:       ToneSpec{Freqs: []float64{425}, Level: -13, Cadence: []time.Duration{500 * ms, 500 * ms}},
		Congestion: ToneSpec{Freqs: []float64{425}, Level: -13, Cadence: []time.Duration{250 * ms, 250 * ms}},
		Beep:       beep,
	}
	r := strings.ToLower(region)
	return eu, r == "" || r == DefaultToneRegion
}
