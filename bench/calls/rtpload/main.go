//go:build linux && amd64

// Command rtpload is the RTP load generator of bench/calls.sh: it streams
// G.711 (PCMA, 20 ms, 172-byte RTP packets) both ways through many calls
// that sipp has set up through switchd, and measures what comes out.
//
// Each call has two streams: caller → switchd (leg A port) → callee socket,
// and callee → switchd (leg B port) → caller socket. All calls share one
// caller-side socket (-a, the address in the caller's SDP) and one
// callee-side socket (-b, the callee's SDP); switchd's per-call ports are
// read from the sipp logs (-alog/-blog, lines "A <port> <call-id>" written
// at the 200 OK by bench/calls/uac.xml and "B <port> <call-id>" at the ACK
// by bench/calls/uas.xml). With -bare N it instead drives bench/calls/
// barerelay, whose call i listens on ports base+4i (A) and base+4i+2 (B).
//
// Every packet carries its send time and stream number in the payload, so
// the receiver measures per stream: loss, the RFC 3550 §A.8 interarrival
// jitter of the transit time (send → receive; with the send time known
// exactly this is the jitter the path adds, not the sender's own), one-way
// delay percentiles and reordering. Counting is over a window (-settle after
// all calls are up, for -window) by send time: a packet sent in the window
// is either received (whenever) or lost. During the window it also samples
// the CPU time of -pid (utime+stime, /proc/PID/stat), its own CPU, each
// core's busy time, the target's RSS and threads, kernel UDP drops of the
// target's sockets (-drop-range) and of its own, and, with -metrics,
// go_goroutines.
//
// Results: one JSON object to -out, a summary on stderr.
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
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	ptime      = 20 * time.Millisecond
	slotLen    = time.Millisecond
	nSlots     = int(ptime / slotLen)
	payloadLen = 160
	pktLen     = 12 + payloadLen
	magic      = 0x5742 // "WB" in the payload: our packet
)

var t0 = time.Now()

// now is the monotonic time since start, for scheduling.
func now() int64 { return int64(time.Since(t0)) }

// wall is the wall clock in ns: packets carry it, and the kernel's receive
// timestamps are on the same clock.
func wall() int64 { return time.Now().UnixNano() }

// stream is one direction of one call.
type stream struct {
	idx  uint32
	side int // 0: sent from the caller socket (A→B), 1: from the callee socket
	conn *net.UDPConn
	dst  netip.AddrPort
	ssrc uint32
	seq  uint16
	ts   uint32

	// sender goroutine only
	sentWin, sentAll uint64
	// receiving goroutine only (the socket of the other side)
	recvWin, recvAll uint64
	lastSeq          uint16
	gotAny           bool
	reordered        uint64
	hasTransit       bool
	transit          int64
	jitter           float64 // ns, RFC 3550 §A.8 smoothing
}

type gen struct {
	conns   [2]*net.UDPConn
	mu      sync.Mutex
	streams []*stream // by idx
	slots   [nSlots][]*stream
	learned [2]int
	seen    [2]map[string]bool // call-ids per side

	ws, we atomic.Int64 // window by send time (ns since t0)

	lagHist hist // sender lateness
	delay   [2]*hist
	rtcp    atomic.Uint64
	foreign atomic.Uint64
	sendErr atomic.Uint64
}

// hist is a fixed histogram of durations: 10 µs buckets up to 200 ms.
type hist struct {
	b   [20001]uint64
	max int64
	n   uint64
}

func (h *hist) add(d int64) {
	if d < 0 {
		d = 0
	}
	i := d / 10000
	if i >= int64(len(h.b)) {
		i = int64(len(h.b) - 1)
	}
	h.b[i]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

func (h *hist) merge(o *hist) {
	for i := range h.b {
		h.b[i] += o.b[i]
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// q is the q-quantile in ms (bucket upper bound).
func (h *hist) q(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(h.n)))
	var c uint64
	for i, v := range h.b {
		c += v
		if c >= want {
			return float64(i+1) * 0.01
		}
	}
	return float64(h.max) / 1e6
}

func (g *gen) add(side int, dst netip.AddrPort, slot int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := &stream{idx: uint32(len(g.streams)), side: side, conn: g.conns[side], dst: dst,
		seq: uint16(len(g.streams) * 7919), ts: uint32(len(g.streams)) * 100003}
	s.ssrc = 0x40000000 | s.idx<<1 | uint32(side)
	g.streams = append(g.streams, s)
	g.slots[slot%nSlots] = append(g.slots[slot%nSlots], s)
	g.learned[side]++
}

// sendLoop sends each stream's packet in its 1 ms slot of every 20 ms,
// each side's packets of a slot in one sendmmsg(2).
func (g *gen) sendLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var mm [2]*mmsgs
	for side := range mm {
		mm[side] = newMmsgs(256, pktLen, 0)
	}
	k := now()/int64(slotLen) + 1
	var batch []*stream
	for {
		select {
		case <-stop:
			return
		default:
		}
		due := k * int64(slotLen)
		n := now()
		if due > n {
			time.Sleep(time.Duration(due - n))
			continue
		}
		g.lagHist.add(n - due)
		g.mu.Lock()
		batch = append(batch[:0], g.slots[k%int64(nSlots)]...)
		g.mu.Unlock()
		ws, we := g.ws.Load(), g.we.Load()
		st := wall()
		for side, m := range mm {
			m.n = 0
			for _, s := range batch {
				if s.side != side {
					continue
				}
				buf := m.add(s.dst)
				buf[0] = 0x80
				buf[1] = 8
				if s.sentAll == 0 {
					buf[1] |= 0x80
				}
				binary.BigEndian.PutUint16(buf[2:], s.seq)
				binary.BigEndian.PutUint32(buf[4:], s.ts)
				binary.BigEndian.PutUint32(buf[8:], s.ssrc)
				binary.BigEndian.PutUint64(buf[12:], uint64(st))
				binary.BigEndian.PutUint32(buf[20:], s.idx)
				binary.BigEndian.PutUint16(buf[24:], magic)
				for i := 26; i < 40; i++ {
					buf[i] = 0xd5 // PCMA silence
				}
				s.seq++
				s.ts += 160
				s.sentAll++
				if st >= ws && st < we {
					s.sentWin++
				}
			}
			if m.n > 0 {
				if err := m.send(g.conns[side]); err != nil {
					g.sendErr.Add(1)
				}
			}
		}
		k++
	}
}

// recvLoop reads one side's socket (the streams of the other side) with
// recvmmsg(2); each packet's arrival time is the kernel's (SO_TIMESTAMPNS),
// the moment switchd's send put it into our socket, so the generator's own
// scheduling delays do not count as the path's delay or jitter.
func (g *gen) recvLoop(side int, h *hist, wg *sync.WaitGroup) {
	defer wg.Done()
	conn := g.conns[side]
	m := newMmsgs(64, 2048, 64)
	var streams []*stream
	for {
		n, err := m.recv(conn)
		if err != nil {
			return
		}
		for i := range n {
			buf := m.bufs[i][:m.msgs[i].n]
			rt := m.stamp(i)
			if len(buf) != pktLen || binary.BigEndian.Uint16(buf[24:]) != magic {
				g.foreign.Add(1)
				continue
			}
			idx := binary.BigEndian.Uint32(buf[20:])
			if int(idx) >= len(streams) {
				g.mu.Lock()
				streams = append(streams[:0], g.streams...)
				g.mu.Unlock()
				if int(idx) >= len(streams) {
					g.foreign.Add(1)
					continue
				}
			}
			s := streams[idx]
			if s.side == side || binary.BigEndian.Uint32(buf[8:]) != s.ssrc {
				g.foreign.Add(1)
				continue
			}
			st := int64(binary.BigEndian.Uint64(buf[12:]))
			seq := binary.BigEndian.Uint16(buf[2:])
			s.recvAll++
			if s.gotAny && int16(seq-s.lastSeq) <= 0 {
				s.reordered++
			} else {
				s.lastSeq = seq
			}
			s.gotAny = true
			if st < g.ws.Load() || st >= g.we.Load() {
				continue
			}
			s.recvWin++
			transit := rt - st
			h.add(transit)
			if s.hasTransit {
				d := float64(transit - s.transit)
				if d < 0 {
					d = -d
				}
				s.jitter += (d - s.jitter) / 16
			}
			s.transit, s.hasTransit = transit, true
		}
	}
}

// drain reads and counts what arrives on a socket (switchd's RTCP).
func drain(c *net.UDPConn, cnt *atomic.Uint64) {
	buf := make([]byte, 2048)
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			return
		}
		cnt.Add(1)
	}
}

// tail follows a sipp log and adds a stream per new "<side> <port> <call-id>" line.
func (g *gen) tail(path string, side int, stop <-chan struct{}) {
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
		if len(fs) < 3 || fs[0] != "AB"[side:side+1] {
			continue
		}
		port, err := strconv.Atoi(fs[1])
		if err != nil || port <= 0 || port > 65535 {
			continue
		}
		g.mu.Lock()
		dup := g.seen[side][fs[2]]
		g.seen[side][fs[2]] = true
		g.mu.Unlock()
		if dup {
			continue
		}
		g.add(side, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), int(now()/int64(slotLen)))
	}
}

// --- measurements -----------------------------------------------------

func procTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	s = s[strings.LastIndexByte(s, ')')+2:]
	f := strings.Fields(s)
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuBusy returns the busy ticks of each cpu (user+nice+system+irq+softirq+steal).
func cpuBusy() map[string]int64 {
	out := map[string]int64{}
	b, _ := os.ReadFile("/proc/stat")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		var t int64
		for _, i := range []int{1, 2, 3, 6, 7, 8} {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			t += v
		}
		out[f[0]] = t
	}
	return out
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

// udpDrops returns the drop counter of each UDP socket (by inode) whose
// local port is in [lo,hi].
func udpDrops(lo, hi int) map[string]uint64 {
	out := map[string]uint64{}
	b, _ := os.ReadFile("/proc/net/udp")
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
		out[f[9]] = d // inode
	}
	return out
}

// dropsDelta sums the drops of the sockets present in both samples.
func dropsDelta(a, b map[string]uint64) (drops uint64, socks int) {
	for k, v := range b {
		if o, ok := a[k]; ok {
			socks++
			if v > o {
				drops += v - o
			}
		}
	}
	return
}

func snmpRcvbuf() int64 {
	b, _ := os.ReadFile("/proc/net/snmp")
	var hdr []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "Udp:") {
			continue
		}
		f := strings.Fields(l)
		if hdr == nil {
			hdr = f
			continue
		}
		for i, h := range hdr {
			if h == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseInt(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

// scrape reads the named metrics (untyped, no labels) from a Prometheus URL.
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

func listen(addr string) *net.UDPConn {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		log.Fatal(err)
	}
	// SO_RCVBUFFORCE / SO_SNDBUFFORCE as root, past rmem_max.
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 16<<20)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, 4<<20)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		})
	}
	return c
}

// Result is what one run measured.
type Result struct {
	Mode          string             `json:"mode"`
	Calls         int                `json:"calls"`
	LearnedA      int                `json:"learned_a"`
	LearnedB      int                `json:"learned_b"`
	WindowS       float64            `json:"window_s"`
	SentAB        uint64             `json:"sent_ab"`
	RecvAB        uint64             `json:"recv_ab"`
	SentBA        uint64             `json:"sent_ba"`
	RecvBA        uint64             `json:"recv_ba"`
	SentAll       uint64             `json:"sent_all"`
	RecvAll       uint64             `json:"recv_all"`
	LossPct       float64            `json:"loss_pct"`
	LossABPct     float64            `json:"loss_ab_pct"`
	LossBAPct     float64            `json:"loss_ba_pct"`
	PPSIn         float64            `json:"pps_in"`
	PPSOut        float64            `json:"pps_out"`
	StreamsLossy  int                `json:"streams_lossy"`
	StreamsDead   int                `json:"streams_dead"`
	Reordered     uint64             `json:"reordered"`
	JitterMeanMs  float64            `json:"jitter_mean_ms"`
	JitterP99Ms   float64            `json:"jitter_p99_ms"`
	JitterMaxMs   float64            `json:"jitter_max_ms"`
	DelayP50Ms    float64            `json:"delay_p50_ms"`
	DelayP99Ms    float64            `json:"delay_p99_ms"`
	DelayP999Ms   float64            `json:"delay_p999_ms"`
	DelayMaxMs    float64            `json:"delay_max_ms"`
	TargetCPUS    float64            `json:"target_cpu_s"`
	TargetCPUPct  float64            `json:"target_cpu_pct"`
	NsPerPkt      float64            `json:"ns_per_pkt"`
	GenCPUPct     float64            `json:"gen_cpu_pct"`
	GenLagP99Ms   float64            `json:"gen_lag_p99_ms"`
	GenLagMaxMs   float64            `json:"gen_lag_max_ms"`
	CPUBusyPct    map[string]float64 `json:"cpu_busy_pct"`
	RSSKiB        int64              `json:"rss_kib"`
	Threads       int64              `json:"threads"`
	Goroutines    int64              `json:"goroutines"`
	HeapInuseKiB  int64              `json:"heap_inuse_kib"`
	StackInuseKiB int64              `json:"stack_inuse_kib"`
	TargetSocks   int                `json:"target_socks"`
	TargetDrops   uint64             `json:"target_sock_drops"`
	GenDrops      uint64             `json:"gen_sock_drops"`
	SnmpRcvbufErr int64              `json:"snmp_rcvbuf_errors"`
	RTCPIn        uint64             `json:"rtcp_in"`
	Foreign       uint64             `json:"foreign"`
	SendErrors    uint64             `json:"send_errors"`
}

func main() {
	aAddr := flag.String("a", "127.0.0.1:30000", "caller-side RTP socket (the caller's SDP); RTCP on port+1")
	bAddr := flag.String("b", "127.0.0.1:30002", "callee-side RTP socket (the callee's SDP); RTCP on port+1")
	aLog := flag.String("alog", "", "sipp caller log (lines \"A <port> <call-id>\")")
	bLog := flag.String("blog", "", "sipp callee log (lines \"B <port> <call-id>\")")
	bare := flag.Int("bare", 0, "drive barerelay with this many calls instead of sipp logs")
	bareBase := flag.Int("bare-base", 40000, "barerelay's first port")
	calls := flag.Int("calls", 100, "calls to wait for (sipp mode)")
	learnTimeout := flag.Duration("learn-timeout", 30*time.Second, "give up waiting for all calls after this")
	settle := flag.Duration("settle", 2*time.Second, "wait after all calls are up before the window")
	window := flag.Duration("window", 10*time.Second, "measurement window")
	pid := flag.Int("pid", 0, "process whose CPU, RSS and threads are sampled (switchd or barerelay)")
	metrics := flag.String("metrics", "", "Prometheus URL for go_goroutines")
	dropLo := flag.Int("drop-lo", 40000, "target's socket port range (kernel drop counters)")
	dropHi := flag.Int("drop-hi", 60000, "")
	out := flag.String("out", "", "JSON result file")
	mode := flag.String("mode", "switchd", "label")
	cpuprofile := flag.String("cpuprofile", "", "write the generator's own CPU profile of the window here")
	flag.Parse()

	g := &gen{seen: [2]map[string]bool{{}, {}}, delay: [2]*hist{new(hist), new(hist)}}
	g.ws.Store(math.MaxInt64)
	g.we.Store(math.MaxInt64)
	g.conns[0] = listen(*aAddr)
	g.conns[1] = listen(*bAddr)
	for _, a := range []string{*aAddr, *bAddr} {
		ap := netip.MustParseAddrPort(a)
		go drain(listen(netip.AddrPortFrom(ap.Addr(), ap.Port()+1).String()), &g.rtcp)
	}
	genPorts := []int{int(netip.MustParseAddrPort(*aAddr).Port()), int(netip.MustParseAddrPort(*bAddr).Port())}

	var rwg sync.WaitGroup
	rwg.Add(2)
	go g.recvLoop(0, g.delay[0], &rwg) // receives B→A streams
	go g.recvLoop(1, g.delay[1], &rwg) // receives A→B streams
	stopSend, sendDone := make(chan struct{}), make(chan struct{})
	go g.sendLoop(stopSend, sendDone)
	stopTail := make(chan struct{})

	want := *calls
	if *bare > 0 {
		want = *bare
		lp := netip.MustParseAddr("127.0.0.1")
		for i := range *bare {
			g.add(0, netip.AddrPortFrom(lp, uint16(*bareBase+4*i)), i)
			g.add(1, netip.AddrPortFrom(lp, uint16(*bareBase+4*i+2)), i+nSlots/2)
		}
	} else {
		go g.tail(*aLog, 0, stopTail)
		go g.tail(*bLog, 1, stopTail)
	}
	deadline := time.Now().Add(*learnTimeout)
	for {
		g.mu.Lock()
		la, lb := g.learned[0], g.learned[1]
		g.mu.Unlock()
		if la >= want && lb >= want {
			break
		}
		if time.Now().After(deadline) {
			log.Printf("rtpload: only %d caller and %d callee streams after %v (want %d)", la, lb, *learnTimeout, want)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(*settle)

	// The window is announced 100 ms ahead so that the sender and the
	// receivers agree on which packets it holds.
	ws := wall() + int64(100*time.Millisecond)
	g.ws.Store(ws)
	time.Sleep(time.Duration(ws - wall()))
	c0, s0, b0 := procTicks(*pid), selfCPU(), cpuBusy()
	d0 := udpDrops(*dropLo, *dropHi)
	gd0 := udpDrops(genPorts[0], genPorts[1])
	sn0 := snmpRcvbuf()
	g.lagHist = hist{}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	time.Sleep(*window / 2)
	res := Result{Mode: *mode, Calls: want}
	res.RSSKiB = procStatus(*pid, "VmRSS")
	res.Threads = procStatus(*pid, "Threads")
	m := scrape(*metrics, "go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes")
	res.Goroutines, res.HeapInuseKiB, res.StackInuseKiB = -1, -1, -1
	if v, ok := m["go_goroutines"]; ok {
		res.Goroutines = int64(v)
		res.HeapInuseKiB = int64(m["go_memstats_heap_inuse_bytes"] / 1024)
		res.StackInuseKiB = int64(m["go_memstats_stack_inuse_bytes"] / 1024)
	}
	we := ws + int64(*window)
	g.we.Store(we)
	time.Sleep(time.Duration(we - wall()))
	c1, s1, b1 := procTicks(*pid), selfCPU(), cpuBusy()
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	d1 := udpDrops(*dropLo, *dropHi)
	gd1 := udpDrops(genPorts[0], genPorts[1])
	sn1 := snmpRcvbuf()
	lag := g.lagHist // copy before it moves on

	// let packets of the window arrive, then stop
	time.Sleep(300 * time.Millisecond)
	close(stopSend)
	<-sendDone
	close(stopTail)
	time.Sleep(200 * time.Millisecond)
	g.conns[0].Close()
	g.conns[1].Close()
	rwg.Wait()

	win := time.Duration(we - ws).Seconds()
	const hz = 100.0
	g.mu.Lock()
	res.LearnedA, res.LearnedB = g.learned[0], g.learned[1]
	var jit []float64
	for _, s := range g.streams {
		res.SentAll += s.sentAll
		res.RecvAll += s.recvAll
		if s.side == 0 {
			res.SentAB += s.sentWin
			res.RecvAB += s.recvWin
		} else {
			res.SentBA += s.sentWin
			res.RecvBA += s.recvWin
		}
		if s.sentWin > 0 && s.recvWin < s.sentWin {
			res.StreamsLossy++
		}
		if s.sentWin > 0 && s.recvWin == 0 {
			res.StreamsDead++
		}
		res.Reordered += s.reordered
		if s.recvWin > 1 {
			jit = append(jit, s.jitter/1e6)
		}
	}
	g.mu.Unlock()
	pct := func(sent, recv uint64) float64 {
		if sent == 0 {
			return 100
		}
		return 100 * (float64(sent) - float64(recv)) / float64(sent)
	}
	res.WindowS = win
	res.LossABPct, res.LossBAPct = pct(res.SentAB, res.RecvAB), pct(res.SentBA, res.RecvBA)
	res.LossPct = pct(res.SentAB+res.SentBA, res.RecvAB+res.RecvBA)
	res.PPSIn = float64(res.SentAB+res.SentBA) / win
	res.PPSOut = float64(res.RecvAB+res.RecvBA) / win
	if len(jit) > 0 {
		slices.Sort(jit)
		var sum float64
		for _, j := range jit {
			sum += j
		}
		res.JitterMeanMs = sum / float64(len(jit))
		res.JitterP99Ms = jit[min(len(jit)-1, int(0.99*float64(len(jit))))]
		res.JitterMaxMs = jit[len(jit)-1]
	}
	var dh hist
	dh.merge(g.delay[0])
	dh.merge(g.delay[1])
	res.DelayP50Ms, res.DelayP99Ms, res.DelayP999Ms, res.DelayMaxMs = dh.q(0.5), dh.q(0.99), dh.q(0.999), float64(dh.max)/1e6
	res.TargetCPUS = float64(c1-c0) / hz
	res.TargetCPUPct = 100 * res.TargetCPUS / win
	if res.RecvAB+res.RecvBA > 0 {
		res.NsPerPkt = res.TargetCPUS * 1e9 / float64(res.RecvAB+res.RecvBA)
	}
	res.GenCPUPct = 100 * (s1 - s0).Seconds() / win
	res.GenLagP99Ms, res.GenLagMaxMs = lag.q(0.99), float64(lag.max)/1e6
	res.CPUBusyPct = map[string]float64{}
	for k, v := range b1 {
		res.CPUBusyPct[k] = math.Round(100*float64(v-b0[k])/hz/win*10) / 10
	}
	res.TargetDrops, res.TargetSocks = dropsDelta(d0, d1)
	res.GenDrops, _ = dropsDelta(gd0, gd1)
	res.SnmpRcvbufErr = sn1 - sn0
	res.RTCPIn = g.rtcp.Load()
	res.Foreign = g.foreign.Load()
	res.SendErrors = g.sendErr.Load()

	j, _ := json.Marshal(res)
	if *out != "" {
		if err := os.WriteFile(*out, append(j, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "rtpload %s: calls %d (learned %d/%d) window %.1fs: in %.0f pkt/s out %.0f pkt/s loss %.4f%% (A→B %.4f%%, B→A %.4f%%, lossy streams %d, dead %d) "+
		"jitter mean %.3f ms p99 %.3f max %.3f; delay p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms; target CPU %.1f%% = %.0f ns/pkt, RSS %d KiB, goroutines %d; gen CPU %.0f%% lag p99 %.2f ms; drops target %d gen %d snmp %d\n",
		res.Mode, res.Calls, res.LearnedA, res.LearnedB, win, res.PPSIn, res.PPSOut, res.LossPct, res.LossABPct, res.LossBAPct, res.StreamsLossy, res.StreamsDead,
		res.JitterMeanMs, res.JitterP99Ms, res.JitterMaxMs, res.DelayP50Ms, res.DelayP99Ms, res.DelayP999Ms, res.DelayMaxMs,
		res.TargetCPUPct, res.NsPerPkt, res.RSSKiB, res.Goroutines, res.GenCPUPct, res.GenLagP99Ms, res.TargetDrops, res.GenDrops, res.SnmpRcvbufErr)
}
