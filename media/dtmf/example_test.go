package dtmf_test

import (
	"fmt"
	"time"

	"github.com/switchd/switchd/media/dtmf"
)

// A leg sends digit 5 on its own RTP stream: the event packets take the
// place of the voice packets, and the voice resumes with the sequence
// number and timestamp the burst says.
func ExampleSender4733() {
	s := dtmf.NewSender4733(101, 0x11223344) // telephone-event/8000 at PT 101, 20 ms ptime
	seq, ts := uint16(500), uint32(80000)    // what the next voice packet would carry
	burst, err := s.Digit('5', 100*time.Millisecond, seq, ts)
	if err != nil {
		panic(err)
	}
	for _, p := range burst.Packets {
		fmt.Printf("+%v seq=%d ts=%d marker=%v end=%v duration=%d\n",
			p.Offset, p.Header.SequenceNumber, p.Header.Timestamp, p.Header.Marker, p.End(), p.Duration())
	}
	fmt.Printf("voice resumes: seq=%d ts=%d\n", burst.NextSequence, burst.NextTimestamp)
	// Output:
	// +0s seq=500 ts=80000 marker=true end=false duration=160
	// +20ms seq=501 ts=80000 marker=false end=false duration=320
	// +40ms seq=502 ts=80000 marker=false end=false duration=480
	// +60ms seq=503 ts=80000 marker=false end=false duration=640
	// +80ms seq=504 ts=80000 marker=false end=true duration=800
	// +100ms seq=505 ts=80000 marker=false end=true duration=800
	// +120ms seq=506 ts=80000 marker=false end=true duration=800
	// voice resumes: seq=507 ts=81120
}

// The reader of a leg's RTP passes telephone-event packets to a
// Receiver4733 and calls Tick now and then; digits from every source go
// through a Merger.
func ExampleReceiver4733() {
	r := dtmf.NewReceiver4733()
	m := dtmf.NewMerger()
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	packets := []struct {
		ms      int
		payload []byte
	}{
		{20, []byte{7, 0x0a, 0x00, 0xa0}}, // 7, volume 10, 160 samples
		{40, []byte{7, 0x0a, 0x01, 0x40}},
		{60, []byte{7, 0x8a, 0x01, 0xe0}}, // end, 480 samples
		{80, []byte{7, 0x8a, 0x01, 0xe0}},
		{100, []byte{7, 0x8a, 0x01, 0xe0}},
	}
	for _, p := range packets {
		now := start.Add(time.Duration(p.ms) * time.Millisecond)
		if e, ok := r.Packet(16000, p.ms == 20, p.payload, now); ok {
			if e, ok := m.Add(e); ok {
				fmt.Println("digit", e)
			}
		}
	}
	// The same key press, detected in the audio too, is dropped.
	inband := dtmf.Event{Digit: '7', Duration: 50 * time.Millisecond, Source: dtmf.SourceInBand, At: start.Add(5 * time.Millisecond)}
	if _, ok := m.Add(inband); !ok {
		fmt.Println("in-band duplicate dropped")
	}
	// Output:
	// digit 7 (rfc4733, 60ms)
	// in-band duplicate dropped
}

func ExampleParseInfo() {
	e, err := dtmf.ParseInfo("application/dtmf-relay", []byte("Signal=#\r\nDuration=250\r\n"), time.Time{})
	fmt.Println(e, err)
	// Output:
	// # (sip-info, 250ms) <nil>
}
