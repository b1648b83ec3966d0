package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/switchd/switchd/internal/config"
)

// portPairs counts the RTP/RTCP port pairs in r: an even RTP port and the
// odd port above it for RTCP (RFC 3550 §11), both inside the range.
func portPairs(r config.PortRange) int {
	first := firstPort(r)
	if r.Max < first+1 {
		return 0
	}
	return (r.Max - first + 1) / 2
}

// firstPort is the lowest even port of r (port 0 is not a port).
func firstPort(r config.PortRange) int { return max(r.Min+r.Min%2, 2) }

// portPool hands out the port pairs of media.rtp_ports. It only does the
// bookkeeping (no I/O under its lock); Engine.openPair binds the sockets.
//
// Pairs are handed out round robin from a cursor rather than lowest first,
// so a pair just released is reused as late as possible: stray packets of
// the previous call on those ports then reach no new call.
type portPool struct {
	first int // the lowest RTP port (even)

	mu    sync.Mutex
	used  []bool // by pair index
	next  int    // index the next search starts at
	inUse int    // pairs in use
}

func newPortPool(r config.PortRange) *portPool {
	return &portPool{first: firstPort(r), used: make([]bool, portPairs(r))}
}

// size is the number of pairs in the pool.
func (p *portPool) size() int { return len(p.used) }

// reserve marks the next free pair used and returns its RTP port; false
// when every pair is in use.
func (p *portPool) reserve() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.used)
	for i := range n {
		idx := (p.next + i) % n
		if !p.used[idx] {
			p.used[idx] = true
			p.inUse++
			p.next = (idx + 1) % n
			return p.first + 2*idx, true
		}
	}
	return 0, false
}

// release returns the pair of RTP port rtpPort to the pool.
func (p *portPool) release(rtpPort int) {
	idx := (rtpPort - p.first) / 2
	p.mu.Lock()
	defer p.mu.Unlock()
	if idx >= 0 && idx < len(p.used) && p.used[idx] {
		p.used[idx] = false
		p.inUse--
	}
}

// pairsInUse is the number of pairs reserved now.
func (p *portPool) pairsInUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}

// openPair reserves a pair and binds its RTP and RTCP sockets. A pair that
// another process holds (EADDRINUSE on either port) is skipped; after every
// pair was tried once, or when all are reserved, it fails with ErrNoPorts.
func (e *Engine) openPair() (rtp, rtcp *net.UDPConn, port int, err error) {
	for range e.ports.size() {
		port, ok := e.ports.reserve()
		if !ok {
			return nil, nil, 0, ErrNoPorts
		}
		rtp, err = e.listen(port)
		if err == nil {
			rtcp, err = e.listen(port + 1)
			if err != nil {
				rtp.Close()
			}
		}
		if err == nil {
			return rtp, rtcp, port, nil
		}
		e.ports.release(port)
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, 0, fmt.Errorf("media: bind RTP port pair %d/%d: %w", port, port+1, err)
		}
		e.log.Debug("rtp port pair held by another process", "rtp_port", port)
	}
	return nil, nil, 0, ErrNoPorts
}

// listen binds one UDP socket on the bind address. An IPv4 address binds
// an IPv4 socket; "::" binds a dual-stack one.
func (e *Engine) listen(port int) (*net.UDPConn, error) {
	network := "udp"
	if e.bind.Is4() {
		network = "udp4"
	}
	return net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.bind, uint16(port))))
}
