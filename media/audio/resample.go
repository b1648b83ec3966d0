package audio

import "fmt"

// Resampler converts a stream of mono samples from one rate to another
// with a windowed-sinc low-pass FIR (see resample_filter.go): for
// conversion to 8000 Hz the passband reaches 3.4 kHz, the −6 dB point is
// 3.7 kHz and everything from 4 kHz up is attenuated by at least 70 dB,
// so nothing aliases audibly into the telephone band.
//
// Output sample n is the input evaluated at time n·from/to (in input
// samples), so the output is aligned with the input, not delayed: Process
// holds back the last half filter length of input until more arrives,
// and Flush drains it at the end of the stream. Equal rates pass samples
// through unchanged. A Resampler is not safe for concurrent use.
type Resampler struct {
	from, to int
	l, m     int64      // to/g and from/g: output n is at input n·m/l
	f        *firFilter // nil when from == to
	buf      []float32  // input from absolute index base on
	base     int64
	ipos     int64 // next output is at input ipos + phase/l
	phase    int64
	nIn      int64 // input samples since the start
}

// NewResampler returns a Resampler from rate from to rate to, in Hz. It
// panics if a rate is not positive; check rates from outside input
// first (ReadWAV accepts MinWAVRate to MaxWAVRate).
func NewResampler(from, to int) *Resampler {
	if from <= 0 || to <= 0 {
		panic(fmt.Sprintf("audio: NewResampler(%d, %d): rates must be positive", from, to))
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, l: int64(to / g), m: int64(from / g)}
	if from != to {
		r.f = designFilter(from, to, r.l)
	}
	r.Reset()
	return r
}

// From returns the input rate in Hz.
func (r *Resampler) From() int { return r.from }

// To returns the output rate in Hz.
func (r *Resampler) To() int { return r.to }

// Delay returns how many input samples Process holds back before the
// output they influence is complete: half the filter length.
func (r *Resampler) Delay() int {
	if r.f == nil {
		return 0
	}
	return r.f.half
}

// Reset discards the stream and starts a new one.
func (r *Resampler) Reset() {
	r.ipos, r.phase, r.nIn = 0, 0, 0
	r.buf = r.buf[:0]
	r.base = 0
	if r.f != nil {
		// The input before the stream is silence.
		for range r.f.half - 1 {
			r.buf = append(r.buf, 0)
		}
		r.base = -int64(r.f.half - 1)
	}
}

// Process consumes in, appends every output sample it can complete to
// out and returns the extended slice. It allocates only to grow its
// history (once for a steady input size) and out.
func (r *Resampler) Process(in, out []int16) []int16 {
	r.nIn += int64(len(in))
	if r.f == nil {
		return append(out, in...)
	}
	for _, s := range in {
		r.buf = append(r.buf, float32(s))
	}
	out = r.run(out, r.base+int64(len(r.buf)), r.nIn)
	r.compact()
	return out
}

// Flush appends the outputs still held back (the end of the stream as
// if followed by silence) to out, returns the extended slice and resets
// the Resampler for a new stream. The total output of a stream of n
// input samples is ⌈n·to/from⌉ samples.
func (r *Resampler) Flush(out []int16) []int16 {
	if r.f != nil {
		for range r.f.half {
			r.buf = append(r.buf, 0)
		}
		out = r.run(out, r.base+int64(len(r.buf)), r.nIn)
	}
	r.Reset()
	return out
}

// run appends the outputs whose filter window ends before input index
// avail and whose position is before end.
func (r *Resampler) run(out []int16, avail, end int64) []int16 {
	f := r.f
	k := len(f.taps) / f.rows
	for r.ipos+int64(f.half) < avail && r.ipos < end {
		start := r.ipos - int64(f.half) + 1 - r.base
		x := r.buf[start : start+int64(k)]
		var v float32
		if f.exact {
			v = dot(x, f.row(int(r.phase)))
		} else {
			pos := float64(r.phase) * float64(f.rows-1) / float64(r.l)
			j := int(pos)
			w := float32(pos - float64(j))
			a := dot(x, f.row(j))
			v = a + float32(w*(dot(x, f.row(j+1))-a))
		}
		out = append(out, clamp16f(v))
		r.phase += r.m
		r.ipos += r.phase / r.l
		r.phase %= r.l
	}
	return out
}

// compact drops input no future output needs.
func (r *Resampler) compact() {
	drop := r.ipos - int64(r.f.half) + 1 - r.base
	if drop <= 0 {
		return
	}
	drop = min(drop, int64(len(r.buf)))
	n := copy(r.buf, r.buf[drop:])
	r.buf = r.buf[:n]
	r.base += drop
}

// Resample converts a whole signal from rate from to rate to and returns
// a new slice of ⌈len(in)·to/from⌉ samples aligned with in (see
// Resampler). Equal rates return a copy of in. Rates must be positive,
// as for NewResampler.
func Resample(in []int16, from, to int) []int16 {
	r := NewResampler(from, to)
	out := make([]int16, 0, int(int64(len(in))*int64(to)/int64(from))+1)
	out = r.Process(in, out)
	return r.Flush(out)
}

// dot returns the dot product of x and h (len(x) == len(h)). The
// explicit conversions round each product, so that no platform fuses
// them into multiply-adds (Go spec, "Floating-point operators") and the
// output is the same everywhere.
func dot(x, h []float32) float32 {
	h = h[:len(x)]
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a0 += float32(x[i] * h[i])
		a1 += float32(x[i+1] * h[i+1])
		a2 += float32(x[i+2] * h[i+2])
		a3 += float32(x[i+3] * h[i+3])
	}
	for ; i < len(x); i++ {
		a0 += float32(x[i] * h[i])
	}
	return (a0 + a1) + (a2 + a3)
}

// clamp16f rounds v to the nearest int16, saturating.
func clamp16f(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	}
	return int16(v - 0.5)
}

// gcd is Euclid's greatest common divisor of positive a and b.
func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
