package media

import "fmt"

// RelayConfig says how a Relay treats each direction's packets. The zero
// value relays everything unchanged both ways (the legs negotiated the
// same payload types).
type RelayConfig struct {
	// AToB applies to packets from leg A's phone to leg B's phone.
	AToB DirectionConfig
	// BToA applies to packets from leg B's phone to leg A's phone.
	BToA DirectionConfig
}

// DirectionConfig maps the payload types of one direction. Packets whose
// payload type is mapped to itself are relayed untouched (no decoding);
// a mapping to another payload type of the same format rewrites the
// payload type only (e.g. telephone-event 101 on one leg and 96 on the
// other, RFC 4733 §2.1: the event payload is untouched); a mapping between
// PCMU and PCMA also converts the payload. Sequence numbers, timestamps
// and SSRC are always forwarded as they are, so the far phone sees one
// continuous stream (RFC 3550 §5.1).
type DirectionConfig struct {
	// Map lists the payload types of the source leg and what they become
	// on the destination leg; each source payload type at most once.
	Map []PayloadMap
	// DropUnmapped drops packets whose payload type is not in Map;
	// otherwise they are relayed unchanged.
	DropUnmapped bool
}

// PayloadMap maps one payload format of the source leg to the
// destination leg.
type PayloadMap struct {
	From, To Codec
}

// NewRelayConfig plans the relay between two legs from the codecs each
// negotiated (the B2BUA's offer/answer results; each list in preference
// order). Per direction, every source codec goes to the same format on
// the other leg (payload type rewritten if it differs), else PCMU↔PCMA is
// transcoded; anything else is dropped, as are payload types neither leg
// negotiated. ErrNoCommonCodec when audio cannot pass in some direction.
// Telephone-event passes only when both legs negotiated it; when one leg
// lacks it, in-band DTMF detection is the caller's business. Give each
// session its list too (Session.SetCodecs) for the clock rates of dynamic
// payload types.
func NewRelayConfig(a, b []Codec) (RelayConfig, error) {
	ab, err := planDirection(a, b)
	if err != nil {
		return RelayConfig{}, fmt.Errorf("leg A to leg B: %w", err)
	}
	ba, err := planDirection(b, a)
	if err != nil {
		return RelayConfig{}, fmt.Errorf("leg B to leg A: %w", err)
	}
	return RelayConfig{AToB: ab, BToA: ba}, nil
}

func planDirection(src, dst []Codec) (DirectionConfig, error) {
	d := DirectionConfig{DropUnmapped: true}
	audio := false
	for _, from := range src {
		to, ok := findFormat(dst, from)
		if !ok && !from.IsTelephoneEvent() {
			for _, c := range dst {
				if _, err := transcodingFor(from, c); err == nil {
					to, ok = c, true
					break
				}
			}
		}
		if !ok {
			continue
		}
		d.Map = append(d.Map, PayloadMap{From: from, To: to})
		audio = audio || !from.IsTelephoneEvent()
	}
	if !audio {
		return DirectionConfig{}, fmt.Errorf("%w: %v and %v", ErrNoCommonCodec, src, dst)
	}
	return d, nil
}

func findFormat(codecs []Codec, f Codec) (Codec, bool) {
	for _, c := range codecs {
		if c.SameFormat(f) {
			return c, true
		}
	}
	return Codec{}, false
}

// action is what a relay direction does with one source payload type.
type action struct {
	drop bool
	pt   uint8 // payload type on the destination leg
	tc   transcoding
}

// actionTable is a direction's per-payload-type plan, indexed by the
// source payload type: one array lookup per packet.
type actionTable [128]action

// compile checks d and turns it into an action table.
func (d DirectionConfig) compile() (*actionTable, error) {
	t := new(actionTable)
	for pt := range t {
		t[pt] = action{drop: d.DropUnmapped, pt: uint8(pt)}
	}
	seen := map[uint8]bool{}
	for _, m := range d.Map {
		if m.From.PayloadType > 127 || m.To.PayloadType > 127 {
			return nil, fmt.Errorf("%w: payload type above 127 in %s to %s", ErrCodec, m.From, m.To)
		}
		if seen[m.From.PayloadType] {
			return nil, fmt.Errorf("%w: payload type %d mapped twice", ErrCodec, m.From.PayloadType)
		}
		seen[m.From.PayloadType] = true
		tc, err := transcodingFor(m.From, m.To)
		if err != nil {
			return nil, err
		}
		t[m.From.PayloadType] = action{pt: m.To.PayloadType, tc: tc}
	}
	return t, nil
}
