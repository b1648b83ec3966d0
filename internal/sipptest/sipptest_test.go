package sipptest

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBinary(t *testing.T) {
	p := Binary(t) // fails (never skips) without sipp
	if !filepath.IsAbs(p) {
		t.Fatalf("Binary() = %q, want an absolute path", p)
	}
}

func TestWriteUsers(t *testing.T) {
	p := WriteUsers(t, t.TempDir(), []User{{Name: "1001", Password: "pw1"}, {Name: "1002", Password: "pw2", Domain: "example.com"}})
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "SEQUENTIAL\n" +
		"1001;pw1;127.0.0.1;[authentication username=1001 password=pw1]\n" +
		"1002;pw2;example.com;[authentication username=1002 password=pw2]\n"
	if string(b) != want {
		t.Fatalf("injection file:\n%s\nwant:\n%s", b, want)
	}
}

func TestFreePort(t *testing.T) {
	p := FreePort(t, "127.0.0.1")
	addr := "127.0.0.1:" + strconv.Itoa(p)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("TCP %s: %v", addr, err)
	}
	ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("UDP %s: %v", addr, err)
	}
	pc.Close()
}

const sampleLog = `----------------------------------------------- 2026-11-24 21:10:48.827918
UDP message sent (359 bytes):

REGISTER sip:127.0.0.1:46725 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:38885;branch=z9hG4bK-12121-1-0;rport
Call-ID: 1-12121@127.0.0.1
Contact: <sip:1001@127.0.0.1:38885;transport=UDP>
Content-Length: 0


----------------------------------------------- 2026-11-24 21:10:48.828095
UDP message received [551] bytes :

SIP/2.0 401 Unauthorized
Call-ID: 1-12121@127.0.0.1
WWW-Authenticate: Digest realm="switchd", nonce="n", algorithm=MD5, qop="auth"
WWW-Authenticate: Digest realm="switchd", nonce="n", algorithm=SHA-256, qop="auth"
Content-Length: 0


----------------------------------------------- 2026-11-24 21:10:49.642934
TCP message received [362] bytes :

OPTIONS sip:1001@127.0.0.1:38885;transport=UDP SIP/2.0
CSeq: 1 OPTIONS
Content-Length: 0

`

func TestParseMessages(t *testing.T) {
	ms := ParseMessages(sampleLog)
	if len(ms) != 3 {
		t.Fatalf("parsed %d messages, want 3: %+v", len(ms), ms)
	}
	if !ms[0].Sent || !ms[0].IsRequest("REGISTER") || ms[0].Transport != "UDP" || ms[0].StatusCode() != 0 {
		t.Fatalf("first: %+v", ms[0])
	}
	if got := ms[0].Header("contact"); got != "<sip:1001@127.0.0.1:38885;transport=UDP>" {
		t.Fatalf("Contact = %q", got)
	}
	if ms[1].Sent || ms[1].StatusCode() != 401 || len(ms[1].Headers("WWW-Authenticate")) != 2 {
		t.Fatalf("second: %+v", ms[1])
	}
	if ms[2].Sent || !ms[2].IsRequest("OPTIONS") || ms[2].Transport != "TCP" || ms[2].Header("CSeq") != "1 OPTIONS" {
		t.Fatalf("third: %+v", ms[2])
	}
	r := &Result{Messages: sampleLog}
	if c := r.ReceivedCodes(); len(c) != 1 || c[0] != 401 {
		t.Fatalf("ReceivedCodes = %v", c)
	}
	if len(r.Sent()) != 1 || len(r.Received()) != 2 {
		t.Fatalf("sent %d received %d", len(r.Sent()), len(r.Received()))
	}
}

func TestReadStats(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stats.csv")
	csv := "StartTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);\n" +
		"2026-11-24\t21:10:36.279269\t1795554636.279269;0;0;0;0;\n" +
		"2026-11-24\t21:10:37.279269\t1795554637.279269;1;3;0;2;\n"
	if err := os.WriteFile(p, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	st := readStats(p)
	r := &Result{Stats: st}
	if r.Successful() != 3 || r.Failed() != 2 || st.Int("Missing") != -1 {
		t.Fatalf("stats %v: successful %d failed %d", st, r.Successful(), r.Failed())
	}
	if got := readStats(filepath.Join(t.TempDir(), "none.csv")); len(got) != 0 {
		t.Fatalf("missing file: %v", got)
	}
}

// optionsScenario sends one OPTIONS and expects a 200.
const optionsScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options">
  <send retrans="500">
    <![CDATA[

      OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      Max-Forwards: 70
      From: <sip:sipp@[local_ip]:[local_port]>;tag=[call_number]
      To: <sip:[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      X-Marker: [marker]
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// peer is a UDP SIP peer written in Go: it records what it gets and answers
// requests with 200 when answer is set.
func peer(t *testing.T, answer bool) (addr string, got chan string) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	got = make(chan string, 16)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			select {
			case got <- msg:
			default:
			}
			if !answer {
				continue
			}
			var res strings.Builder
			res.WriteString("SIP/2.0 200 OK\r\n")
			for _, l := range strings.Split(msg, "\r\n") {
				for _, h := range []string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
					if strings.HasPrefix(l, h) {
						res.WriteString(l + "\r\n")
					}
				}
			}
			res.WriteString("Content-Length: 0\r\n\r\n")
			_, _ = conn.WriteToUDP([]byte(res.String()), from)
		}
	}()
	return conn.LocalAddr().String(), got
}

func writeScenario(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "options.xml")
	if err := os.WriteFile(p, []byte(optionsScenario), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunSucceeds: a peer that answers makes the run succeed, and -key
// values reach the scenario.
func TestRunSucceeds(t *testing.T) {
	addr, got := peer(t, true)
	r := Run(t, Options{Scenario: writeScenario(t), Remote: addr, Keys: map[string]string{"marker": "m-42"}, Timeout: 5 * time.Second})
	if r.ExitCode != ExitAllSucceeded || r.Successful() != 1 || r.Failed() != 0 {
		t.Fatalf("want success:\n%s", r.Summary())
	}
	select {
	case msg := <-got:
		if !strings.HasPrefix(msg, "OPTIONS ") || !strings.Contains(msg, "X-Marker: m-42") {
			t.Fatalf("peer got %q", msg)
		}
	default:
		t.Fatal("the peer received nothing")
	}
	if c := r.ReceivedCodes(); len(c) != 1 || c[0] != 200 {
		t.Fatalf("received %v:\n%s", c, r.Summary())
	}
	if r.LocalIP != "127.0.0.1" || r.LocalPort == 0 {
		t.Fatalf("local address %s:%d", r.LocalIP, r.LocalPort)
	}
}

// TestRunFails: a silent peer makes the call, and so the run, fail — the
// harness reports failures rather than hiding them.
func TestRunFails(t *testing.T) {
	addr, got := peer(t, false)
	r := Run(t, Options{Scenario: writeScenario(t), Remote: addr, Keys: map[string]string{"marker": "x"},
		RecvTimeout: 300 * time.Millisecond, Timeout: 5 * time.Second})
	if r.ExitCode != ExitSomeFailed || r.Successful() != 0 || r.Failed() != 1 {
		t.Fatalf("want one failed call and exit code 1:\n%s", r.Summary())
	}
	if len(got) == 0 {
		t.Fatal("the peer received nothing")
	}
	if r.Elapsed > 4*time.Second {
		t.Fatalf("a 300 ms receive timeout took %s", r.Elapsed)
	}
}

// TestRunGlobalTimeout: -timeout bounds a run that would wait forever, and
// counts as a failure (-timeout_error).
func TestRunGlobalTimeout(t *testing.T) {
	addr, _ := peer(t, false)
	r := Run(t, Options{Scenario: writeScenario(t), Remote: addr, Keys: map[string]string{"marker": "x"},
		Timeout: time.Second, Args: []string{"-max_retrans", "100"}})
	if r.ExitCode == ExitAllSucceeded {
		t.Fatalf("a run cut by the global timeout exited 0:\n%s", r.Summary())
	}
	if r.Elapsed > 5*time.Second {
		t.Fatalf("1 s global timeout took %s", r.Elapsed)
	}
}
