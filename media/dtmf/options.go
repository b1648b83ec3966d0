package dtmf

import "time"

// Defaults of the RFC 4733 sender and receiver.
const (
	// DefaultClockRate is the RTP clock of telephone-event/8000, the rate
	// nearly every phone negotiates (RFC 4733 §2.5.1.1).
	DefaultClockRate = 8000
	// DefaultEndTimeout is how long Receiver4733 waits for a packet of an
	// event before reporting it without its end packet. Senders update an
	// event every packet time, 20–50 ms in practice (RFC 4733 §2.5.1.2),
	// so 500 ms without a packet means the end packets were lost.
	DefaultEndTimeout = 500 * time.Millisecond
	// DefaultPtime is the interval of Sender4733's packets.
	DefaultPtime = 20 * time.Millisecond
	// DefaultVolume is the volume field Sender4733 puts in its packets:
	// the power of the tone in −dBm0 (RFC 4733 §2.3.4), so 10 means
	// −10 dBm0, a usual DTMF level.
	DefaultVolume = 10
)

// options holds what the Options set; each constructor reads the ones
// that apply to it.
type options struct {
	clockRate  uint32
	endTimeout time.Duration
	ptime      time.Duration
	volume     uint8
	window     time.Duration
}

func defaultOptions() options {
	return options{
		clockRate:  DefaultClockRate,
		endTimeout: DefaultEndTimeout,
		ptime:      DefaultPtime,
		volume:     DefaultVolume,
		window:     DefaultMergeWindow,
	}
}

func applyOptions(opts []Option) options {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Option configures a Receiver4733, a Sender4733 or a Merger. Each says
// which it applies to; the others ignore it.
type Option func(*options)

// WithClockRate sets the RTP clock rate of the telephone-event payload
// type, as negotiated in SDP (telephone-event/8000 by default; WebRTC
// peers may offer /48000). Receiver4733 and Sender4733. Zero is ignored.
func WithClockRate(hz uint32) Option {
	return func(o *options) {
		if hz != 0 {
			o.clockRate = hz
		}
	}
}

// WithEndTimeout sets how long Receiver4733 waits for any packet of an
// event before reporting it without its end packets (DefaultEndTimeout).
// Non-positive values are ignored.
func WithEndTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.endTimeout = d
		}
	}
}

// WithPtime sets the interval between Sender4733's packets, normally the
// leg's ptime (DefaultPtime). Values outside 10–50 ms are clamped to
// that range: shorter floods the path, longer makes the receiver's view
// of a long press lag and leaves fewer packets to survive loss.
func WithPtime(d time.Duration) Option {
	return func(o *options) {
		o.ptime = min(max(d, 10*time.Millisecond), 50*time.Millisecond)
	}
}

// WithVolume sets the volume field of Sender4733's packets, the tone's
// power in −dBm0, 0–63 (DefaultVolume). Larger values are clamped to 63.
func WithVolume(v uint8) Option {
	return func(o *options) { o.volume = min(v, 63) }
}

// WithMergeWindow sets Merger's window (DefaultMergeWindow). Negative
// values are ignored.
func WithMergeWindow(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.window = d
		}
	}
}
