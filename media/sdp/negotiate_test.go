package sdp

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func codec(pt uint8, name string, rate uint32, ch uint16, fmtp string) Codec {
	return Codec{PayloadType: pt, Name: name, ClockRate: rate, Channels: ch, Fmtp: fmtp}
}

func TestNegotiate(t *testing.T) {
	opus := codec(111, "opus", 48000, 2, "useinbandfec=1")
	te := func(pt uint8, rate uint32, fmtp string) Codec { return codec(pt, "telephone-event", rate, 0, fmtp) }
	for _, tc := range []struct {
		name               string
		offered, supported []Codec
		want               []Codec
		wantErr            error
	}{
		{
			name:      "our preference order, not the offer's",
			offered:   []Codec{PCMA, PCMU},
			supported: []Codec{PCMU, PCMA},
			want:      []Codec{PCMU, PCMA},
		},
		{
			name:      "only common codecs",
			offered:   []Codec{opus, G722, PCMA},
			supported: []Codec{PCMU, PCMA, G729},
			want:      []Codec{PCMA},
		},
		{
			name:      "dynamic payload type and name spelling kept from the offer, fmtp ours",
			offered:   []Codec{codec(96, "OPUS", 48000, 2, "stereo=1")},
			supported: []Codec{codec(120, "opus", 48000, 2, "useinbandfec=1")},
			want:      []Codec{codec(96, "OPUS", 48000, 2, "useinbandfec=1")},
		},
		{
			name:      "static encoding remapped to a dynamic number keeps the offer's number",
			offered:   []Codec{codec(98, "PCMU", 8000, 0, "")},
			supported: []Codec{PCMU},
			want:      []Codec{codec(98, "PCMU", 8000, 0, "")},
		},
		{
			name:      "clock rate and channels must match",
			offered:   []Codec{codec(96, "opus", 48000, 1, ""), codec(97, "G722", 16000, 0, ""), G722},
			supported: []Codec{opus, G722},
			want:      []Codec{G722},
		},
		{
			name:      "channels 0 and 1 are the same",
			offered:   []Codec{codec(0, "PCMU", 8000, 1, "")},
			supported: []Codec{PCMU},
			want:      []Codec{codec(0, "PCMU", 8000, 1, "")},
		},
		{
			name:      "telephone-event last, offerer's payload type, our fmtp",
			offered:   []Codec{te(100, 8000, "0-15"), PCMU},
			supported: []Codec{TelephoneEvent, PCMU},
			want:      []Codec{PCMU, te(100, 8000, "0-16")},
		},
		{
			name:      "telephone-event at the matching clock rate only",
			offered:   []Codec{opus, PCMU, te(110, 48000, ""), te(126, 8000, "")},
			supported: []Codec{PCMU, TelephoneEvent},
			want:      []Codec{PCMU, te(126, 8000, "0-16")},
		},
		{
			name:      "telephone-event left out when we do not support it",
			offered:   []Codec{PCMU, te(101, 8000, "0-15")},
			supported: []Codec{PCMU},
			want:      []Codec{PCMU},
		},
		{
			name:      "telephone-event left out when not offered",
			offered:   []Codec{PCMU},
			supported: []Codec{PCMU, TelephoneEvent},
			want:      []Codec{PCMU},
		},
		{
			name:      "encoding offered twice: first payload type used",
			offered:   []Codec{codec(96, "opus", 48000, 2, "a"), codec(97, "opus", 48000, 2, "b")},
			supported: []Codec{opus},
			want:      []Codec{codec(96, "opus", 48000, 2, "useinbandfec=1")},
		},
		{
			name:      "no common codec",
			offered:   []Codec{opus, G729},
			supported: []Codec{PCMU, PCMA},
			wantErr:   ErrNoCommonCodec,
		},
		{
			name:      "telephone-event and CN alone are not enough",
			offered:   []Codec{G729, te(101, 8000, ""), codec(13, "CN", 8000, 0, "")},
			supported: []Codec{PCMU, TelephoneEvent, codec(13, "CN", 8000, 0, "")},
			wantErr:   ErrNoCommonCodec,
		},
		{
			name:      "empty offer",
			supported: []Codec{PCMU},
			wantErr:   ErrNoCommonCodec,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Negotiate(tc.offered, tc.supported)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestAnswerErrors(t *testing.T) {
	local := goldenLocal
	s := mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 5000 RTP/AVP 0\n")
	for _, tc := range []struct {
		name string
		edit func(*Local)
		want string
	}{
		{"no address", func(l *Local) { l.Addr = netip.Addr{} }, "no usable local address"},
		{"unspecified address", func(l *Local) { l.Addr = netip.IPv4Unspecified() }, "no usable local address"},
		{"port 0", func(l *Local) { l.Port = 0 }, "port 0 out of range"},
		{"port too big", func(l *Local) { l.Port = 70000 }, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := local
			tc.edit(&l)
			if _, err := Answer(s, l); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	s.Media = nil
	if _, err := Answer(s, local); !errors.Is(err, ErrNoAudio) {
		t.Fatalf("no media: err = %v", err)
	}
}

func TestAnswerKeepsOfferedMediaCount(t *testing.T) {
	offer := mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"+
		"m=audio 5000 RTP/AVP 96\na=rtpmap:96 opus/48000/2\n"+ // no common codec: rejected
		"m=audio 5002 RTP/AVP 8\n"+
		"m=video 5004 RTP/AVP 31\n")
	ans, err := Answer(offer, goldenLocal)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range ans.Media {
		lines = append(lines, m.String())
	}
	want := []string{"m=audio 0 RTP/AVP 96", "m=audio 10000 RTP/AVP 8", "m=video 0 RTP/AVP 31"}
	if !slices.Equal(lines, want) {
		t.Fatalf("m= lines %q, want %q", lines, want)
	}
}

func TestRejected(t *testing.T) {
	m := &Media{Type: "video", Port: 5006, PortCount: 2, Proto: "RTP/AVP", Formats: []string{"96", "97"},
		Connection: &Connection{"IN", "IP4", "192.0.2.1"}, Attributes: []Attribute{{"rtpmap", "96 H264/90000"}}}
	if got := m.Rejected().String(); got != "m=video 0 RTP/AVP 96" {
		t.Errorf("Rejected = %q", got)
	}
	if m.Port != 5006 || len(m.Formats) != 2 {
		t.Error("Rejected changed its receiver")
	}
	if got := (&Media{Type: "audio", Port: 0, Proto: "RTP/AVP"}).Rejected().String(); got != "m=audio 0 RTP/AVP" {
		t.Errorf("Rejected without formats = %q", got)
	}
}

func TestBuild(t *testing.T) {
	s, err := Build(Local{
		SessionID: 7, Version: 9,
		Addr: netip.MustParseAddr("2001:db8::1"), Port: 20000,
		Codecs:         []Codec{PCMA, codec(96, "opus", 48000, 2, "useinbandfec=1")},
		TelephoneEvent: 101,
		Ptime:          30 * time.Millisecond,
		Direction:      SendOnly,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "v=0\r\no=switchd 7 9 IN IP6 2001:db8::1\r\ns=switchd\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n" +
		"m=audio 20000 RTP/AVP 8 96 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:30\r\na=sendonly\r\n"
	if got := s.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	checkRoundTrip(t, s)

	// IPv4-mapped addresses are written as IPv4; telephone-event is not
	// added twice; the default direction is written.
	s, err = Build(Local{Username: "b2b", Addr: netip.MustParseAddr("::ffff:192.0.2.1"), Port: 10000,
		Codecs: []Codec{PCMU, TelephoneEvent}, TelephoneEvent: 101})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); !strings.Contains(got, "o=b2b 0 0 IN IP4 192.0.2.1\r\n") || strings.Count(got, "telephone-event") != 1 ||
		!strings.HasSuffix(got, "a=sendrecv\r\n") || strings.Contains(got, "ptime") {
		t.Fatalf("got\n%s", got)
	}

	for name, l := range map[string]Local{
		"no codecs":      {Addr: netip.MustParseAddr("192.0.2.1"), Port: 1},
		"duplicate PT":   {Addr: netip.MustParseAddr("192.0.2.1"), Port: 1, Codecs: []Codec{PCMU, codec(0, "PCMA", 8000, 0, "")}},
		"PT over 127":    {Addr: netip.MustParseAddr("192.0.2.1"), Port: 1, Codecs: []Codec{codec(200, "X", 8000, 0, "")}},
		"fmtp injection": {Addr: netip.MustParseAddr("192.0.2.1"), Port: 1, Codecs: []Codec{codec(0, "PCMU", 8000, 0, "x\r\nm=video 1 RTP/AVP 0")}},
		"no clock rate":  {Addr: netip.MustParseAddr("192.0.2.1"), Port: 1, Codecs: []Codec{codec(0, "PCMU", 0, 0, "")}},
	} {
		if _, err := Build(l); err == nil {
			t.Errorf("%s: Build accepted %+v", name, l)
		}
	}
}

func mustParse(t testing.TB, s string) *Session {
	t.Helper()
	sess, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return sess
}
