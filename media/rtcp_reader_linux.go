package media

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
)

// rtcpReader reads the RTCP sockets of all an engine's sessions in one
// goroutine, instead of one goroutine (and stack and buffer) per session:
// the sockets are members of an epoll set (level-triggered), and the epoll
// descriptor itself waits in Go's netpoller, so the reader parks like any
// network read and no OS thread is held. Each wake-up drains the ready
// sockets without blocking and hands every packet to the session's
// handleRTCP at once, so arrival times (LSR/DLSR, RTT) are as exact as
// with a dedicated reader.
//
// The reader runs only while a session is watched: the first watch starts
// it, the last unwatch stops it and waits for it, so an idle engine holds
// no goroutine or descriptor.
type rtcpReader struct {
	mu    sync.Mutex
	set   *epollSet // nil while no session is watched
	count int
}

// epollSet is one run of the reader: the epoll descriptor, the sessions in
// it by token (their RTP port, unique among open sessions) and the
// goroutine reading it.
type epollSet struct {
	fd       int
	file     *os.File // fd, registered with Go's netpoller
	sessions map[int32]*Session
	done     chan struct{}
}

// rtcpBatch bounds the packets read from one socket per wake-up, so a
// flooded port cannot starve the others (level-triggered: the rest is
// reported again).
const rtcpBatch = 16

// watchRTCP adds s's RTCP socket to the reader.
func (e *Engine) watchRTCP(s *Session) error {
	r := &e.rtcpIn
	r.mu.Lock()
	if r.set == nil {
		set, err := newEpollSet()
		if err != nil {
			r.mu.Unlock()
			return err
		}
		r.set = set
		go set.run(r)
	}
	set := r.set
	err := withFD(s.rtcp, func(fd int) error {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(s.port)}
		return syscall.EpollCtl(set.fd, syscall.EPOLL_CTL_ADD, fd, &ev)
	})
	if err == nil {
		set.sessions[int32(s.port)] = s
		r.count++
		r.mu.Unlock()
		return nil
	}
	if r.count == 0 {
		r.set = nil
		r.mu.Unlock()
		set.stop()
	} else {
		r.mu.Unlock()
	}
	return fmt.Errorf("media: watch RTCP socket: %w", err)
}

// unwatchRTCP removes s's RTCP socket (still open) from the reader; after
// the last one it stops the reader and waits for it. A read of s's socket
// in progress may still finish: closing the socket waits for it.
func (e *Engine) unwatchRTCP(s *Session) {
	r := &e.rtcpIn
	r.mu.Lock()
	set := r.set
	if set == nil || set.sessions[int32(s.port)] != s {
		r.mu.Unlock()
		return
	}
	withFD(s.rtcp, func(fd int) error {
		return syscall.EpollCtl(set.fd, syscall.EPOLL_CTL_DEL, fd, nil)
	})
	delete(set.sessions, int32(s.port))
	r.count--
	if r.count > 0 {
		r.mu.Unlock()
		return
	}
	r.set = nil
	r.mu.Unlock()
	set.stop()
}

// stop ends a run that is no longer r.set: closing the epoll file wakes
// the reader, which then exits; stop waits for it. Not under r.mu: the
// close waits for a wake-up in progress, which takes r.mu.
func (set *epollSet) stop() {
	set.file.Close()
	<-set.done
}

func newEpollSet() (*epollSet, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("media: epoll for RTCP: %w", err)
	}
	// Non-blocking, so that os.NewFile registers it with the netpoller.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("media: epoll for RTCP: %w", err)
	}
	return &epollSet{fd: fd, file: os.NewFile(uintptr(fd), "rtcp-epoll"), sessions: make(map[int32]*Session), done: make(chan struct{})}, nil
}

// run is the reader goroutine of one set; it returns when the set's file
// is closed.
func (set *epollSet) run(r *rtcpReader) {
	defer close(set.done)
	raw, err := set.file.SyscallConn()
	if err != nil {
		return
	}
	var events [64]syscall.EpollEvent
	buf := make([]byte, rtcpBufSize)
	ready := make([]*Session, 0, len(events))
	// wait returns true (stop waiting) once it has handled events, false
	// when none are ready: RawConn.Read then parks until the epoll
	// descriptor is readable again.
	wait := func(fd uintptr) bool {
		n, err := syscall.EpollWait(int(fd), events[:], 0)
		for err == syscall.EINTR {
			n, err = syscall.EpollWait(int(fd), events[:], 0)
		}
		if err != nil || n <= 0 {
			return err != nil
		}
		ready = ready[:0]
		r.mu.Lock()
		for _, ev := range events[:n] {
			if s := set.sessions[ev.Fd]; s != nil {
				ready = append(ready, s)
			}
		}
		r.mu.Unlock()
		for _, s := range ready {
			s.drainRTCP(buf)
		}
		clear(ready)
		return true
	}
	for {
		if err := raw.Read(wait); err != nil {
			return
		}
	}
}

// drainRTCP reads up to rtcpBatch datagrams waiting on the session's RTCP
// socket, without blocking, and takes each in (handleRTCP). A closed
// socket reads nothing.
func (s *Session) drainRTCP(buf []byte) {
	raw, err := s.rtcp.SyscallConn()
	if err != nil {
		return
	}
	raw.Read(func(fd uintptr) bool {
		for range rtcpBatch {
			n, from, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				break
			}
			s.handleRTCP(buf[:n], sockaddrAddrPort(from), s.e.now())
		}
		return true
	})
}

// withFD runs f on the descriptor of c.
func withFD(c *net.UDPConn, f func(fd int) error) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// sockaddrAddrPort converts a received source address; IPv4-mapped IPv6
// addresses are unmapped, as everywhere in the package.
func sockaddrAddrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// rtcpWatch is per-session state of the RTCP reader: none on Linux.
type rtcpWatch struct{}
