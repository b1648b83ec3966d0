//go:build linux && amd64

package main

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

const sysSENDMMSG = 307 // not in package syscall

// mmsghdr is struct mmsghdr of sendmmsg(2)/recvmmsg(2).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// mmsgs is a reusable batch of datagrams for sendmmsg/recvmmsg.
type mmsgs struct {
	msgs  []mmsghdr
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrInet4
	bufs  [][]byte
	ctl   [][]byte
	n     int // messages in use (send)
}

func newMmsgs(count, size, ctl int) *mmsgs {
	m := &mmsgs{msgs: make([]mmsghdr, count), iovs: make([]syscall.Iovec, count),
		names: make([]syscall.RawSockaddrInet4, count), bufs: make([][]byte, count), ctl: make([][]byte, count)}
	for i := range count {
		m.bufs[i] = make([]byte, size)
		m.iovs[i].Base = &m.bufs[i][0]
		m.iovs[i].SetLen(size)
		h := &m.msgs[i].hdr
		h.Iov = &m.iovs[i]
		h.Iovlen = 1
		h.Name = (*byte)(unsafe.Pointer(&m.names[i]))
		h.Namelen = syscall.SizeofSockaddrInet4
		if ctl > 0 {
			m.ctl[i] = make([]byte, ctl)
			h.Control = &m.ctl[i][0]
			h.SetControllen(ctl)
		}
	}
	return m
}

// add appends a datagram to dst and returns its buffer (pktLen bytes).
func (m *mmsgs) add(dst netip.AddrPort) []byte {
	if m.n == len(m.msgs) {
		// grow: rebuild with twice the room, keeping what was queued
		o := m
		g := newMmsgs(2*len(o.msgs), len(o.bufs[0]), 0)
		for i := range o.n {
			copy(g.bufs[i], o.bufs[i])
			g.names[i] = o.names[i]
			g.iovs[i].SetLen(int(o.iovs[i].Len))
		}
		g.n = o.n
		*m = *g
		for i := range m.msgs {
			m.msgs[i].hdr.Iov = &m.iovs[i]
			m.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&m.names[i]))
		}
	}
	i := m.n
	m.n++
	a := dst.Addr().As4()
	p := dst.Port()
	m.names[i] = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a}
	m.names[i].Port = p<<8 | p>>8
	m.iovs[i].SetLen(pktLen)
	return m.bufs[i][:pktLen]
}

// send sends the queued datagrams (all of them, waiting for room as needed).
func (m *mmsgs) send(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	sent := 0
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for sent < m.n {
			r, _, e := syscall.Syscall6(sysSENDMMSG, fd, uintptr(unsafe.Pointer(&m.msgs[sent])), uintptr(m.n-sent), 0, 0, 0)
			if e == syscall.EAGAIN {
				return false
			}
			if e != 0 {
				serr = e
				sent++ // skip the datagram that failed
				continue
			}
			sent += int(r)
		}
		return true
	})
	if err != nil {
		return err
	}
	return serr
}

// recv waits for datagrams and reads up to len(m.msgs) of them.
func (m *mmsgs) recv(c *net.UDPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	n := 0
	var rerr error
	for i := range m.msgs {
		m.msgs[i].hdr.SetControllen(len(m.ctl[i]))
		m.msgs[i].hdr.Namelen = syscall.SizeofSockaddrInet4
	}
	err = rc.Read(func(fd uintptr) bool {
		r, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.msgs[0])), uintptr(len(m.msgs)), syscall.MSG_DONTWAIT, 0, 0)
		if e == syscall.EAGAIN {
			return false
		}
		if e != 0 {
			rerr = e
			return true
		}
		n = int(r)
		return true
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	if n == 0 {
		return 0, errors.New("recvmmsg: nothing")
	}
	return n, nil
}

// stamp is message i's SO_TIMESTAMPNS receive time (ns, wall clock), or now.
func (m *mmsgs) stamp(i int) int64 {
	l := int(m.msgs[i].hdr.Controllen)
	b := m.ctl[i][:l]
	for len(b) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
		if h.Len < syscall.SizeofCmsghdr || int(h.Len) > len(b) {
			break
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && int(h.Len) >= syscall.SizeofCmsghdr+16 {
			ts := (*syscall.Timespec)(unsafe.Pointer(&b[syscall.SizeofCmsghdr]))
			return ts.Nano()
		}
		adv := (int(h.Len) + 7) &^ 7
		if adv > len(b) {
			break
		}
		b = b[adv:]
	}
	return wall()
}
