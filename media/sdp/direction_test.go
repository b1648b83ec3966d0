package sdp

import "testing"

// TestAnswerDirection checks the RFC 3264 §6.1 table.
func TestAnswerDirection(t *testing.T) {
	for _, tc := range []struct {
		offer, want, answer Direction
	}{
		{SendRecv, SendRecv, SendRecv},
		{SendRecv, SendOnly, SendOnly},
		{SendRecv, RecvOnly, RecvOnly},
		{SendRecv, Inactive, Inactive},
		{SendRecv, DirectionUnknown, SendRecv},
		{SendOnly, SendRecv, RecvOnly},
		{SendOnly, RecvOnly, RecvOnly},
		{SendOnly, SendOnly, Inactive},
		{SendOnly, Inactive, Inactive},
		{RecvOnly, SendRecv, SendOnly},
		{RecvOnly, SendOnly, SendOnly},
		{RecvOnly, RecvOnly, Inactive},
		{Inactive, SendRecv, Inactive},
		{Inactive, Inactive, Inactive},
		{DirectionUnknown, SendRecv, SendRecv},
	} {
		if got := AnswerDirection(tc.offer, tc.want); got != tc.answer {
			t.Errorf("AnswerDirection(%s, %s) = %s, want %s", tc.offer, tc.want, got, tc.answer)
		}
	}
}

func TestDirectionString(t *testing.T) {
	for d, s := range map[Direction]string{
		DirectionUnknown: "unknown", SendRecv: "sendrecv", SendOnly: "sendonly",
		RecvOnly: "recvonly", Inactive: "inactive", Direction(99): "unknown",
	} {
		if d.String() != s {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), s)
		}
		if d <= Inactive && d != DirectionUnknown && ParseDirection(s) != d {
			t.Errorf("ParseDirection(%q) = %s", s, ParseDirection(s))
		}
	}
	if ParseDirection("SENDRECV") != DirectionUnknown || ParseDirection("") != DirectionUnknown {
		t.Error("ParseDirection accepted an unknown name")
	}
	if DirectionUnknown.Attribute().Key != "sendrecv" || Inactive.Attribute().Key != "inactive" {
		t.Error("Attribute")
	}
}

// TestSessionDirection covers the default, the session-level fallback, the
// media-level override and old-style hold (RFC 3264 §8.4).
func TestSessionDirection(t *testing.T) {
	const head = "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\n"
	for _, tc := range []struct {
		name, sdp       string
		declared, eff   Direction
		hold            bool
		audioConnection string
	}{
		{"default", head + "c=IN IP4 192.0.2.9\nm=audio 5000 RTP/AVP 0\n", SendRecv, SendRecv, false, "192.0.2.9"},
		{"session level", head + "c=IN IP4 192.0.2.9\na=sendonly\nm=audio 5000 RTP/AVP 0\n", SendOnly, SendOnly, true, "192.0.2.9"},
		{"media overrides session", head + "c=IN IP4 192.0.2.9\na=sendonly\nm=audio 5000 RTP/AVP 0\na=sendrecv\n", SendRecv, SendRecv, false, "192.0.2.9"},
		{"first direction attribute wins", head + "c=IN IP4 192.0.2.9\nm=audio 5000 RTP/AVP 0\na=inactive\na=sendrecv\n", Inactive, Inactive, true, "192.0.2.9"},
		{"recvonly is not hold", head + "c=IN IP4 192.0.2.9\nm=audio 5000 RTP/AVP 0\na=recvonly\n", RecvOnly, RecvOnly, false, "192.0.2.9"},
		{"c=0.0.0.0 session", head + "c=IN IP4 0.0.0.0\nm=audio 5000 RTP/AVP 0\n", SendRecv, SendOnly, true, "0.0.0.0"},
		{"c=0.0.0.0 media", head + "c=IN IP4 192.0.2.9\nm=audio 5000 RTP/AVP 0\nc=IN IP4 0.0.0.0\n", SendRecv, SendOnly, true, "0.0.0.0"},
		{"media c= overrides hold address", head + "c=IN IP4 0.0.0.0\nm=audio 5000 RTP/AVP 0\nc=IN IP4 192.0.2.10\n", SendRecv, SendRecv, false, "192.0.2.10"},
		{"c=0.0.0.0 recvonly", head + "c=IN IP4 0.0.0.0\nm=audio 5000 RTP/AVP 0\na=recvonly\n", RecvOnly, Inactive, true, "0.0.0.0"},
		{"c=0.0.0.0 sendonly", head + "c=IN IP4 0.0.0.0\nm=audio 5000 RTP/AVP 0\na=sendonly\n", SendOnly, SendOnly, true, "0.0.0.0"},
		{"c=:: IPv6", head + "c=IN IP6 ::\nm=audio 5000 RTP/AVP 0\n", SendRecv, SendOnly, true, "::"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.sdp)
			m := s.Media[0]
			if got := s.Direction(m); got != tc.declared {
				t.Errorf("Direction = %s, want %s", got, tc.declared)
			}
			if got := s.EffectiveDirection(m); got != tc.eff {
				t.Errorf("EffectiveDirection = %s, want %s", got, tc.eff)
			}
			if got := s.Hold(m); got != tc.hold {
				t.Errorf("Hold = %t, want %t", got, tc.hold)
			}
			if got := s.ConnectionFor(m).Address; got != tc.audioConnection {
				t.Errorf("ConnectionFor = %s, want %s", got, tc.audioConnection)
			}
		})
	}
}
