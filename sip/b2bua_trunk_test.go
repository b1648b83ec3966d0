package sip

import (
	"net/netip"
	"testing"
	"time"

	"github.com/switchd/switchd/media/sdp"
)

func TestFailoverStatus(t *testing.T) {
	for code, want := range map[int]bool{408: true, 500: true, 502: true, 503: true, 504: true,
		401: false, 403: false, 404: false, 480: false, 486: false, 487: false, 501: false, 600: false, 603: false} {
		if got := failoverStatus(code); got != want {
			t.Errorf("failoverStatus(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestChannelsBound(t *testing.T) {
	var c channels
	tr := &Trunk{Name: "a", MaxChannels: 2}
	if !c.acquire(tr) || !c.acquire(tr) {
		t.Fatal("first two channels refused")
	}
	if c.acquire(tr) {
		t.Fatal("third channel of a 2-channel trunk granted")
	}
	c.release(tr)
	if !c.acquire(tr) {
		t.Fatal("channel not reusable after release")
	}
	c.release(tr)
	c.release(tr)
	c.release(tr) // extra release never goes negative
	if len(c.n) != 0 {
		t.Fatalf("counts after releasing all: %v", c.n)
	}
	unbounded := &Trunk{Name: "b"}
	for i := 0; i < 100; i++ {
		if !c.acquire(unbounded) {
			t.Fatal("unbounded trunk refused a channel")
		}
	}
}

func TestAllowCodecs(t *testing.T) {
	all := []sdp.Codec{sdp.PCMU, sdp.PCMA}
	got := allowCodecs(all, []string{"pcma"})
	if len(got) != 1 || got[0].Name != "PCMA" {
		t.Fatalf("allow [pcma] = %v", got)
	}
	if got := allowCodecs(all, nil); len(got) != 2 {
		t.Fatalf("no filter = %v", got)
	}
	if got := allowCodecs(all, []string{"G729"}); len(got) != 2 {
		t.Fatalf("a filter matching nothing must not leave an empty offer: %v", got)
	}
}

func TestPAIValueQuoting(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"", "<sip:+8621@h>"},
		{"张伟", `"张伟" <sip:+8621@h>`},
		{`A "B" \ C`, `"A \"B\" \\ C" <sip:+8621@h>`},
	} {
		if got := paiValue(c.name, "+8621", "h"); got != c.want {
			t.Errorf("paiValue(%q) = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestBindingTableHasSource(t *testing.T) {
	tab := NewBindingTable(5, nil)
	now := time.Unix(1000, 0)
	src := netip.MustParseAddrPort("192.0.2.7:5060")
	up := Update{AOR: "1001", CallID: "c1", CSeq: 1, Source: src, Transport: "udp",
		Contacts: []ContactUpdate{{Key: "k1", Contact: "sip:1001@192.0.2.7", Expires: time.Minute}}}
	if _, _, err := tab.Apply(up, now); err != nil {
		t.Fatal(err)
	}
	if !tab.HasSource(netip.MustParseAddr("192.0.2.7")) || tab.HasSource(netip.MustParseAddr("192.0.2.8")) {
		t.Fatal("HasSource wrong after a registration")
	}
	// The phone moves: the old address is no longer a phone's.
	up.CSeq, up.Source = 2, netip.MustParseAddrPort("192.0.2.8:5060")
	if _, _, err := tab.Apply(up, now); err != nil {
		t.Fatal(err)
	}
	if tab.HasSource(netip.MustParseAddr("192.0.2.7")) || !tab.HasSource(netip.MustParseAddr("192.0.2.8")) {
		t.Fatal("HasSource wrong after the phone moved")
	}
	tab.Expire(now.Add(2 * time.Minute))
	if tab.HasSource(netip.MustParseAddr("192.0.2.8")) {
		t.Fatal("HasSource true after the binding expired")
	}
	tab.Restore([]Binding{{AOR: "1002", Key: "k", Source: netip.MustParseAddrPort("[::ffff:192.0.2.9]:5060"), Expires: now.Add(time.Hour)}}, now)
	if !tab.HasSource(netip.MustParseAddr("192.0.2.9")) {
		t.Fatal("HasSource false for a restored binding (IPv4-mapped source)")
	}
	tab.Purge("1002")
	if tab.HasSource(netip.MustParseAddr("192.0.2.9")) {
		t.Fatal("HasSource true after purge")
	}
}
