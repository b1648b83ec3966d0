package sdp

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCodecs(t *testing.T) {
	m := &Media{Type: "audio", Port: 5000, Proto: "RTP/AVP", Formats: []string{"0", "96", "97", "98", "8", "99", "128", "x", "96"},
		Attributes: []Attribute{
			{"rtpmap", "0 pcmu/8000"},        // static number, rtpmap wins
			{"rtpmap", "96 opus/48000/2"},    // dynamic
			{"rtpmap", "96 speex/8000"},      // duplicate rtpmap: first wins
			{"rtpmap", "97 broken"},          // malformed: dynamic dropped
			{"rtpmap", "98 L16/0"},           // zero clock rate: dropped
			{"rtpmap", "8 PCMA/8000/0"},      // zero channels: falls back to the static table
			{"fmtp", "96   useinbandfec=1 "}, // extra blanks trimmed
			{"fmtp", "8 x=1"},                // fmtp on a static type
			{"fmtp", "999 x"},                // not a payload type
			{"rtpmap", "99 telephone-event/8000"},
		}}
	want := []Codec{
		{PayloadType: 0, Name: "pcmu", ClockRate: 8000},
		{PayloadType: 96, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
		{PayloadType: 8, Name: "PCMA", ClockRate: 8000, Fmtp: "x=1"},
		{PayloadType: 99, Name: "telephone-event", ClockRate: 8000},
	}
	if got := m.Codecs(); !slices.Equal(got, want) {
		t.Fatalf("Codecs\n got %v\nwant %v", got, want)
	}
	if !PCMU.Same(want[0]) || PCMU.Same(PCMA) || !want[3].IsTelephoneEvent() {
		t.Error("Same / IsTelephoneEvent")
	}
	if s := want[1].String(); s != "opus/48000/2" {
		t.Errorf("String = %q", s)
	}
}

func TestRTCPAttribute(t *testing.T) {
	for v, want := range map[string]struct {
		port int
		conn string
		ok   bool
	}{
		"53020":                    {53020, "", true},
		"53020 IN IP4 126.16.64.4": {53020, "IN IP4 126.16.64.4", true},
		"9 IN IP6 ::":              {9, "IN IP6 ::", true},
		"abc":                      {0, "", false},
		"70000":                    {0, "", false},
		"53020 IN IP5 126.16.64.4": {0, "", false},
		"53020 IN IP4":             {0, "", false},
	} {
		m := &Media{Attributes: []Attribute{{"rtcp", v}}}
		r, ok := m.RTCP()
		conn := ""
		if r.Connection != nil {
			conn = r.Connection.String()
		}
		if ok != want.ok || r.Port != want.port || conn != want.conn {
			t.Errorf("a=rtcp:%s: got %d %q %t", v, r.Port, conn, ok)
		}
	}
	if _, ok := (&Media{}).RTCP(); ok {
		t.Error("RTCP without attribute")
	}
}

func TestPtime(t *testing.T) {
	s := &Session{Attributes: []Attribute{{"ptime", "30"}}}
	for v, want := range map[string]time.Duration{
		"20": 20 * time.Millisecond, "20.0": 20 * time.Millisecond, "2.5": 2500 * time.Microsecond,
		"0": 0, "-20": 0, "x": 0, "NaN": 0, "1e300": 0,
	} {
		if got := s.Ptime(&Media{Attributes: []Attribute{{"ptime", v}}}); got != want {
			t.Errorf("a=ptime:%s = %v, want %v", v, got, want)
		}
	}
	if got := s.Ptime(&Media{}); got != 30*time.Millisecond {
		t.Errorf("session-level ptime = %v", got)
	}
}

func TestRTPAddr(t *testing.T) {
	s := &Session{}
	m := &Media{Port: 5000}
	if _, err := s.RTPAddr(m); !errors.Is(err, ErrNoAddress) {
		t.Fatalf("no c=: %v", err)
	}
	s.Connection = &Connection{"IN", "IP4", "media.example.com"}
	if _, err := s.RTPAddr(m); !errors.Is(err, ErrNoAddress) {
		t.Fatalf("host name: %v", err)
	}
	m.Connection = &Connection{"IN", "IP6", "2001:db8::7"}
	if ap, err := s.RTPAddr(m); err != nil || ap.String() != "[2001:db8::7]:5000" {
		t.Fatalf("media c=: %v %v", ap, err)
	}
}

func TestAudioPicksAnchorableStream(t *testing.T) {
	s := mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"+
		"m=video 4000 RTP/AVP 96\nm=audio 0 RTP/AVP 0\nm=audio 5000 RTP/SAVP 0\nm=audio 5002 rtp/avp 0\n")
	if a := s.Audio(); a == nil || a.Port != 5002 {
		t.Fatalf("Audio = %v", a)
	}
	s.Media = s.Media[:3]
	if a := s.Audio(); a != nil {
		t.Fatalf("Audio = %v, want nil", a)
	}
}
