package sipptest

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FreeMediaPort returns an even UDP port on ip for sipp's -mp: sipp binds
// the port and the port + 2 (its "video" echo socket) even without
// -rtp_echo, so both must be free. The sockets are closed again.
func FreeMediaPort(t testing.TB, ip string) int {
	t.Helper()
	for range 100 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("sipptest: free media port on %s: %v", ip, err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		if port%2 != 0 || port+3 > 65535 {
			continue
		}
		ok := true
		for _, p := range []int{port, port + 1, port + 2, port + 3} {
			c, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			c.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatalf("sipptest: no free media port pair on %s", ip)
	return 0
}

// Stop ends a sipp run that is still going the way the 'q' key does
// (SIGUSR1: no new calls, then exit), so that its logs are complete, and
// kills it if it has not exited within grace. It returns what the run left.
func (p *Process) Stop(grace time.Duration) *Result {
	select {
	case <-p.done:
		return p.Wait()
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGUSR1)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
	}
	return p.Wait()
}

// MaterializeScenario copies the scenario at path into dir with every
// replacement old→new applied (e.g. a relative pcap path made absolute,
// since sipp opens play_pcap_audio files when it loads the scenario,
// relative to its own working directory). It returns the new path.
func MaterializeScenario(t testing.TB, path, dir string, replacements ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sipptest: scenario: %v", err)
	}
	s := strings.NewReplacer(replacements...).Replace(string(b))
	out := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// WaitListening waits until the sipp run has a UDP socket on ip:port, and
// fails the test at once if sipp exits first.
func (p *Process) WaitListening(ip string, port int, within time.Duration) {
	p.t.Helper()
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.Is4() {
		p.t.Fatalf("sipptest: WaitListening needs an IPv4 address, got %q", ip)
	}
	deadline := time.Now().Add(within)
	for !udpBound(addr, port) {
		select {
		case <-p.done:
			p.t.Fatalf("sipptest: sipp exited before listening on %s:%d:\n%s", ip, port, p.Wait().Summary())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("sipptest: sipp not listening on udp %s:%d after %s", ip, port, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitUnbound waits until no IPv4 UDP socket of any process is bound to
// port, on any address (e.g. the RTP ports of a call that ended), and
// fails the test with the ports still bound after within.
func WaitUnbound(t testing.TB, within time.Duration, ports ...int) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var bound []int
		for _, p := range ports {
			if udpBound(netip.Addr{}, p) {
				bound = append(bound, p)
			}
		}
		if len(bound) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sipptest: udp ports %v still bound %s later", bound, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// udpBound reports whether /proc/net/udp lists a socket on port bound to
// addr or to 0.0.0.0; with an invalid addr, on any address.
func udpBound(addr netip.Addr, port int) bool {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return false
	}
	defer f.Close()
	// The address is the host-order (little-endian) hex of the network-order
	// bytes, then ':' and the port in hex.
	suffix := fmt.Sprintf(":%04X", port)
	var want string
	if addr.IsValid() {
		a := addr.As4()
		want = fmt.Sprintf("%02X%02X%02X%02X", a[3], a[2], a[1], a[0]) + suffix
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.HasSuffix(fields[1], suffix) {
			continue
		}
		if !addr.IsValid() || fields[1] == want || fields[1] == "00000000"+suffix {
			return true
		}
	}
	return false
}
