// Command barerelay is the floor bench/calls.sh compares switchd's RTP relay
// with: a bare Go UDP receive+send loop with the same shape as
// media.Relay — per call two sockets (A on base+4i, B on base+4i+2) and
// one goroutine per direction that reads one socket and writes what it got
// from the other socket to a fixed address (the load generator's caller or
// callee socket) — but without latching, statistics, payload plans, RTCP
// or signalling.
//
//	barerelay -n 1000 -base 40000 -a 127.0.0.1:30000 -b 127.0.0.1:30002
//
// It runs until SIGTERM/SIGINT.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	n := flag.Int("n", 1000, "calls (socket pairs)")
	base := flag.Int("base", 40000, "first port; call i uses base+4i and base+4i+2")
	aAddr := flag.String("a", "127.0.0.1:30000", "where leg A's packets go (the caller)")
	bAddr := flag.String("b", "127.0.0.1:30002", "where leg B's packets go (the callee)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	a, b := netip.MustParseAddrPort(*aAddr), netip.MustParseAddrPort(*bAddr)
	ip := netip.MustParseAddr("127.0.0.1")
	bind := func(port int) *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	// pump reads src and sends to dst from out: one direction of one call.
	pump := func(src, out *net.UDPConn, dst netip.AddrPort) {
		buf := make([]byte, 1500) // as media.readBufSize
		for {
			n, _, err := src.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			out.WriteToUDPAddrPort(buf[:n], dst)
		}
	}
	for i := range *n {
		sa, sb := bind(*base+4*i), bind(*base+4*i+2)
		go pump(sa, sb, b) // caller → callee
		go pump(sb, sa, a) // callee → caller
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
