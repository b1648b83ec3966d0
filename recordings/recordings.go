// Package recordings records calls to WAV files as they go, from the
// legs' audio taps (media/tap), and keeps the files tidy: it repairs the
// headers of recordings a crash cut off and deletes them after their
// retention.
//
// A recording is one file, <dir>/<yyyy>/<mm>/<dd>/<callID>.wav, of 8 kHz
// 16-bit PCM: stereo (left the customer, leg A; right the agent, leg B) or
// mono (the two mixed, saturating). A Writer takes one 20 ms frame per
// channel per slot of the call's timeline and writes on its own goroutine
// through a bounded queue, so a slow disk costs counted frames, never a
// stalled media path. A Feed aligns the two directions of a tap onto that
// timeline (missing audio is silence) and feeds a Writer: Start records a
// call from its customer leg's tap in one line.
//
// Paused time (Pause, e.g. while an IVR collects card digits) is written
// as silence, not left out: the file's timeline stays the call's, so the
// two channels, transcripts and QA notes keep lining up with the events of
// the call, and the index records each pause as an interval (Result.Paused)
// — the marker compliance asks for.
//
// The header's RIFF and data sizes are rewritten, with an fsync, every
// Options.HeaderInterval, so a crash loses at most that much audio; at
// start-up Repair (or Recover, which also updates the index) fixes the
// sizes of any file whose header disagrees with its length. A Sweeper
// deletes recordings older than the retention.
//
// The index of recordings lives in the database (internal/store), which
// imports this package's types (Record, Format, State, Interval); this
// package declares the small interfaces it needs of it (Index,
// RecoverIndex).
package recordings

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchd/switchd/internal/enum"
)

// Sentinel errors of package recordings; test them with errors.Is.
var (
	// ErrClosed is returned by a Writer used after Close.
	ErrClosed = errors.New("recordings: closed")
	// ErrBadArgument means a value outside its documented range: an
	// unsafe call ID, an unknown format.
	ErrBadArgument = errors.New("recordings: bad argument")
	// ErrBadFile means a file is not a WAV file this package can check or
	// repair (not RIFF/WAVE, no data chunk, truncated inside the header).
	ErrBadFile = errors.New("recordings: bad WAV file")
	// ErrInvalidValue means an enumeration's text is not one of its names.
	ErrInvalidValue = errors.New("recordings: invalid value")
)

// Format is the channel layout of a recording. The zero value is unknown.
type Format uint8

// The formats.
const (
	// Stereo: left is the customer (leg A), right the agent (leg B).
	Stereo Format = iota + 1
	// Mono: both parties mixed into one channel, saturating.
	Mono
)

var formatNames = []string{"unknown", "stereo", "mono"}

// String is "stereo", "mono" or "unknown".
func (f Format) String() string { return enum.String(f, "format", formatNames) }

// Channels is 2 for Stereo, 1 for Mono, 0 when unknown.
func (f Format) Channels() int {
	switch f {
	case Stereo:
		return 2
	case Mono:
		return 1
	}
	return 0
}

// MarshalText writes the name.
func (f Format) MarshalText() ([]byte, error) {
	return enum.Marshal(f, "format", formatNames, ErrInvalidValue)
}

// UnmarshalText reads a name; "" is unknown.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	*f = v
	return err
}

// ParseFormat returns the format named s ("stereo" or "mono"; "" is
// unknown).
func ParseFormat(s string) (Format, error) {
	return enum.Parse[Format](s, "format", formatNames, ErrInvalidValue)
}

// State is where a recording is in its life, as the index knows it. The
// zero value is unknown.
type State uint8

// The states.
const (
	// StateRecording: the call is being recorded (or the switch stopped
	// before finishing it, until Recover).
	StateRecording State = iota + 1
	// StateComplete: the writer finished the file.
	StateComplete
	// StateRepaired: a crash cut the recording off; Recover fixed its
	// header from its length at the next start-up.
	StateRepaired
	// StateDeleted: the file was deleted (retention); the row stays as
	// the trace that it existed.
	StateDeleted
)

var stateNames = []string{"unknown", "recording", "complete", "repaired", "deleted"}

// String is the state's snake_case name.
func (s State) String() string { return enum.String(s, "state", stateNames) }

// MarshalText writes the name.
func (s State) MarshalText() ([]byte, error) {
	return enum.Marshal(s, "state", stateNames, ErrInvalidValue)
}

// UnmarshalText reads a name; "" is unknown.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	*s = v
	return err
}

// ParseState returns the state named s; "" is unknown.
func ParseState(s string) (State, error) {
	return enum.Parse[State](s, "state", stateNames, ErrInvalidValue)
}

// Interval is a stretch of a recording's timeline, as offsets from its
// start. In JSON it is [start_ms, end_ms].
type Interval struct {
	Start, End time.Duration
}

// MarshalJSON writes [start_ms, end_ms].
func (iv Interval) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]int64{iv.Start.Milliseconds(), iv.End.Milliseconds()})
}

// UnmarshalJSON reads [start_ms, end_ms].
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var v [2]int64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("recordings: interval: %w", err)
	}
	iv.Start, iv.End = time.Duration(v[0])*time.Millisecond, time.Duration(v[1])*time.Millisecond
	return nil
}

// Record is a recording as the index (the recordings table) holds it.
type Record struct {
	ID     int64  // the row's ID, set by the index
	CallID string // the contact's ID (call.ID)
	Queue  string // the queue the call was recorded for, "" if none
	Caller string // the customer's number (or extension)
	Callee string // the number dialled
	Agent  string // the agent who took the call, "" if none
	Path   string // the WAV file, absolute
	Format Format
	State  State
	Start  time.Time // the timeline's start (first frame slot)
	End    time.Time // zero while recording
	// Duration is the audio in the file, paused time included.
	Duration time.Duration
	// Bytes is the file's size, header included.
	Bytes int64
	// Paused are the intervals written as silence by Pause.
	Paused []Interval
	// Dropped frames did not fit the writer's queue (a slow disk); Lost
	// frames the taps dropped or that came too late to place. Both were
	// written as silence, so the timeline stays true.
	Dropped, Lost int64
	// Deleted is when the sweeper deleted the file; zero if it has not.
	Deleted time.Time
}

// Finish copies a finished writer's result into r and marks it complete,
// ready for the index's FinishRecording.
func (r *Record) Finish(res Result) {
	r.End, r.Duration, r.Bytes = res.End, res.Duration, res.Bytes
	r.Paused, r.Dropped, r.Lost = res.Paused, res.Dropped, res.Lost
	r.State = StateComplete
}
