package sip

import (
	"strings"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/dtmf"
)

// In-call feature codes for phones without a transfer key: a party of a
// connected call presses the blind transfer code, a number and # (or
// pauses for featureDigitPause): switchd transfers the other party there,
// as a REFER would. The digits come from the relay (RFC 4733 events);
// they still reach the other party.

// TransferCodes are the in-call codes (B2BUA.TransferCodes).
type TransferCodes struct {
	// Blind precedes the number of a blind transfer, e.g. "##".
	Blind string
}

// featureDigitPause ends a number typed after a code without #.
const featureDigitPause = 3 * time.Second

// sideDigit is a key pressed on one side of a connected call.
type sideDigit struct {
	side legSide
	e    dtmf.Event
}

// featureInput is what one side has typed towards a code.
type featureInput struct {
	buf  string
	last time.Time
}

// watchDigits makes the relay report both sides' key presses to the call
// goroutine while transfer codes are configured.
func (c *b2bCall) watchDigits(r *media.Relay) {
	if c.s.b2b.TransferCodes.Blind == "" {
		return
	}
	on := func(side legSide) func(dtmf.Event) {
		return func(e dtmf.Event) {
			select {
			case c.digitsIn <- sideDigit{side: side, e: e}:
			default: // the call goroutine is busy: a lost key press
			}
		}
	}
	r.WatchDigits(telephoneEventPT(c.media.aCodecs), on(sideCaller), telephoneEventPT(c.media.bCodecs), on(sideCallee))
}

// telephoneEventPT is a leg's telephone-event payload type (0: none).
func telephoneEventPT(cs []media.Codec) uint8 {
	for _, cd := range cs {
		if cd.IsTelephoneEvent() {
			return cd.PayloadType
		}
	}
	return 0
}

// featureDigit takes one key press; done reports that connected must
// return (see onRefer).
func (c *b2bCall) featureDigit(d sideDigit, now time.Time) (call.Cause, call.Side, bool) {
	in := &c.fcode[d.side]
	if now.Sub(in.last) > featureDigitPause {
		in.buf = ""
	}
	in.buf += string(d.e.Digit)
	in.last = now
	code := c.s.b2b.TransferCodes.Blind
	switch {
	case strings.HasPrefix(in.buf, code):
		rest := in.buf[len(code):]
		if strings.HasSuffix(rest, "#") {
			in.buf = ""
			if number := strings.TrimSuffix(rest, "#"); number != "" {
				return c.featureTransfer(d.side, number)
			}
		}
		if len(rest) > 32 {
			in.buf = ""
		}
	case !strings.HasPrefix(code, in.buf):
		// Not a code: keep the longest tail that may start one.
		for in.buf != "" && !strings.HasPrefix(code, in.buf) {
			in.buf = in.buf[1:]
		}
	}
	return call.CauseUnknown, call.SideUnknown, false
}

// featurePause completes a number typed after the code without #, once
// its side has paused.
func (c *b2bCall) featurePause(now time.Time) (call.Cause, call.Side, bool) {
	code := c.s.b2b.TransferCodes.Blind
	for _, side := range []legSide{sideCaller, sideCallee} {
		in := &c.fcode[side]
		if code == "" || in.buf == "" || now.Sub(in.last) < featureDigitPause || !strings.HasPrefix(in.buf, code) {
			continue
		}
		number := in.buf[len(code):]
		in.buf = ""
		if number != "" {
			return c.featureTransfer(side, number)
		}
	}
	return call.CauseUnknown, call.SideUnknown, false
}

// featureTransfer is a blind transfer asked by a code from side: the
// other party goes to number. Only an extension's phone may ask.
func (c *b2bCall) featureTransfer(side legSide, number string) (call.Cause, call.Side, bool) {
	if !c.isExtensionLeg(side) {
		c.log.Info("feature_transfer_refused", "from", side.String(), "target", number)
		return call.CauseUnknown, call.SideUnknown, false
	}
	c.log.Info("feature_transfer", "from", side.String(), "target", number)
	if c.mon != nil {
		c.stopMonitor(true)
	}
	if side == sideCaller {
		c.swapSides()
	}
	return c.blindTransfer(nil, number, transferBlind)
}
