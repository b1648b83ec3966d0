package sdp

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenSep separates a golden file's input from its expected output.
const goldenSep = "-----"

// goldenLocal is switchd's side in the answers written to golden files.
var goldenLocal = Local{
	SessionID: 42, Version: 42,
	Addr: netip.MustParseAddr("192.0.2.1"), Port: 10000,
	Codecs:         []Codec{PCMU, PCMA, G722, G729},
	TelephoneEvent: 101,
	Ptime:          20 * time.Millisecond,
}

// splitGolden returns a golden file's input and expected output.
func splitGolden(t testing.TB, path string) (input, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in, want, ok := strings.Cut(string(b), "\n"+goldenSep+"\n")
	if !ok {
		t.Fatalf("%s: no %q separator line", path, goldenSep)
	}
	return in + "\n", want
}

func goldenFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	return files
}

// TestParseGolden parses each testdata/parse/*.txt input and compares a
// summary (model, audio helpers, re-serialised form, switchd's answer) or
// the error with the part after the separator. -update rewrites them.
func TestParseGolden(t *testing.T) {
	for _, path := range goldenFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			in, want := splitGolden(t, path)
			got := summarise(t, in)
			if *update {
				b, _ := os.ReadFile(path)
				head, _, _ := strings.Cut(string(b), "\n"+goldenSep+"\n")
				if err := os.WriteFile(path, []byte(head+"\n"+goldenSep+"\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s: summary differs (run with -update to accept)\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// summarise renders what the package makes of input. It also checks the
// invariants every accepted input must meet.
func summarise(t *testing.T, input string) string {
	s, err := Parse([]byte(input))
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("error %v does not wrap ErrMalformed", err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("error %v is not a *ParseError", err)
		}
		return "error: " + err.Error() + "\n"
	}
	checkRoundTrip(t, s)
	lf := strings.ReplaceAll(input, "\r\n", "\n")
	crlf, err := Parse([]byte(strings.ReplaceAll(lf, "\n", "\r\n")))
	if err != nil || !reflect.DeepEqual(crlf, s) {
		t.Errorf("CRLF form parses differently: %v", err)
	}

	var b strings.Builder
	o := s.Origin
	fmt.Fprintf(&b, "origin: user=%s id=%s version=%d %s %s %s\n", o.Username, o.SessionID, o.Version, o.NetType, o.AddrType, o.Address)
	fmt.Fprintf(&b, "name: %q\n", s.Name)
	if s.Connection != nil {
		fmt.Fprintf(&b, "connection: %s\n", s.Connection)
	}
	for _, bw := range s.Bandwidths {
		fmt.Fprintf(&b, "bandwidth: %s:%d\n", bw.Type, bw.Value)
	}
	for _, tm := range s.Timings {
		fmt.Fprintf(&b, "timing: %d %d repeats=%q\n", tm.Start, tm.Stop, tm.Repeats)
	}
	for _, f := range s.Fields {
		fmt.Fprintf(&b, "field: %c=%s\n", f.Type, f.Value)
	}
	fmt.Fprintf(&b, "attributes: %d\n", len(s.Attributes))
	for i, m := range s.Media {
		fmt.Fprintf(&b, "media %d: %s\n", i, m)
		fmt.Fprintf(&b, "  disabled=%t attributes=%d fields=%d bandwidths=%d\n", m.Disabled(), len(m.Attributes), len(m.Fields), len(m.Bandwidths))
		if c := s.ConnectionFor(m); c != nil {
			fmt.Fprintf(&b, "  connection: %s (hold address %t)\n", c, c.IsHold())
		}
		if ap, err := s.RTPAddr(m); err == nil {
			fmt.Fprintf(&b, "  rtp: %s\n", ap)
		} else {
			fmt.Fprintf(&b, "  rtp: %v\n", err)
		}
		if r, ok := m.RTCP(); ok {
			c := "-"
			if r.Connection != nil {
				c = r.Connection.String()
			}
			fmt.Fprintf(&b, "  rtcp: port %d connection %s\n", r.Port, c)
		}
		if m.RTCPMux() {
			b.WriteString("  rtcp-mux\n")
		}
		fmt.Fprintf(&b, "  direction: %s effective=%s hold=%t\n", s.Direction(m), s.EffectiveDirection(m), s.Hold(m))
		if p := s.Ptime(m); p != 0 {
			fmt.Fprintf(&b, "  ptime: %s\n", p)
		}
		if p := s.MaxPtime(m); p != 0 {
			fmt.Fprintf(&b, "  maxptime: %s\n", p)
		}
		for _, c := range m.Codecs() {
			fmt.Fprintf(&b, "  codec: %d %s", c.PayloadType, c)
			if c.Fmtp != "" {
				fmt.Fprintf(&b, " fmtp=%q", c.Fmtp)
			}
			b.WriteByte('\n')
		}
	}
	if out := s.String(); out == strings.ReplaceAll(lf, "\n", "\r\n") {
		b.WriteString("marshal: identical to input\n")
	} else {
		b.WriteString("marshal:\n" + indent(out))
	}
	ans, err := Answer(s, goldenLocal)
	if err != nil {
		fmt.Fprintf(&b, "answer: error: %v\n", err)
	} else {
		checkRoundTrip(t, ans)
		b.WriteString("answer:\n" + indent(ans.String()))
	}
	return b.String()
}

func indent(sdp string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(sdp, "\r\n"), "\r\n", "\n  ") + "\n"
}

// checkRoundTrip checks that s survives Marshal and Parse unchanged.
func checkRoundTrip(t testing.TB, s *Session) {
	t.Helper()
	out := s.Marshal()
	s2, err := Parse(out)
	if err != nil {
		t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(s, s2) {
		t.Fatalf("Parse(Marshal(s)) != s\n%s\n%#v\n%#v", out, s, s2)
	}
	if out2 := s2.Marshal(); string(out2) != string(out) {
		t.Fatalf("Marshal not stable:\n%q\n%q", out, out2)
	}
}

func TestParseLimits(t *testing.T) {
	head := "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"
	big := head + "m=audio 5000 RTP/AVP 0\n" + strings.Repeat("a=x-pad:"+strings.Repeat("x", 1000)+"\n", MaxSize/1000)
	for _, tc := range []struct {
		name, in string
		want     string // substring of the error, "" for success
	}{
		{"over size", big, "over the 262144-byte limit"},
		{"max media", head + strings.Repeat("m=audio 0 RTP/AVP 0\n", MaxMedia), ""},
		{"too many media", head + strings.Repeat("m=audio 0 RTP/AVP 0\n", MaxMedia+1), "line 70 \"m=audio 0 RTP/AVP 0\": more than 64 m= lines"},
		{"long line shortened in error", head + "m=audio " + strings.Repeat("9", 200) + " RTP/AVP 0\n", "…\": bad m= line: bad port"},
		{"NUL", head + "a=x\x00y\n", "control character"},
		{"inner CR", head + "a=x\ry\n", "control character"},
		{"blank lines and trailing blanks", "\n\nv=0 \n\no=- 1 1 IN IP4 192.0.2.9\t\r\ns=-\r\n\r\n", ""},
		{"no final newline", "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.in))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want == "":
				checkRoundTrip(t, s)
			case err == nil:
				t.Fatalf("accepted, want error containing %q", tc.want)
			case !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want one wrapping ErrMalformed containing %q", err, tc.want)
			}
		})
	}
}

// TestMarshalCanonical checks that a description written in RFC 8866 order
// with CRLF comes back byte for byte.
func TestMarshalCanonical(t *testing.T) {
	in := "v=0\r\no=- 7 9 IN IP4 198.51.100.7\r\ns=call\r\ni=info\r\nu=http://example.com/\r\ne=a@example.com\r\np=+1 555\r\n" +
		"c=IN IP4 198.51.100.7\r\nb=AS:64\r\nt=0 0\r\nr=604800 3600 0 90000\r\nz=2882844526 -1h\r\nk=prompt\r\nx=unknown\r\na=tool:x\r\n" +
		"m=audio 5004/2 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 224.2.1.1/127/2\r\nb=TIAS:64000\r\nk=clear:x\r\nc=IN IP4 224.2.1.3/127\r\na=recvonly\r\na=fmtp:\r\n" +
		"m=video 0 RTP/AVP\r\n"
	s, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != strings.Replace(in, "a=fmtp:\r\n", "a=fmtp\r\n", 1) {
		t.Errorf("Marshal:\n%s\nwant\n%s", got, in)
	}
	checkRoundTrip(t, s)
}

func TestParseErrorShape(t *testing.T) {
	_, err := Parse([]byte("v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP5 192.0.2.9\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 4 || pe.Text != "c=IN IP5 192.0.2.9" || !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %#v", err)
	}
	_, err = Parse(nil)
	if !errors.As(err, &pe) || pe.Line != 0 || err.Error() != "sdp: empty description: missing v= line" {
		t.Fatalf("got %v", err)
	}
}
