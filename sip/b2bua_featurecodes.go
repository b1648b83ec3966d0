package sip

import (
	"strings"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/dtmf"
)

// In-call feature codes for phones without a transfer key: a party of a
// connected call presses a transfer code, a number and #: switchd
// transfers the other party there, blind as a REFER would, or after a
// consultation (b2bua_consult.go). The # is required (no completion on a
// pause), so that digits typed into a far IVR rarely look like a code;
// keys more than featureDigitPause apart start over. The digits come from the relay (RFC 4733 events);
// they still reach the other party.

// TransferCodes are the in-call codes (B2BUA.TransferCodes).
type TransferCodes struct {
	// Blind precedes the number of a blind transfer, e.g. "##".
	Blind string
	// Attended precedes the number of a consultation that becomes a
	// transfer when the transferor hangs up, e.g. "*2" (b2bua_consult.go).
	Attended string
}

// codes are the configured codes with their kinds.
func (t TransferCodes) codes() []struct{ code, kind string } {
	var out []struct{ code, kind string }
	if t.Blind != "" {
		out = append(out, struct{ code, kind string }{t.Blind, transferBlind})
	}
	if t.Attended != "" {
		out = append(out, struct{ code, kind string }{t.Attended, transferAttended})
	}
	return out
}

// featureDigitPause: a key pressed longer than this after the previous
// one starts a new code.
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
	if len(c.s.b2b.TransferCodes.codes()) == 0 {
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
func telephoneEventPT(cs []media.Codec) uint8 { return endpointFor(cs).TelephoneEvent }

// featureDigit takes one key press; done reports that connected must
// return (see onRefer).
func (c *b2bCall) featureDigit(d sideDigit, now time.Time) (call.Cause, call.Side, bool) {
	in := &c.fcode[d.side]
	if now.Sub(in.last) > featureDigitPause {
		in.buf = ""
	}
	in.buf += string(d.e.Digit)
	in.last = now
	codes := c.s.b2b.TransferCodes.codes()
	for _, fc := range codes {
		if !strings.HasPrefix(in.buf, fc.code) {
			continue
		}
		rest := in.buf[len(fc.code):]
		if strings.HasSuffix(rest, "#") {
			in.buf = ""
			if number := strings.TrimSuffix(rest, "#"); number != "" {
				return c.featureTransfer(d.side, number, fc.kind)
			}
		}
		if len(rest) > 32 {
			in.buf = ""
		}
		return call.CauseUnknown, call.SideUnknown, false
	}
	// Not (yet) a code: keep the longest tail that may start one.
	for in.buf != "" && !prefixOfAny(in.buf, codes) {
		in.buf = in.buf[1:]
	}
	return call.CauseUnknown, call.SideUnknown, false
}

func prefixOfAny(s string, codes []struct{ code, kind string }) bool {
	for _, fc := range codes {
		if strings.HasPrefix(fc.code, s) {
			return true
		}
	}
	return false
}

// featureTransfer is a transfer asked by a code from side: the other
// party goes to number, blind or after a consultation. Only an
// extension's phone may ask.
func (c *b2bCall) featureTransfer(side legSide, number, kind string) (call.Cause, call.Side, bool) {
	if !c.isExtensionLeg(side) {
		c.log.Info("feature_transfer_refused", "from", side.String(), "target", number)
		return call.CauseUnknown, call.SideUnknown, false
	}
	c.log.Info("feature_transfer", "kind", kind, "from", side.String(), "target", number)
	c.beginTransfer(side)
	if kind == transferAttended {
		return c.consultTransfer(number)
	}
	return c.blindTransfer(nil, number, transferBlind)
}
