package siptest

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestLocalSDPRoundTrip(t *testing.T) {
	l := localSDP{origin: Origin{Username: "siptest", SessionID: "42", Version: 7},
		addr: netip.MustParseAddrPort("127.0.0.1:40000"), codecs: []Codec{PCMA, PCMU}, te: 101, direction: SendOnly}
	s, err := ParseSDP(l.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != (Origin{Username: "siptest", SessionID: "42", Version: 7, Address: "127.0.0.1"}) {
		t.Errorf("origin %+v", s.Origin)
	}
	if s.RTPAddr() != l.addr {
		t.Errorf("RTP address %v, want %v", s.RTPAddr(), l.addr)
	}
	if !reflect.DeepEqual(s.Codecs(), []Codec{PCMA, PCMU}) {
		t.Errorf("codecs %v", s.Codecs())
	}
	if pt, ok := s.TelephoneEvent(); !ok || pt != 101 {
		t.Errorf("telephone-event %v %v", pt, ok)
	}
	if s.Direction != SendOnly {
		t.Errorf("direction %q", s.Direction)
	}
}

func TestParseSDPRules(t *testing.T) {
	const body = "v=0\r\n" +
		"o=switchd 123 124 IN IP4 10.0.0.1\r\n" +
		"s=-\r\n" +
		"c=IN IP4 10.0.0.1\r\n" +
		"t=0 0\r\n" +
		"a=recvonly\r\n" +
		"m=audio 30000 RTP/AVP 8 96\r\n" +
		"c=IN IP4 10.0.0.2\r\n" +
		"a=rtpmap:96 PCMU/8000\r\n" +
		"m=video 30002 RTP/AVP 97\r\n" +
		"a=sendrecv\r\n" +
		"c=IN IP4 10.0.0.3\r\n"
	s, err := ParseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RTPAddr().String(); got != "10.0.0.2:30000" {
		t.Errorf("media-level c= must win and later streams be ignored: %s", got)
	}
	if s.Direction != RecvOnly {
		t.Errorf("session-level direction applies to the stream: %q", s.Direction)
	}
	if got := s.Codecs(); !reflect.DeepEqual(got, []Codec{PCMA, {Name: "PCMU", PayloadType: 96}}) {
		t.Errorf("codecs %v (a dynamic payload type is named by rtpmap)", got)
	}
	if s.Origin.Version != 124 || s.Origin.SessionID != "123" {
		t.Errorf("origin %+v", s.Origin)
	}
	for _, bad := range []string{"v=0\r\n", "m=audio x RTP/AVP 0\r\n", "o=a b\r\nm=audio 1 RTP/AVP 0\r\n"} {
		if _, err := ParseSDP([]byte(bad)); err == nil {
			t.Errorf("ParseSDP(%q) succeeded", strings.TrimSpace(bad))
		}
	}
}

func TestAnswerDirection(t *testing.T) {
	for offered, want := range map[string]string{SendRecv: SendRecv, SendOnly: RecvOnly, RecvOnly: SendOnly, Inactive: Inactive} {
		if got := answerDirection(offered); got != want {
			t.Errorf("answer to %s: %s, want %s", offered, got, want)
		}
	}
}

func TestPickCodec(t *testing.T) {
	if c, ok := pickCodec([]Codec{PCMU, PCMA}, []Codec{PCMA}); !ok || c != PCMA {
		t.Errorf("got %v %v, want PCMA", c, ok)
	}
	if c, ok := pickCodec([]Codec{PCMA, PCMU}, []Codec{PCMU, PCMA}); !ok || c != PCMA {
		t.Errorf("the offerer's order wins: got %v", c)
	}
	if _, ok := pickCodec([]Codec{PCMU}, []Codec{PCMA}); ok {
		t.Error("no common codec must fail")
	}
}
