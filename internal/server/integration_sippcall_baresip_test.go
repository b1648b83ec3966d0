package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/web"
)

// baresip 1.0 (Debian baresip-core) as a real softphone.
//
// Loopback: baresip 1.0 skips loopback interfaces when it picks its local
// address by itself (it would take eth0's, or fail on a host with only
// lo), but "net_interface 127.0.0.1" (= -n 127.0.0.1) binds it to
// 127.0.0.1 for SIP and RTP, so no network namespace is needed.
// Audio without hardware: ausine (a 440 Hz tone; 48 kHz stereo only, so
// ausrc_srate/ausrc_channels are set and baresip resamples to 8 kHz),
// sndfile (writes what it sends and what it decodes as WAV files) and no
// player. rtp_stats prints baresip's own RTP counters at hang-up. It is
// driven through ctrl_tcp (netstring JSON commands and events).
const (
	scBaresipModules = "/usr/lib/baresip/modules"
	scToneHz         = 440
)

// TestSippCallBaresipToSipp: baresip registers as 1001 and calls 1002, a
// sipp UAS that answers and echoes RTP. It proves that a real softphone's
// call goes through: baresip registers (digest MD5), is challenged on its
// INVITE and authenticates, gets 180 and 200 (CALL_ESTABLISHED) and RTP
// (CALL_RTPESTAB) from switchd's media port, never the callee's; the tone
// it sends crosses switchd, is echoed by sipp and comes back: baresip's
// own counters show RTP both ways, switchd counted it on both legs, and
// the audio baresip decoded is its 440 Hz tone.
func TestSippCallBaresipToSipp(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatalf("baresip is not installed (%v): apt-get install baresip-core", err)
	}
	for _, m := range []string{"g711", "ausine", "sndfile", "account", "ctrl_tcp", "menu"} {
		if _, err := os.Stat(filepath.Join(scBaresipModules, m+".so")); err != nil {
			t.Fatalf("baresip module %s missing: %v (apt-get install baresip-core)", m, err)
		}
	}
	cfg := scConfig(t)
	ts := scStart(t, cfg)
	uas := ts.scStartUAS(t, scFile("uas_echo.xml"), scCallee, scCalleePW, "-rtp_echo")

	b := scStartBaresip(t, bin, ts.udpAddr, scCaller, scCallerPW)
	regs := ts.waitRegistrations(scCaller, 10*time.Second, "baresip registered", func(r []web.Registration) bool { return len(r) == 1 })
	if !strings.HasPrefix(regs[0].UserAgent, "baresip") || !strings.Contains(regs[0].Contact, "@127.0.0.1:"+itoa(b.sipPort)) {
		t.Fatalf("binding of 1001 is not baresip's on 127.0.0.1:%d: %s", b.sipPort, dumpRegs(regs))
	}

	b.command(t, "dial", scCallee)
	b.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	b.waitEvent(t, "CALL_RTPESTAB", 5*time.Second)
	time.Sleep(2 * time.Second) // talk: 100 packets each way
	b.command(t, "hangup", "")
	b.waitEvent(t, "CALL_CLOSED", 5*time.Second)
	out := b.quit(t)

	ur := uas.proc.Wait()
	requireSuccess(t, ur, 1)

	// switchd answered for the callee with its own media address.
	invites := scUnique(scRequests(ur.Received(), "INVITE"))
	if len(invites) != 1 {
		t.Fatalf("callee got %d INVITEs, want 1:\n%s", len(invites), ur.Summary())
	}
	bSDP := scParseSDP(t, invites[0])
	scRequireSwitchdMedia(t, cfg, "INVITE to the callee", bSDP)

	// baresip: authenticated INVITE, RTP from one of switchd's ports (not the callee's).
	if !strings.Contains(out, "407 Proxy Authentication Required") {
		t.Fatalf("baresip was not challenged on its INVITE:\n%s", scTail(out, 6000))
	}
	m := regexp.MustCompile(`incoming rtp for 'audio' established, receiving from 127\.0\.0\.1:(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("baresip received no RTP:\n%s", scTail(out, 6000))
	}
	from, _ := strconv.Atoi(m[1])
	r := cfg.Media.RTPPorts
	if from < r.Min || from > r.Max || from == bSDP.Port || from == uas.mediaPort {
		t.Fatalf("baresip got RTP from 127.0.0.1:%d, want switchd's caller-side port in %d-%d (callee side %d, sipp %d)",
			from, r.Min, r.Max, bSDP.Port, uas.mediaPort)
	}
	tx, rx := scBaresipPackets(t, out)
	if tx < 75 || rx < 75 {
		t.Fatalf("baresip's RTP counters: %d sent, %d received; want ≥ 75 each way in 2 s of talk:\n%s", tx, rx, scTail(out, 3000))
	}

	end := ts.scCallEnded(t, 1, 5*time.Second)[0]
	if end["cause"] != "normal_clearing" || end["hangup_side"] != "caller" ||
		scInt(end, "a_packets_in") < 75 || scInt(end, "b_packets_in") < 75 {
		t.Fatalf("call_ended %v: want normal_clearing by the caller, ≥ 75 packets in on each leg", end)
	}

	// What baresip heard is its own tone, echoed through switchd.
	heard := scReadWAV(t, b.decodedWAV(t))
	share, control := scToneShare(heard, 8000, scToneHz), scToneShare(heard, 8000, 1000)
	t.Logf("baresip RTP: %d sent, %d received from 127.0.0.1:%d; decoded audio (%d samples): %.1f%% of its energy at %d Hz, %.1f%% at 1000 Hz",
		tx, rx, from, len(heard), 100*share, scToneHz, 100*control)
	if share < 0.8 || control > 0.05 {
		t.Fatalf("decoded audio is not baresip's %d Hz tone: %.1f%% of its energy at %d Hz (want ≥ 80%%), %.1f%% at 1000 Hz (want ≤ 5%%)",
			scToneHz, 100*share, scToneHz, 100*control)
	}
	sipptest.WaitUnbound(t, 2*time.Second, from, from+1, bSDP.Port, bSDP.Port+1)
}

// scBaresip is a running baresip driven through ctrl_tcp.
type scBaresip struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	dir     string
	sipPort int
	conn    net.Conn
	done    chan struct{}

	mu     sync.Mutex
	events []map[string]any
	cond   chan struct{} // closed and replaced on every message
	token  int
}

// scStartBaresip writes a configuration for user (registering at
// registrar) into a temp dir and starts baresip on it; the test's cleanup
// kills it if it still runs.
func scStartBaresip(t *testing.T, bin, registrar, user, password string) *scBaresip {
	t.Helper()
	dir := t.TempDir()
	sipPort := scFreePortPair(t) // baresip listens on UDP+TCP sipPort and TLS (TCP) sipPort+1
	ctrlPort := sipptest.FreePort(t, "127.0.0.1")
	conf := strings.Join([]string{
		"poll_method epoll",
		"net_interface 127.0.0.1",
		"sip_listen 127.0.0.1:" + itoa(sipPort),
		"sip_trans_def udp",
		"call_local_timeout 20",
		"audio_source ausine," + itoa(scToneHz),
		"audio_player aufile,/dev/null",
		"audio_alert aufile,/dev/null",
		"ausrc_srate 48000",
		"ausrc_channels 2",
		"auplay_srate 8000",
		"auplay_channels 1",
		"rtp_ports 28000-28999",
		"rtp_stats yes",
		"module_path " + scBaresipModules,
		"module g711.so",
		"module ausine.so",
		"module sndfile.so",
		"snd_path " + dir,
		"module_app account.so",
		"module_app menu.so",
		"module_app ctrl_tcp.so",
		"ctrl_tcp_listen 127.0.0.1:" + itoa(ctrlPort),
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	acct := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;regint=600;answermode=manual;audio_codecs=PCMA,PCMU\n", user, registrar, password)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o600); err != nil {
		t.Fatal(err)
	}
	// A hard bound: baresip quits by itself after 40 s whatever happens (-t).
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-v", "-s", "-t", "40")
	cmd.Dir = dir
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start baresip: %v", err)
	}
	b := &scBaresip{cmd: cmd, out: out, dir: dir, sipPort: sipPort, done: make(chan struct{}), cond: make(chan struct{})}
	go func() { cmd.Wait(); cancel(); close(b.done) }()
	t.Cleanup(func() {
		if b.conn != nil {
			b.conn.Close()
		}
		select {
		case <-b.done:
		default:
			cmd.Process.Kill()
			<-b.done
		}
		if t.Failed() {
			t.Logf("baresip output:\n%s", scTail(out.String(), 12000))
		}
	})

	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+itoa(ctrlPort))
		if err == nil {
			b.conn = c
			break
		}
		select {
		case <-b.done:
			t.Fatalf("baresip exited at start-up:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip ctrl_tcp not listening on %d: %v\n%s", ctrlPort, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	go b.read()
	return b
}

// read collects ctrl_tcp messages: netstrings ("<len>:<json>,").
func (b *scBaresip) read() {
	r := bufio.NewReader(b.conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
		if err != nil || n < 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		var msg map[string]any
		if json.Unmarshal(buf[:n], &msg) != nil {
			continue
		}
		b.mu.Lock()
		b.events = append(b.events, msg)
		close(b.cond)
		b.cond = make(chan struct{})
		b.mu.Unlock()
	}
}

// waitMsg waits for a ctrl_tcp message matching ok.
func (b *scBaresip) waitMsg(t *testing.T, what string, within time.Duration, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(within)
	for {
		b.mu.Lock()
		for _, e := range b.events {
			if ok(e) {
				b.mu.Unlock()
				return e
			}
		}
		cond := b.cond
		b.mu.Unlock()
		select {
		case <-cond:
		case <-b.done:
			t.Fatalf("baresip exited while waiting for %s", what)
		case <-deadline:
			b.mu.Lock()
			evs, _ := json.Marshal(b.events)
			b.mu.Unlock()
			t.Fatalf("baresip: no %s within %s; messages so far: %s", what, within, evs)
		}
	}
}

// waitEvent waits for a ctrl_tcp event of type typ.
func (b *scBaresip) waitEvent(t *testing.T, typ string, within time.Duration) map[string]any {
	t.Helper()
	return b.waitMsg(t, "event "+typ, within, func(e map[string]any) bool { return e["event"] == true && e["type"] == typ })
}

// command sends a ctrl_tcp command and waits for its successful response.
func (b *scBaresip) command(t *testing.T, command, params string) {
	t.Helper()
	b.mu.Lock()
	b.token++
	token := "t" + itoa(b.token)
	b.mu.Unlock()
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": token})
	if _, err := fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg); err != nil {
		t.Fatalf("baresip ctrl_tcp %s: %v", command, err)
	}
	res := b.waitMsg(t, "response to "+command, 5*time.Second, func(e map[string]any) bool { return e["response"] == true && e["token"] == token })
	if res["ok"] != true {
		t.Fatalf("baresip %s %q failed: %v", command, params, res)
	}
}

// quit ends baresip and returns its output.
func (b *scBaresip) quit(t *testing.T) string {
	t.Helper()
	b.command(t, "quit", "")
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("baresip did not exit after quit")
	}
	return b.out.String()
}

// decodedWAV is the sndfile dump of what baresip decoded (heard).
func (b *scBaresip) decodedWAV(t *testing.T) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(m) != 1 {
		t.Fatalf("baresip sndfile: want one decoded dump in %s, found %v", b.dir, m)
	}
	return m[0]
}

// scBaresipPackets reads baresip's rtp_stats table ("packets: <tx> <rx>").
func scBaresipPackets(t *testing.T, out string) (tx, rx int) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^packets:\s+(\d+)\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("baresip printed no RTP statistics:\n%s", scTail(out, 4000))
	}
	tx, _ = strconv.Atoi(m[1])
	rx, _ = strconv.Atoi(m[2])
	return tx, rx
}

// scFreePortPair returns a port p free for UDP and TCP with p+1 free for TCP.
func scFreePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := sipptest.FreePort(t, "127.0.0.1")
		if ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(p+1)); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// scReadWAV returns the samples of a 16-bit mono PCM WAV file.
func scReadWAV(t *testing.T, path string) []int16 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		t.Fatalf("%s is not a WAV file", path)
	}
	var channels, bits uint16
	for off := 12; off+8 <= len(data); {
		id, size := string(data[off:off+4]), int(binary.LittleEndian.Uint32(data[off+4:]))
		body := data[off+8 : min(len(data), off+8+size)]
		switch id {
		case "fmt ":
			if len(body) >= 16 {
				channels, bits = binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint16(body[14:])
			}
		case "data":
			if channels != 1 || bits != 16 {
				t.Fatalf("%s: %d channels, %d bits; want 16-bit mono", path, channels, bits)
			}
			s := make([]int16, len(body)/2)
			if err := binary.Read(bytes.NewReader(body[:2*len(s)]), binary.LittleEndian, s); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			return s
		}
		off += 8 + size + size%2
	}
	t.Fatalf("%s has no data chunk", path)
	return nil
}

// scToneShare is the share of the signal's energy at freq (Goertzel over
// 20 ms blocks, blocks of silence left out). 0 when all is silence.
func scToneShare(s []int16, rate, freq int) float64 {
	const block = 160
	coeff := 2 * math.Cos(2*math.Pi*float64(freq)/float64(rate))
	var tone, total float64
	for i := 0; i+block <= len(s); i += block {
		var s1, s2, energy float64
		for _, v := range s[i : i+block] {
			x := float64(v)
			s0 := x + coeff*s1 - s2
			s2, s1 = s1, s0
			energy += x * x
		}
		if energy < block*100*100 { // quieter than about -50 dBFS: silence
			continue
		}
		power := s1*s1 + s2*s2 - coeff*s1*s2 // |X(f)|²
		tone += 2 * power / block            // energy of the sinusoid at f
		total += energy
	}
	if total == 0 {
		return 0
	}
	return tone / total
}

func scTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
