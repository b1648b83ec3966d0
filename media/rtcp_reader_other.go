//go:build !linux

package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// rtcpReader is the portable fallback of the Linux shared RTCP reader
// (rtcp_reader_linux.go): each session reads its RTCP socket in a
// goroutine of its own.
type rtcpReader struct{}

// rtcpWatch is a session's RTCP goroutine.
type rtcpWatch struct {
	wg sync.WaitGroup
}

// watchRTCP starts s's RTCP goroutine.
func (e *Engine) watchRTCP(s *Session) error {
	s.rtcpWatch.wg.Add(1)
	go s.readRTCP()
	return nil
}

// unwatchRTCP closes s's RTCP socket and waits for its goroutine.
func (e *Engine) unwatchRTCP(s *Session) {
	s.rtcp.Close()
	s.rtcpWatch.wg.Wait()
}

// readRTCP is the session's RTCP goroutine; it ends when the socket is
// closed.
func (s *Session) readRTCP() {
	defer s.rtcpWatch.wg.Done()
	buf := make([]byte, rtcpBufSize)
	for {
		n, src, err := s.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.handleRTCP(buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), s.e.now())
	}
}
