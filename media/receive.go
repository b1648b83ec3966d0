package media

import (
	"time"

	"github.com/pion/rtcp"
)

// Sequence number validation constants of RFC 3550 §A.1.
const (
	maxDropout    = 3000
	maxMisorder   = 100
	minSequential = 2
	seqMod        = 1 << 16
)

// receiver holds the reception statistics of one leg: the per-source
// state of RFC 3550 §A.1 (sequence numbers), §A.3 (loss) and §A.8
// (interarrival jitter), plus plain counters. It is updated by the
// session's reader for every accepted packet and read by the engine's
// ticker and Stats, under Session.rxMu.
type receiver struct {
	packets, bytes uint64 // every accepted packet, all sources

	started   bool
	ssrc      uint32
	maxSeq    uint16
	cycles    uint32 // count of sequence number wraps, shifted (×2^16)
	baseSeq   uint32
	badSeq    uint32
	probation int
	received  uint32 // packets of this source counted by §A.1

	expectedPrior, receivedPrior uint32 // at the last report (§A.3)
	lostBefore                   int64  // cumulative loss of earlier sources

	rate       uint32 // clock rate the transit times are in; 0: none yet
	transit    uint32
	hasTransit bool
	jitter     uint32 // ×16, as in §A.8
}

// update accounts one accepted packet of size n. rate is the clock rate
// of its payload type (0: not a sampled medium, left out of the jitter);
// since is the packet's arrival time relative to the session's start.
func (r *receiver) update(p *rtpInfo, n int, rate uint32, since time.Duration) {
	r.packets++
	r.bytes += uint64(n)
	if !r.started || p.ssrc != r.ssrc {
		// A new source (or the first): §A.1 starts it on probation.
		if r.started {
			r.lostBefore += r.lost()
		}
		*r = receiver{packets: r.packets, bytes: r.bytes, lostBefore: r.lostBefore,
			started: true, ssrc: p.ssrc, probation: minSequential, maxSeq: p.seq - 1}
	}
	r.updateSeq(p.seq)
	if rate == 0 {
		return
	}
	// §A.8: transit time in timestamp units, its variation smoothed by 1/16.
	arrival := uint32(uint64(since) * uint64(rate) / uint64(time.Second))
	transit := arrival - p.ts
	if rate != r.rate || !r.hasTransit {
		r.rate, r.transit, r.hasTransit = rate, transit, true
		return
	}
	d := int32(transit - r.transit)
	r.transit = transit
	if d < 0 {
		d = -d
	}
	r.jitter += uint32(d) - ((r.jitter + 8) >> 4)
}

func (r *receiver) initSeq(seq uint16) {
	r.baseSeq = uint32(seq)
	r.maxSeq = seq
	r.badSeq = seqMod + 1
	r.cycles = 0
	r.received = 0
	r.receivedPrior = 0
	r.expectedPrior = 0
}

// updateSeq is update_seq of RFC 3550 §A.1.
func (r *receiver) updateSeq(seq uint16) {
	udelta := seq - r.maxSeq
	switch {
	case r.probation > 0:
		if seq == r.maxSeq+1 {
			r.probation--
			r.maxSeq = seq
			if r.probation == 0 {
				r.initSeq(seq)
				r.received++
			}
		} else {
			r.probation = minSequential - 1
			r.maxSeq = seq
		}
		return
	case udelta < maxDropout:
		if seq < r.maxSeq {
			r.cycles += seqMod // wrapped
		}
		r.maxSeq = seq
	case int(udelta) <= seqMod-maxMisorder:
		// A very large jump: restart if the next packet follows it.
		if uint32(seq) != r.badSeq {
			r.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return
		}
		r.initSeq(seq)
	default:
		// duplicate or reordered packet
	}
	r.received++
}

// extendedMax is the highest sequence number received, with its cycles.
func (r *receiver) extendedMax() uint32 { return r.cycles + uint32(r.maxSeq) }

// lost is the cumulative number of packets lost of the current source
// (§A.3); negative with duplicates. 0 while the source is on probation.
func (r *receiver) lost() int64 {
	if !r.started || r.probation > 0 {
		return 0
	}
	expected := int64(r.extendedMax()) - int64(r.baseSeq) + 1
	return expected - int64(r.received)
}

// jitterMs is the interarrival jitter in milliseconds.
func (r *receiver) jitterMs() float64 {
	if r.rate == 0 {
		return 0
	}
	return float64(r.jitter>>4) * 1000 / float64(r.rate)
}

// report builds the reception report block about the current source and
// starts a new report interval (§6.4.1, §A.3); false when no source has
// been validated yet. lsr and dlsr describe the source's last SR.
func (r *receiver) report(lsr, dlsr uint32) (rtcp.ReceptionReport, bool) {
	if !r.started || r.probation > 0 {
		return rtcp.ReceptionReport{}, false
	}
	expected := r.extendedMax() - r.baseSeq + 1
	lost := int64(expected) - int64(r.received)
	expectedInterval := expected - r.expectedPrior
	r.expectedPrior = expected
	receivedInterval := r.received - r.receivedPrior
	r.receivedPrior = r.received
	var fraction uint8
	if lostInterval := int64(expectedInterval) - int64(receivedInterval); expectedInterval != 0 && lostInterval > 0 {
		fraction = uint8(min((lostInterval<<8)/int64(expectedInterval), 255))
	}
	// The cumulative loss is a signed 24-bit field; clamp it.
	lost = min(max(lost, -0x800000), 0x7fffff)
	return rtcp.ReceptionReport{
		SSRC:               r.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xffffff,
		LastSequenceNumber: r.extendedMax(),
		Jitter:             r.jitter >> 4,
		LastSenderReport:   lsr,
		Delay:              dlsr,
	}, true
}
