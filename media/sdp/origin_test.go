package sdp

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestOriginTracker checks RFC 3264 §8: sess-version grows by exactly one
// for each changed description and stays for an identical one.
func TestOriginTracker(t *testing.T) {
	local := goldenLocal
	local.Version = 999 // overridden by the tracker
	build := func(dir Direction, port int) *Session {
		l := local
		l.Direction, l.Port = dir, port
		s, err := Build(l)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tr := NewOriginTracker(Origin{Username: "switchd", SessionID: "42", Version: 42, NetType: "IN", AddrType: "IP4", Address: "192.0.2.1"})
	steps := []struct {
		what string
		s    *Session
		want uint64
	}{
		{"initial offer", build(SendRecv, 10000), 42},
		{"session refresh, same SDP", build(SendRecv, 10000), 42},
		{"hold", build(SendOnly, 10000), 43},
		{"hold re-sent", build(SendOnly, 10000), 43},
		{"resume", build(SendRecv, 10000), 44},
		{"new port", build(SendRecv, 10002), 45},
		{"back to an earlier SDP is still a change", build(SendRecv, 10000), 46},
		{"refresh again", build(SendRecv, 10000), 46},
	}
	for _, st := range steps {
		o := tr.Stamp(st.s)
		if o.Version != st.want || st.s.Origin != o || tr.Origin() != o {
			t.Fatalf("%s: version %d (session %d), want %d", st.what, o.Version, st.s.Origin.Version, st.want)
		}
		if !strings.Contains(st.s.String(), "o=switchd 42 "+strconv.FormatUint(st.want, 10)+" IN IP4 192.0.2.1\r\n") {
			t.Fatalf("%s: o= line not written:\n%s", st.what, st.s)
		}
	}
}

// TestOriginTrackerIgnoresIncomingOrigin checks that whatever o= line the
// session carries before Stamp, the tracked one is written and only the
// rest decides whether the version moves.
func TestOriginTrackerIgnoresIncomingOrigin(t *testing.T) {
	tr := NewOriginTracker(Origin{Username: "switchd", SessionID: "1", Version: 5, NetType: "IN", AddrType: "IP4", Address: "192.0.2.1"})
	a, _ := Build(Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4000, Codecs: []Codec{PCMU}, SessionID: 77, Version: 3})
	b, _ := Build(Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4000, Codecs: []Codec{PCMU}, SessionID: 78, Version: 100})
	if v := tr.Stamp(a).Version; v != 5 {
		t.Fatalf("first = %d", v)
	}
	if o := tr.Stamp(b); o.Version != 5 || o.SessionID != "1" {
		t.Fatalf("second = %+v", o)
	}
}

func TestOriginTrackerConcurrent(t *testing.T) {
	tr := NewOriginTracker(Origin{Username: "switchd", SessionID: "1", Version: 1, NetType: "IN", AddrType: "IP4", Address: "192.0.2.1"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s, _ := Build(Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 4000 + 2*i, Codecs: []Codec{PCMU}})
			tr.Stamp(s)
			_ = tr.Origin()
		})
	}
	wg.Wait()
	if v := tr.Origin().Version; v < 1 || v > 8 {
		t.Fatalf("version %d after 8 stamps from 1", v)
	}
}
