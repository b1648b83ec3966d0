package media

import (
	"github.com/switchd/switchd/media/dtmf"
)

// digitWatch reads the RFC 4733 telephone-events one direction relays.
type digitWatch struct {
	pt uint8 // the source leg's telephone-event payload type
	rx *dtmf.Receiver4733
	on func(dtmf.Event)
}

// WatchDigits makes the relay report the key presses each leg's phone
// sends as RFC 4733 telephone-events (payload types aPT and bPT, 0 for a
// leg without them): onA gets leg A's, onB leg B's, on the relay's
// goroutines (they must not block). The events are still relayed; the
// far phone hears them as before. In-band tones are not detected here.
// It may be called while the relay runs; nil callbacks stop watching.
func (r *Relay) WatchDigits(aPT uint8, onA func(dtmf.Event), bPT uint8, onB func(dtmf.Event)) {
	for i, w := range []struct {
		pt uint8
		on func(dtmf.Event)
	}{{aPT, onA}, {bPT, onB}} {
		if w.on == nil || w.pt == 0 {
			r.dirs[i].digits.Store(nil)
			continue
		}
		r.dirs[i].digits.Store(&digitWatch{pt: w.pt, rx: dtmf.NewReceiver4733(), on: w.on})
	}
}

// digit feeds one telephone-event packet to the direction's watch.
func (d *direction) digit(w *digitWatch, pkt []byte, p *rtpInfo) {
	if e, ok := w.rx.Packet(p.ts, p.marker, pkt[p.payload:p.end], p.at); ok {
		w.on(e)
	}
}
