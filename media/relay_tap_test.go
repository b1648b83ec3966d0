package media

import (
	"math"
	"testing"
	"time"

	"github.com/switchd/switchd/media/audio"
	"github.com/switchd/switchd/media/tap"
)

// TestRelayTaps: with taps set, the relay publishes each leg's audio
// decoded — what A sends as A's In and B's Out, the other way round for
// B — across a PCMA↔PCMU transcoding relay; without listeners nothing is
// decoded.
func TestRelayTaps(t *testing.T) {
	e := newTestEngine(t, 23800, 23899)
	cfg, err := NewRelayConfig([]Codec{PCMA}, []Codec{PCMU})
	if err != nil {
		t.Fatal(err)
	}
	c := newCall(t, e, cfg)
	ta, tb := tap.NewPoint(), tap.NewPoint()
	c.relay.SetTaps(ta, tb)

	pcma, _ := audio.CodecByName("PCMA")
	pcmu, _ := audio.CodecByName("PCMU")
	frameOf := func(freq float64) audio.Frame {
		var f audio.Frame
		for i := range f {
			f[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/8000))
		}
		return f
	}
	// What a decoder makes of the frame sent with codec cd.
	wire := func(cd audio.Codec, f audio.Frame) ([]byte, audio.Frame) {
		payload := cd.Encode(&f, nil)
		var back audio.Frame
		cd.Decode(payload, &back)
		return payload, back
	}

	// No listener: packets pass, nothing decoded.
	aPayload, aHeard := wire(pcma, frameOf(1000))
	c.pa.send(c.a.LocalAddr(), rtpPacket(t, 8, 1, 0, 0xaaaa, true, aPayload))
	if _, _, ok := c.pb.recv(time.Second); !ok {
		t.Fatal("A→B packet not relayed")
	}
	if n := c.relay.dirs[0].tapped.Load(); n != 0 {
		t.Fatalf("%d packets decoded without a listener", n)
	}

	aIn, bOut := ta.Subscribe(4, tap.In), tb.Subscribe(4, tap.Out)
	bIn, aOut := tb.Subscribe(4, tap.In), ta.Subscribe(4, tap.Out)
	defer func() { aIn.Close(); bOut.Close(); bIn.Close(); aOut.Close() }()
	c.pa.send(c.a.LocalAddr(), rtpPacket(t, 8, 2, 160, 0xaaaa, false, aPayload))
	if _, _, ok := c.pb.recv(time.Second); !ok {
		t.Fatal("A→B packet not relayed")
	}
	bPayload, bHeard := wire(pcmu, frameOf(600))
	c.pb.send(c.b.LocalAddr(), rtpPacket(t, 0, 9, 0, 0xbbbb, true, bPayload))
	if _, _, ok := c.pa.recv(time.Second); !ok {
		t.Fatal("B→A packet not relayed")
	}
	for _, x := range []struct {
		what string
		sub  *tap.Subscription
		want audio.Frame
	}{
		{"A's In", aIn, aHeard}, {"B's Out", bOut, aHeard}, {"B's In", bIn, bHeard}, {"A's Out", aOut, bHeard},
	} {
		select {
		case f := <-x.sub.C():
			if f.Audio != x.want {
				t.Fatalf("%s: the frame is not the audio sent", x.what)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s: no frame", x.what)
		}
	}
}
