//go:build linux

// Command confload is the conference load generator of bench/media2.sh:
// it is the media of every participant of one conference room that sipp
// (bench/media2/conf_uac.xml) has dialled into switchd, and checks that
// each participant gets its own mix, on time and without gaps.
//
// All participants share one socket (-addr, the address in their SDP);
// switchd's port for each participant's leg is read from the sipp log
// (-alog, lines "A <port> <call-id>" written at the 200 OK), and what
// switchd sends is told apart by its source port (switchd's RTP is
// symmetric). Participant i sends a continuous tone of its own frequency
// (-fbase + i×-fstep Hz, each at -level dBm0) as 20 ms PCMU packets; it
// should hear every other participant's tone and not its own.
//
// Over a window (-settle after all participants are up, for -window; by
// the kernel's receive time, SO_TIMESTAMPNS) it counts per participant:
// packets received (≈ 50/s), RTP sequence numbers missing, inter-arrival
// gaps over 40 ms (a packet missing or late by a frame), the longest gap,
// the RFC 3550 interarrival jitter, and frames that carry no audio at all
// (RMS under a tenth of one tone: the mix was silence). One second of each
// participant's mix from the middle of the window is analysed by Goertzel
// at every participant's frequency (the mean power of ten 100 ms blocks):
// how many of the others it hears (a tone within 6 dB of its sent level)
// and the level of its own tone (should be absent: the mixer subtracts
// one's own contribution). It also samples
// the CPU time (utime+stime, /proc/PID/stat) of -pid over the window, its
// RSS, the goroutines from -metrics, and its own CPU.
//
// Results: one JSON object to -out, one CSV row per participant to
// -parts, a summary on stderr.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchd/switchd/media/audio"
)

const (
	ptime   = 20 * time.Millisecond
	nSlots  = 20 // 1 ms send slots
	pktLen  = 12 + audio.FrameSamples
	capLen  = audio.SampleRate // 1 s analysed per participant
	capPkts = capLen / audio.FrameSamples
)

var t0 = time.Now()

func now() int64  { return int64(time.Since(t0)) }
func wall() int64 { return time.Now().UnixNano() }

// part is one participant.
type part struct {
	idx    int
	callID string
	dst    netip.AddrPort // switchd's port for its leg
	freq   float64
	tone   *audio.ToneGen
	ssrc   uint32
	seq    uint16
	ts     uint32

	// sender only
	sent, sentWin uint64

	// receiver only
	recvAll, recvWin  uint64
	gotAny            bool
	lastSeq           uint16
	lastArr           int64
	missing, reorder  uint64
	gaps40            uint64
	maxGap            int64
	silent, pcmuOther uint64
	zero              uint64    // silent frames that are digital silence (every sample 0)
	silentAt          []float64 // ms into the window of the first silent frames
	gapAt             []string  // "ms into the window/RTP timestamp step" of the first gaps over 40 ms
	lastTS            uint32
	hasTransit        bool
	transit           int64
	jitter            float64 // ns
	capSeq0           uint16
	capOn, capDone    bool
	capN              int
	capture           [capLen]int16
	arrivals          []int64 // inter-arrival times in the window, ns
}

type gen struct {
	conn    *net.UDPConn
	mu      sync.Mutex
	parts   []*part
	byPort  map[uint16]*part
	slots   [nSlots][]*part
	seen    map[string]bool
	level   float64
	amp     float64
	fbase   float64
	fstep   float64
	ws, we  atomic.Int64
	mid     atomic.Int64
	foreign atomic.Uint64
	sendErr atomic.Uint64
	rtcp    atomic.Uint64
}

func (g *gen) add(callID string, port int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen[callID] {
		return
	}
	g.seen[callID] = true
	i := len(g.parts)
	p := &part{idx: i, callID: callID, dst: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
		freq: g.fbase + g.fstep*float64(i), ssrc: 0x50000000 | uint32(i), seq: uint16(i * 7919), ts: uint32(i) * 100003}
	p.tone = audio.NewTone(audio.ToneSpec{Freqs: []float64{p.freq}, Level: g.level})
	g.parts = append(g.parts, p)
	g.byPort[uint16(port)] = p
	slot := int(now()/int64(time.Millisecond)) % nSlots
	g.slots[slot] = append(g.slots[slot], p)
}

// sendLoop sends each participant's packet in its 1 ms slot of every 20 ms.
func (g *gen) sendLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, pktLen)
	var fr audio.Frame
	k := now()/int64(time.Millisecond) + 1
	var batch []*part
	for {
		select {
		case <-stop:
			return
		default:
		}
		due := k * int64(time.Millisecond)
		if n := now(); due > n {
			time.Sleep(time.Duration(due - n))
			continue
		}
		g.mu.Lock()
		batch = append(batch[:0], g.slots[k%nSlots]...)
		g.mu.Unlock()
		st := wall()
		ws, we := g.ws.Load(), g.we.Load()
		for _, p := range batch {
			p.tone.Next(&fr)
			buf[0] = 0x80
			buf[1] = 0 // PCMU
			if p.sent == 0 {
				buf[1] |= 0x80
			}
			binary.BigEndian.PutUint16(buf[2:], p.seq)
			binary.BigEndian.PutUint32(buf[4:], p.ts)
			binary.BigEndian.PutUint32(buf[8:], p.ssrc)
			audio.PCMU.Encode(&fr, buf[12:12])
			if _, err := g.conn.WriteToUDPAddrPort(buf, p.dst); err != nil {
				g.sendErr.Add(1)
			}
			p.seq++
			p.ts += audio.FrameSamples
			p.sent++
			if st >= ws && st < we {
				p.sentWin++
			}
		}
		k++
	}
}

// recvLoop reads switchd's packets to every participant.
func (g *gen) recvLoop(done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	var fr audio.Frame
	for {
		n, oobn, _, src, err := g.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return
		}
		arr := stamp(oob[:oobn])
		g.mu.Lock()
		p := g.byPort[src.Port()]
		g.mu.Unlock()
		if p == nil || n < 12 || buf[0]>>6 != 2 {
			g.foreign.Add(1)
			continue
		}
		pt := buf[1] & 0x7f
		if pt != 0 && pt != 8 {
			p.pcmuOther++ // telephone-event or comfort noise: not audio frames
			continue
		}
		seq := binary.BigEndian.Uint16(buf[2:])
		ts := binary.BigEndian.Uint32(buf[4:])
		p.recvAll++
		inWin := arr >= g.ws.Load() && arr < g.we.Load()
		if p.gotAny {
			d := int16(seq - p.lastSeq)
			switch {
			case d <= 0:
				p.reorder++
				continue
			case d > 1 && inWin:
				p.missing += uint64(d - 1)
			}
		}
		prevArr, prevTS := p.lastArr, p.lastTS
		p.gotAny, p.lastSeq, p.lastArr, p.lastTS = true, seq, arr, ts
		if !inWin {
			continue
		}
		p.recvWin++
		if prevArr != 0 && prevArr >= g.ws.Load() {
			gap := arr - prevArr
			p.arrivals = append(p.arrivals, gap)
			p.maxGap = max(p.maxGap, gap)
			if gap > int64(40*time.Millisecond) {
				p.gaps40++
				if len(p.gapAt) < 20 {
					p.gapAt = append(p.gapAt, fmt.Sprintf("%.0f/%d", float64(arr-g.ws.Load())/1e6, ts-prevTS))
				}
			}
		}
		// RFC 3550 §A.8 jitter of arrival against the RTP timestamp
		transit := arr - int64(ts)*int64(time.Second)/audio.SampleRate
		if p.hasTransit {
			d := math.Abs(float64(transit - p.transit))
			p.jitter += (d - p.jitter) / 16
		}
		p.transit, p.hasTransit = transit, true
		codec := audio.PCMU
		if pt == 8 {
			codec = audio.PCMA
		}
		codec.Decode(buf[12:n], &fr)
		var e float64
		for _, s := range fr {
			e += float64(s) * float64(s)
		}
		if math.Sqrt(e/audio.FrameSamples) < 0.1*g.amp/math.Sqrt2 {
			p.silent++
			if e == 0 {
				p.zero++
			}
			if len(p.silentAt) < 20 {
				p.silentAt = append(p.silentAt, float64(arr-g.ws.Load())/1e6)
			}
		}
		if !p.capDone {
			if !p.capOn && arr >= g.mid.Load() {
				p.capOn, p.capSeq0 = true, seq
			}
			if p.capOn {
				if i := int(uint16(seq - p.capSeq0)); i < capPkts {
					copy(p.capture[i*audio.FrameSamples:], fr[:])
					p.capN++
				} else {
					p.capDone = true
				}
			}
		}
	}
}

// stamp is the kernel receive time of a datagram (SO_TIMESTAMPNS), or now.
func stamp(oob []byte) int64 {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= 16 {
				sec := int64(binary.NativeEndian.Uint64(m.Data[0:]))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
				return sec*1e9 + nsec
			}
		}
	}
	return wall()
}

func drain(c *net.UDPConn, cnt *atomic.Uint64) {
	buf := make([]byte, 2048)
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			return
		}
		cnt.Add(1)
	}
}

// tail follows the sipp log and adds a participant per new "A <port> <call-id>".
func (g *gen) tail(path string, stop <-chan struct{}) {
	var f *os.File
	var rd *bufio.Reader
	var partial string
	for {
		select {
		case <-stop:
			if f != nil {
				f.Close()
			}
			return
		default:
		}
		if f == nil {
			var err error
			if f, err = os.Open(path); err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			rd = bufio.NewReader(f)
		}
		line, err := rd.ReadString('\n')
		if err == io.EOF {
			partial += line
			time.Sleep(10 * time.Millisecond)
			continue
		}
		line, partial = partial+line, ""
		fs := strings.Fields(line)
		if len(fs) < 3 || fs[0] != "A" {
			continue
		}
		port, err := strconv.Atoi(fs[1])
		if err != nil || port <= 0 || port > 65535 {
			continue
		}
		g.add(fs[2], port)
	}
}

// --- measurements (as bench/calls/rtpload) -----------------------------

func procTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func procStatus(pid int, key string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key+":") {
			v, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return v
		}
	}
	return 0
}

// udpDrops sums the drop counters of the UDP sockets on local ports [lo,hi].
func udpDrops(lo, hi int) uint64 {
	b, _ := os.ReadFile("/proc/net/udp")
	var out uint64
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 13 {
			continue
		}
		_, ps, _ := strings.Cut(f[1], ":")
		p, _ := strconv.ParseInt(ps, 16, 32)
		if int(p) < lo || int(p) > hi {
			continue
		}
		d, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
		out += d
	}
	return out
}

func scrape(url string, names ...string) map[string]float64 {
	out := map[string]float64{}
	if url == "" {
		return out
	}
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return out
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if ok && slices.Contains(names, name) {
			out[name], _ = strconv.ParseFloat(val, 64)
		}
	}
	return out
}

func listen(ap netip.AddrPort, stamps bool) *net.UDPConn {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		log.Fatal(err)
	}
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 4<<20)
			if stamps {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
			}
		})
	}
	return c
}

// blockLen is the Goertzel block of the hearing check: 100 ms, a whole
// number of periods of every participant's tone (multiples of 10 Hz with
// the default -fbase/-fstep) and 10 Hz wide, well inside the 60 Hz between
// tones.
const blockLen = audio.SampleRate / 10

// blockPower is the mean power at freq over the 100 ms blocks of s, each
// block's Goertzel taken on its own (non-coherent), so that a 20 ms shift
// of a speaker's audio (a frame dropped or repeated on its way through the
// mixer) costs one block, not the phase coherence of the whole second.
func blockPower(s []int16, freq float64) float64 {
	var sum float64
	n := 0
	for i := 0; i+blockLen <= len(s); i += blockLen {
		sum += audio.Goertzel(s[i:i+blockLen], freq)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// Result is what one run measured.
type Result struct {
	Participants  int     `json:"participants"`
	Learned       int     `json:"learned"`
	WindowS       float64 `json:"window_s"`
	SentWin       uint64  `json:"sent_win"`
	RecvWin       uint64  `json:"recv_win"`
	PPSMin        float64 `json:"pps_min"`
	PPSMedian     float64 `json:"pps_median"`
	PPSMax        float64 `json:"pps_max"`
	PartsNoMix    int     `json:"parts_no_mix"` // received nothing in the window
	MissingSeq    uint64  `json:"missing_seq"`
	PartsMissing  int     `json:"parts_missing"`
	Reordered     uint64  `json:"reordered"`
	Gaps40        uint64  `json:"gaps_over_40ms"`
	PartsGaps     int     `json:"parts_gaps"`
	MaxGapMs      float64 `json:"max_gap_ms"`
	IAP50Ms       float64 `json:"interarrival_p50_ms"`
	IAP99Ms       float64 `json:"interarrival_p99_ms"`
	IAP999Ms      float64 `json:"interarrival_p999_ms"`
	JitterMeanMs  float64 `json:"jitter_mean_ms"`
	JitterMaxMs   float64 `json:"jitter_max_ms"`
	SilentFrames  uint64  `json:"silent_frames"`
	ZeroFrames    uint64  `json:"zero_frames"` // of which digital silence
	PartsSilent   int     `json:"parts_silent"`
	HeardMin      int     `json:"heard_min"`      // others heard, the worst participant
	HeardAll      int     `json:"parts_hear_all"` // participants hearing all n−1 others
	OwnMaxDB      float64 `json:"own_max_db"`     // own tone in own mix, dB relative to the sent level (worst)
	CaptureShort  int     `json:"capture_short"`  // participants with < 1 s captured
	TargetCPUS    float64 `json:"target_cpu_s"`
	TargetCPUPct  float64 `json:"target_cpu_pct"`
	CPUPctPerPart float64 `json:"cpu_pct_per_part"`
	USPerFrame    float64 `json:"us_per_part_frame"`
	GenCPUPct     float64 `json:"gen_cpu_pct"`
	RSSKiB        int64   `json:"rss_kib"`
	Goroutines    int64   `json:"goroutines"`
	SockDrops     uint64  `json:"sock_drops"`
	RTCPIn        uint64  `json:"rtcp_in"`
	Foreign       uint64  `json:"foreign"`
	NonAudio      uint64  `json:"non_audio"`
	SendErrors    uint64  `json:"send_errors"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:21110", "the participants' RTP socket (their SDP); RTCP on port+1")
	aLog := flag.String("alog", "", "sipp log (lines \"A <port> <call-id>\")")
	n := flag.Int("n", 3, "participants to wait for")
	learnTimeout := flag.Duration("learn-timeout", 30*time.Second, "give up waiting for all participants after this")
	settle := flag.Duration("settle", 2*time.Second, "wait after all participants are up before the window")
	window := flag.Duration("window", 20*time.Second, "measurement window")
	pid := flag.Int("pid", 0, "switchd's pid: CPU, RSS")
	metrics := flag.String("metrics", "", "Prometheus URL for go_goroutines")
	level := flag.Float64("level", -28, "each participant's tone level, dBm0")
	fbase := flag.Float64("fbase", 300, "participant 0's tone, Hz")
	fstep := flag.Float64("fstep", 0, "Hz between participants' tones (0: 60, or less to stay under 3.9 kHz)")
	out := flag.String("out", "", "JSON result file")
	partsOut := flag.String("parts", "", "per-participant CSV file")
	flag.Parse()

	ap := netip.MustParseAddrPort(*addr)
	step := *fstep
	if step == 0 {
		step = min(60, (3900-*fbase)/float64(max(*n, 1)))
	}
	g := &gen{byPort: map[uint16]*part{}, seen: map[string]bool{}, level: *level, fbase: *fbase, fstep: step,
		amp: 32767 * math.Pow(10, (*level-audio.FullScaleDBm0)/20)}
	g.ws.Store(math.MaxInt64)
	g.we.Store(math.MaxInt64)
	g.mid.Store(math.MaxInt64)
	g.conn = listen(ap, true)
	go drain(listen(netip.AddrPortFrom(ap.Addr(), ap.Port()+1), false), &g.rtcp)

	recvDone := make(chan struct{})
	go g.recvLoop(recvDone)
	stopSend, sendDone := make(chan struct{}), make(chan struct{})
	go g.sendLoop(stopSend, sendDone)
	stopTail := make(chan struct{})
	go g.tail(*aLog, stopTail)

	deadline := time.Now().Add(*learnTimeout)
	for {
		g.mu.Lock()
		l := len(g.parts)
		g.mu.Unlock()
		if l >= *n {
			break
		}
		if time.Now().After(deadline) {
			log.Printf("confload: only %d participants after %v (want %d)", l, *learnTimeout, *n)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(*settle)

	ws := wall() + int64(100*time.Millisecond)
	we := ws + int64(*window)
	g.ws.Store(ws)
	g.mid.Store(ws + int64(*window)/2)
	time.Sleep(time.Duration(ws - wall()))
	c0, s0 := procTicks(*pid), selfCPU()
	d0 := udpDrops(int(ap.Port()), int(ap.Port()))
	time.Sleep(*window / 2)
	res := Result{Participants: *n, RSSKiB: procStatus(*pid, "VmRSS"), Goroutines: -1}
	if v, ok := scrape(*metrics, "go_goroutines")["go_goroutines"]; ok {
		res.Goroutines = int64(v)
	}
	g.we.Store(we)
	time.Sleep(time.Duration(we - wall()))
	c1, s1 := procTicks(*pid), selfCPU()
	d1 := udpDrops(int(ap.Port()), int(ap.Port()))

	time.Sleep(300 * time.Millisecond)
	close(stopSend)
	<-sendDone
	close(stopTail)
	g.conn.Close()
	<-recvDone

	win := time.Duration(we - ws).Seconds()
	g.mu.Lock()
	parts := slices.Clone(g.parts)
	g.mu.Unlock()
	res.Learned = len(parts)
	res.WindowS = win
	var pps, jit, ia []float64
	var pf *os.File
	if *partsOut != "" {
		var err error
		if pf, err = os.Create(*partsOut); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintln(pf, "participant,freq_hz,switchd_port,sent_win,recv_win,pps,missing_seq,reordered,gaps_over_40ms,max_gap_ms,jitter_ms,silent_frames,zero_frames,others_heard,own_db,silent_at_ms,gaps_at_ms_ts_step")
	}
	res.HeardMin = math.MaxInt
	res.OwnMaxDB = math.Inf(-1)
	for _, p := range parts {
		res.SentWin += p.sentWin
		res.RecvWin += p.recvWin
		pps = append(pps, float64(p.recvWin)/win)
		if p.recvWin == 0 {
			res.PartsNoMix++
		}
		res.MissingSeq += p.missing
		if p.missing > 0 {
			res.PartsMissing++
		}
		res.Reordered += p.reorder
		res.Gaps40 += p.gaps40
		if p.gaps40 > 0 {
			res.PartsGaps++
		}
		res.MaxGapMs = max(res.MaxGapMs, float64(p.maxGap)/1e6)
		for _, a := range p.arrivals {
			ia = append(ia, float64(a)/1e6)
		}
		jit = append(jit, p.jitter/1e6)
		res.SilentFrames += p.silent
		res.ZeroFrames += p.zero
		if p.silent > 0 {
			res.PartsSilent++
		}
		res.NonAudio += p.pcmuOther
		// what this participant hears
		heard, own := 0, math.Inf(-1)
		if p.capN < capPkts {
			res.CaptureShort++
		}
		for _, q := range parts {
			lv := audio.PowerDBm0(blockPower(p.capture[:], q.freq)) - *level
			if q == p {
				own = lv
			} else if lv > -6 {
				heard++
			}
		}
		res.HeardMin = min(res.HeardMin, heard)
		if heard == len(parts)-1 {
			res.HeardAll++
		}
		res.OwnMaxDB = max(res.OwnMaxDB, own)
		if pf != nil {
			at := make([]string, len(p.silentAt))
			for i, v := range p.silentAt {
				at[i] = fmt.Sprintf("%.0f", v)
			}
			fmt.Fprintf(pf, "%d,%.0f,%d,%d,%d,%.2f,%d,%d,%d,%.2f,%.3f,%d,%d,%d,%.1f,%s,%s\n", p.idx, p.freq, p.dst.Port(), p.sentWin, p.recvWin,
				float64(p.recvWin)/win, p.missing, p.reorder, p.gaps40, float64(p.maxGap)/1e6, p.jitter/1e6, p.silent, p.zero, heard, own,
				strings.Join(at, ";"), strings.Join(p.gapAt, ";"))
		}
	}
	if pf != nil {
		pf.Close()
	}
	if len(parts) == 0 {
		res.HeardMin = 0
	}
	res.PPSMin, res.PPSMedian, res.PPSMax = quantile(pps, 0), quantile(pps, 0.5), quantile(pps, 1)
	res.IAP50Ms, res.IAP99Ms, res.IAP999Ms = quantile(ia, 0.5), quantile(ia, 0.99), quantile(ia, 0.999)
	if len(jit) > 0 {
		var s float64
		for _, j := range jit {
			s += j
		}
		res.JitterMeanMs = s / float64(len(jit))
		res.JitterMaxMs = quantile(jit, 1)
	}
	const hz = 100.0
	res.TargetCPUS = float64(c1-c0) / hz
	res.TargetCPUPct = 100 * res.TargetCPUS / win
	if len(parts) > 0 {
		res.CPUPctPerPart = res.TargetCPUPct / float64(len(parts))
		res.USPerFrame = res.TargetCPUS * 1e6 / (float64(len(parts)) * win * float64(time.Second/ptime))
	}
	res.GenCPUPct = 100 * (s1 - s0).Seconds() / win
	res.SockDrops = d1 - d0
	res.RTCPIn = g.rtcp.Load()
	res.Foreign = g.foreign.Load()
	res.SendErrors = g.sendErr.Load()
	if math.IsInf(res.OwnMaxDB, 0) {
		res.OwnMaxDB = -999
	}

	j, _ := json.Marshal(res)
	if *out != "" {
		if err := os.WriteFile(*out, append(j, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "confload: %d/%d participants, window %.1fs: received %.1f/%.1f/%.1f pkt/s per participant (min/median/max), "+
		"missing seq %d (%d participants), gaps >40ms %d (%d participants), max gap %.1f ms, inter-arrival p99 %.1f ms, jitter mean %.2f max %.2f ms, "+
		"silent frames %d (%d digital silence, %d participants); hears others min %d/%d, %d hear all, own tone max %.1f dB; switchd CPU %.1f%% = %.2f%%/participant = %.1f µs per participant-frame, RSS %d KiB, goroutines %d; gen CPU %.0f%%, sock drops %d\n",
		res.Learned, res.Participants, win, res.PPSMin, res.PPSMedian, res.PPSMax, res.MissingSeq, res.PartsMissing, res.Gaps40, res.PartsGaps,
		res.MaxGapMs, res.IAP99Ms, res.JitterMeanMs, res.JitterMaxMs, res.SilentFrames, res.ZeroFrames, res.PartsSilent, res.HeardMin, max(res.Learned-1, 0), res.HeardAll, res.OwnMaxDB,
		res.TargetCPUPct, res.CPUPctPerPart, res.USPerFrame, res.RSSKiB, res.Goroutines, res.GenCPUPct, res.SockDrops)
}
