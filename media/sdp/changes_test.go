package sdp

import (
	"strings"
	"testing"
)

// TestCompare checks what a re-INVITE offer is reported to change (RFC 3264
// §8) against the previous description from the same phone.
func TestCompare(t *testing.T) {
	const base = "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n" +
		"m=audio 5000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=sendrecv\n"
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("base lacks %q", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	held := edit("a=sendrecv", "a=sendonly")
	oldHold := edit("c=IN IP4 192.0.2.9", "c=IN IP4 0.0.0.0")
	for _, tc := range []struct {
		name, prev, next string
		want             string
	}{
		{"session refresh", base, base, "none"},
		{"refresh with new version only", base, edit("o=- 1 1", "o=- 1 2"), "none"},
		{"sendonly hold", base, held, "hold,direction"},
		{"inactive hold", base, edit("a=sendrecv", "a=inactive"), "hold,direction"},
		{"resume", held, base, "resume,direction"},
		{"old-style hold", base, oldHold, "hold,direction"},
		{"old-style resume to the same address", oldHold, base, "resume,direction,address"},
		{"recvonly is no hold", base, edit("a=sendrecv", "a=recvonly"), "direction"},
		{"new port", base, edit("m=audio 5000", "m=audio 5002"), "address"},
		{"new address", base, edit("c=IN IP4 192.0.2.9", "c=IN IP4 192.0.2.10"), "address"},
		{"media-level c= with the same address", base, edit("a=sendrecv", "c=IN IP4 192.0.2.9\na=sendrecv"), "none"},
		{"codec change", base, edit("RTP/AVP 0 101", "RTP/AVP 8 101"), "codecs"},
		{"codec order", edit("RTP/AVP 0 101", "RTP/AVP 0 8 101"), edit("RTP/AVP 0 101", "RTP/AVP 8 0 101"), "codecs"},
		{"fmtp change", base, edit("0-15", "0-16"), "codecs"},
		{"video added", base, base + "m=video 5004 RTP/AVP 96\n", "streams"},
		{"audio disabled", base, edit("m=audio 5000", "m=audio 0"), "streams"},
		{"hold and move", base, edit("m=audio 5000", "m=audio 6000") + "a=sendonly\n", "address"}, // first direction attribute wins: still sendrecv
		{"only the anchorable stream counts", strings.Replace(base, "m=audio", "m=audio 7000 RTP/SAVP 0\na=sendrecv\nm=audio", 1),
			strings.Replace(edit("m=audio 5000", "m=audio 5002"), "m=audio", "m=audio 7000 RTP/SAVP 0\na=sendonly\nm=audio", 1), "address"},
		{"hold and new codec", base, strings.Replace(held, "RTP/AVP 0 101", "RTP/AVP 8 101", 1), "hold,direction,codecs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(mustParse(t, tc.prev), mustParse(t, tc.next))
			if got := c.String(); got != tc.want {
				t.Fatalf("Compare = %s, want %s", got, tc.want)
			}
			if c.Any() != (tc.want != "none") {
				t.Fatalf("Any = %t", c.Any())
			}
		})
	}
}
