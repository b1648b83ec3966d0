package sdp

import (
	"fmt"
	"strings"
)

// Negotiate picks the codecs of an answer (RFC 3264 §6.1) from the codecs an
// offer lists for an audio stream and the ones we support, in our order of
// preference. The result is every supported codec the offer also has
// (matched with Codec.Same), speech codecs first in our order, then
// telephone-event (RFC 4733) and comfort noise when both sides have them.
// Each keeps the offer's payload type and name spelling (RFC 3264 §6.1: a
// codec referenced with a given number in the offer uses it in the answer)
// and our fmtp, which states what we accept. When the offer lists an
// encoding twice, the first entry is used. It returns an error wrapping
// ErrNoCommonCodec, for a 488 answer, when no speech codec is common.
func Negotiate(offered, supported []Codec) ([]Codec, error) {
	var out []Codec
	used := map[uint8]bool{}
	speech := false
	for _, aux := range []bool{false, true} {
		for _, ours := range supported {
			if ours.isAuxiliary() != aux {
				continue
			}
			for _, off := range offered {
				if used[off.PayloadType] || !ours.Same(off) {
					continue
				}
				c := ours
				c.PayloadType, c.Name, c.Channels = off.PayloadType, off.Name, off.Channels
				out = append(out, c)
				used[off.PayloadType] = true
				speech = speech || !aux
				break
			}
		}
	}
	if !speech {
		return nil, fmt.Errorf("%w: offered %s, supported %s", ErrNoCommonCodec, codecList(offered), codecList(supported))
	}
	return out, nil
}

func codecList(cs []Codec) string {
	if len(cs) == 0 {
		return "none"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.String()
	}
	return strings.Join(names, " ")
}

// Answer builds switchd's answer to an offer (RFC 3264 §6): the same number
// of m= lines in the same order, the first Anchorable stream (audio over
// RTP/AVP, port not 0) that has a common codec answered with local's address, port
// and the codecs of Negotiate (local.Codecs plus local.TelephoneEvent being
// what we support), and its direction from AnswerDirection applied to the
// offer's EffectiveDirection; every other stream (video, further audio,
// SRTP/WebRTC profiles) is rejected with Media.Rejected. It returns an error
// wrapping ErrNoAudio or ErrNoCommonCodec when no stream can be accepted
// (answer 488), or Build's error when local is invalid.
func Answer(offer *Session, local Local) (*Session, error) {
	supported := local.codecs()
	chosen, codecs := -1, []Codec(nil)
	var firstErr error
	for i, m := range offer.Media {
		if !m.Anchorable() {
			continue
		}
		cs, err := Negotiate(m.Codecs(), supported)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		chosen, codecs = i, cs
		break
	}
	if chosen < 0 {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, fmt.Errorf("%w: none of %d m= lines is active audio over RTP/AVP", ErrNoAudio, len(offer.Media))
	}
	om := offer.Media[chosen]
	local.Codecs, local.TelephoneEvent = codecs, 0
	local.Direction = AnswerDirection(offer.EffectiveDirection(om), local.Direction)
	ans, err := Build(local)
	if err != nil {
		return nil, err
	}
	audio := ans.Media[0]
	audio.Proto = om.Proto
	ans.Media = ans.Media[:0]
	for i, m := range offer.Media {
		if i == chosen {
			ans.Media = append(ans.Media, audio)
		} else {
			ans.Media = append(ans.Media, m.Rejected())
		}
	}
	return ans, nil
}

// Rejected returns the m= section that rejects m in an answer (RFC 3264 §6):
// same media type and transport, port 0, no attributes. Only the first
// format is kept (a rejected stream still lists one), which keeps answers to
// large WebRTC or video offers small.
func (m *Media) Rejected() *Media {
	r := &Media{Type: m.Type, Proto: m.Proto}
	if len(m.Formats) > 0 {
		r.Formats = []string{m.Formats[0]}
	}
	return r
}
