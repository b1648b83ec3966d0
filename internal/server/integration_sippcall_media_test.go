package server_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/sipptest"
)

// TestSippCallMediaCrossesSwitchd: sipp 1001 calls sipp 1002 (which answers
// and echoes RTP with -rtp_echo); the caller's media is a UDP socket of the
// test, so every packet is counted without a capture. It proves:
//   - each phone only sees switchd's media address: the SDP of the 200 OK the
//     caller gets and of the INVITE the callee gets name 127.0.0.1 and two
//     different even ports of media.rtp_ports (never the other phone's);
//   - every packet the caller sends to switchd's caller-side port reaches the
//     callee (it echoes it), and every echo comes back, intact (same SSRC,
//     sequence number and payload), from switchd's caller-side port only;
//   - switchd counted them on both legs (call_ended a_packets_in/b_packets_in).
//
// If media does not cross (no relay, wrong SDP address, latching refused)
// the echo count is short and the test fails.
func TestSippCallMediaCrossesSwitchd(t *testing.T) {
	t.Parallel()
	cfg := scConfig(t)
	ts := scStart(t, cfg)
	uas := ts.scStartUAS(t, scFile("uas_echo.xml"), scCallee, scCalleePW, "-rtp_echo")

	rtpPort := sipptest.FreeMediaPort(t, "127.0.0.1")
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:"+strconv.Itoa(rtpPort))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	answerFile := filepath.Join(t.TempDir(), "answer")
	o := ts.scCallerOpts(scFile("uac_call_gomedia.xml"), scCallerPW, scCallee, "-d", "3000")
	o.Keys = map[string]string{"rtp_ip": "127.0.0.1", "rtp_port": strconv.Itoa(rtpPort), "answer_file": answerFile}
	uac := sipptest.Start(t, o)

	// switchd's address for the caller, as written in its 200 OK (sipp writes it on the 200).
	switchA := scWaitAnswerFile(t, answerFile, uac, 10*time.Second)

	const n = 50
	echo := scCountEcho(t, conn, switchA, n, 20*time.Millisecond)

	r := uac.Wait()
	requireSuccess(t, r, 1)
	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)
	scRequireCodes(t, r, 407, 180, 200, 200) // challenge, ringing, answer, BYE answered

	// (a) SDP: each side sees switchd, on different ports of the range.
	ok200 := scResponses(r.Received(), 200, "INVITE")
	if len(ok200) == 0 {
		t.Fatalf("caller got no 200 to INVITE:\n%s", r.Summary())
	}
	aSDP := scParseSDP(t, ok200[0])
	scRequireSwitchdMedia(t, cfg, "200 OK to the caller", aSDP)
	if netip.AddrPortFrom(aSDP.Conn, uint16(aSDP.Port)) != switchA {
		t.Fatalf("sipp wrote %s from the 200 OK, the log has %s:%d", switchA, aSDP.Conn, aSDP.Port)
	}
	invites := scUnique(scRequests(ur.Received(), "INVITE"))
	if len(invites) != 1 {
		t.Fatalf("callee got %d INVITEs, want 1:\n%s", len(invites), ur.Summary())
	}
	bSDP := scParseSDP(t, invites[0])
	scRequireSwitchdMedia(t, cfg, "INVITE to the callee", bSDP)
	if bSDP.Port == aSDP.Port {
		t.Fatalf("switchd offered the callee its caller-side port %d", bSDP.Port)
	}
	if strings.Contains(bSDP.Text, strconv.Itoa(rtpPort)) || strings.Contains(aSDP.Text, strconv.Itoa(uas.mediaPort)) {
		t.Fatalf("a phone's media port leaked into the other leg's SDP:\ncaller got:\n%s\ncallee got:\n%s", aSDP.Text, bSDP.Text)
	}
	if from := invites[0].Header("From"); !strings.Contains(from, "sip:"+scCaller+"@") {
		t.Fatalf("callee's INVITE From %q does not present the caller %s", from, scCaller)
	}

	// (b) every packet crossed both ways, through switchd's caller-side port only.
	if echo.foreign != 0 || echo.corrupt != 0 || echo.distinct != n {
		t.Fatalf("sent %d RTP packets to switchd %s; echoes back: %d distinct, %d duplicates, %d corrupt, %d from other sources %v",
			n, switchA, echo.distinct, echo.dups, echo.corrupt, echo.foreign, echo.foreignSrc)
	}

	// (c) switchd's own counters agree: n in from the caller, n echoes in from the callee.
	end := ts.scCallEnded(t, 1, 5*time.Second)[0]
	if end["cause"] != "normal_clearing" || end["hangup_side"] != "caller" ||
		scInt(end, "a_packets_in") != n || scInt(end, "b_packets_in") != n {
		t.Fatalf("call_ended %v: want cause normal_clearing by the caller, a_packets_in = b_packets_in = %d", end, n)
	}
	// (d) the call's RTP/RTCP port pairs went back to the pool.
	sipptest.WaitUnbound(t, 2*time.Second, aSDP.Port, aSDP.Port+1, bSDP.Port, bSDP.Port+1)
}

// scWaitAnswerFile waits for the "<ip> <port>" sipp writes on the 200 OK.
func scWaitAnswerFile(t *testing.T, path string, p *sipptest.Process, within time.Duration) netip.AddrPort {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if b, err := os.ReadFile(path); err == nil {
			f := strings.Fields(string(b))
			if len(f) == 2 {
				ap, err := netip.ParseAddrPort(f[0] + ":" + f[1])
				if err != nil {
					t.Fatalf("answer file %q: %v", b, err)
				}
				return ap
			}
		}
		select {
		case <-p.Done():
			t.Fatalf("sipp ended before the call was answered:\n%s", p.Wait().Summary())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from switchd within %s", within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// scEcho counts the RTP that came back to the test's socket.
type scEcho struct {
	distinct, dups, corrupt, foreign int
	foreignSrc                       []netip.AddrPort
}

const scSSRC = 0x5EC0FFEE

// scRTP builds packet i of the test stream: PCMA (PT 8), 20 ms, and a payload
// that names the packet, so that an echo can be matched byte for byte.
func scRTP(i int) []byte {
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	pkt[1] = 8
	if i == 0 {
		pkt[1] |= 0x80 // marker on the first packet of the talk spurt
	}
	binary.BigEndian.PutUint16(pkt[2:], uint16(1000+i))
	binary.BigEndian.PutUint32(pkt[4:], uint32(8000+160*i))
	binary.BigEndian.PutUint32(pkt[8:], scSSRC)
	payload := pkt[12:]
	for j := range payload {
		payload[j] = 0xD5 // A-law silence
	}
	copy(payload, "SWITCHD-RTP")
	binary.BigEndian.PutUint32(payload[12:], uint32(i))
	return pkt
}

// scCountEcho sends n packets to dst every interval and counts what comes
// back until 500 ms after the last one.
func scCountEcho(t *testing.T, conn *net.UDPConn, dst netip.AddrPort, n int, interval time.Duration) scEcho {
	t.Helper()
	var (
		mu   sync.Mutex
		res  scEcho
		seen = map[int]bool{}
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			k, src, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			mu.Lock()
			src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
			switch {
			case src != dst:
				res.foreign++
				res.foreignSrc = append(res.foreignSrc, src)
			case k != 12+160 || binary.BigEndian.Uint32(buf[8:]) != scSSRC:
				res.corrupt++
			default:
				i := int(binary.BigEndian.Uint32(buf[12+12:]))
				if i < 0 || i >= n || !bytes.Equal(buf[2:4], scRTP(i)[2:4]) || !bytes.Equal(buf[12:k], scRTP(i)[12:]) {
					res.corrupt++
				} else if seen[i] {
					res.dups++
				} else {
					seen[i] = true
					res.distinct++
				}
			}
			mu.Unlock()
		}
	}()
	to := net.UDPAddrFromAddrPort(dst)
	tick := time.NewTicker(interval)
	for i := range n {
		if _, err := conn.WriteToUDP(scRTP(i), to); err != nil {
			t.Errorf("send RTP %d: %v", i, err)
		}
		<-tick.C
	}
	tick.Stop()
	time.Sleep(500 * time.Millisecond)
	conn.SetReadDeadline(time.Now())
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return res
}

// TestSippCallPcapBothWays: the same call with sipp's own media on both
// ends (pcap playback from -mp through a raw socket, -rtp_echo on the other
// side), one direction per subtest. switchd's per-leg receive counters
// prove the full crossing because the far end only echoes what reached its
// media port:
//   - caller plays, callee echoes: a_packets_in = the 100 packets of the pcap,
//     b_packets_in = their 100 echoes from the callee;
//   - callee plays, caller echoes: b_packets_in = 100 from the callee,
//     a_packets_in = 100 echoes from the caller.
func TestSippCallPcapBothWays(t *testing.T) {
	t.Parallel()
	const pcapPackets = 100 // pcap/pcma_20ms_2s.pcap
	pcapDir, err := filepath.Abs(scFile("pcap"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("caller plays, callee echoes", func(t *testing.T) {
		t.Parallel()
		cfg := scConfig(t)
		ts := scStart(t, cfg)
		uas := ts.scStartUAS(t, scFile("uas_echo.xml"), scCallee, scCalleePW, "-rtp_echo")
		scen := sipptest.MaterializeScenario(t, scFile("uac_call_pcap.xml"), t.TempDir(), `"pcap/`, `"`+pcapDir+"/")
		mp := sipptest.FreeMediaPort(t, "127.0.0.1")
		r := sipptest.Run(t, ts.scCallerOpts(scen, scCallerPW, scCallee,
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp), "-d", "3000"))
		requireSuccess(t, r, 1)
		requireSuccess(t, uas.proc.Wait(), 1)
		scRequireCodes(t, r, 407, 180, 200, 200)
		scRequireSwitchdMedia(t, cfg, "200 OK to the caller", scParseSDP(t, scResponses(r.Received(), 200, "INVITE")[0]))
		end := ts.scCallEnded(t, 1, 5*time.Second)[0]
		if scInt(end, "a_packets_in") != pcapPackets || scInt(end, "b_packets_in") != pcapPackets {
			t.Fatalf("call_ended %v: want a_packets_in (caller's pcap) = b_packets_in (callee's echo) = %d", end, pcapPackets)
		}
	})

	t.Run("callee plays, caller echoes", func(t *testing.T) {
		t.Parallel()
		cfg := scConfig(t)
		ts := scStart(t, cfg)
		scen := sipptest.MaterializeScenario(t, scFile("uas_play.xml"), t.TempDir(), `"pcap/`, `"`+pcapDir+"/")
		uas := ts.scStartUAS(t, scen, scCallee, scCalleePW)
		mp := sipptest.FreeMediaPort(t, "127.0.0.1")
		o := ts.scCallerOpts(scFile("uac_call_gomedia.xml"), scCallerPW, scCallee,
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp), "-rtp_echo", "-d", "3000")
		o.Keys = map[string]string{"rtp_ip": "127.0.0.1", "rtp_port": strconv.Itoa(mp), "answer_file": filepath.Join(t.TempDir(), "answer")}
		r := sipptest.Run(t, o)
		requireSuccess(t, r, 1)
		requireSuccess(t, uas.proc.Wait(), 1)
		scRequireCodes(t, r, 407, 180, 200, 200)
		invites := scUnique(scRequests(uas.proc.Wait().Received(), "INVITE"))
		if len(invites) != 1 {
			t.Fatalf("callee got %d INVITEs, want 1", len(invites))
		}
		scRequireSwitchdMedia(t, cfg, "INVITE to the callee", scParseSDP(t, invites[0]))
		end := ts.scCallEnded(t, 1, 5*time.Second)[0]
		if scInt(end, "b_packets_in") != pcapPackets || scInt(end, "a_packets_in") != pcapPackets {
			t.Fatalf("call_ended %v: want b_packets_in (callee's pcap) = a_packets_in (caller's echo) = %d", end, pcapPackets)
		}
	})
}
