package server_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/sip/siptest"
	"github.com/switchd/switchd/web"
)

// TestCallUDPPhoneToTCPPhone: a phone on UDP calls a phone registered over
// TCP. switchd must send the INVITE down the TCP connection the phone
// registered on (RFC 3261 §18: the phone is only reachable there), and the
// audio must cross both ways: the callee echoes RTP, so the caller hears
// its own tone only if it went caller → switchd → callee → switchd → caller.
func TestCallUDPPhoneToTCPPhone(t *testing.T) {
	cs := startCallServer(t)
	tcpPort := sipptest.FreePort(t, "127.0.0.1")
	mp := sipptest.FreeMediaPort(t, "127.0.0.1")
	callee := sipptest.Start(t, sipptest.Options{
		Scenario:    scFile("tcp_register_hold.xml"),
		OOCScenario: scFile("ooc_answer_echo.xml"),
		Remote:      cs.udpAddr, // switchd listens on TCP at the same port
		LocalPort:   tcpPort,
		Transport:   "t1",
		Users:       []sipptest.User{{Name: ext1002, Password: pw1002}},
		Keys:        map[string]string{"aor": ext1002, "expires": "3600"},
		Timeout:     20 * time.Second,
		Args:        []string{"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp), "-rtp_echo"},
	})
	regs := cs.waitRegistrations(ext1002, 5*time.Second, "TCP registration", func(r []web.Registration) bool { return len(r) == 1 })
	if regs[0].Transport != "tcp" {
		t.Fatalf("callee registered over %q, want tcp", regs[0].Transport)
	}

	caller := cs.phone(ext1001, pw1001, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := caller.Dial(ctx, ext1002, siptest.DialOptions{})
	if err != nil {
		t.Fatalf("dial over UDP to a TCP phone: %v", err)
	}
	if remote := call.RemoteSDP(); remote == nil || !inRTPRange(remote.Port) {
		t.Fatalf("caller's SDP does not point at switchd's RTP ports: %+v", remote)
	}
	levels, err := call.ToneLevels(ctx, time.Second, 1000, 1500)
	if err != nil {
		t.Fatal(err)
	}
	if levels[0] < siptest.ToneDetected {
		t.Fatalf("caller's 1000 Hz did not come back through the TCP phone's echo: level %.3f", levels[0])
	}
	if levels[1] > siptest.ToneAbsent {
		t.Fatalf("1500 Hz present (%.3f): something else is on the line", levels[1])
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	res := callee.Wait()
	if res.ExitCode != sipptest.ExitAllSucceeded {
		t.Fatalf("TCP phone's scenario failed:\n%s", res.Summary())
	}
	cs.waitIdle(5 * time.Second)
}
