package sip

import (
	"net/netip"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
)

func TestGuard(t *testing.T) {
	g := NewGuard(BanConfig{MaxFailures: 3, FindTime: config.Duration(time.Minute), BanTime: config.Duration(10 * time.Minute),
		Allow: []string{"203.0.113.0/24"}})
	bad, other, carrier := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("203.0.113.9")

	if g.Fail(bad, t0) || g.Fail(bad, t0.Add(time.Second)) {
		t.Fatal("banned too early")
	}
	if !g.Fail(bad, t0.Add(2*time.Second)) {
		t.Fatal("third failure did not ban")
	}
	if !g.Banned(bad, t0.Add(5*time.Minute)) || g.Banned(other, t0.Add(5*time.Minute)) {
		t.Fatal("ban applies to the wrong source")
	}
	if g.Banned(bad, t0.Add(11*time.Minute)) {
		t.Fatal("ban did not lift after ban_time")
	}
	// Failures spread wider than find_time never ban.
	for i := range 10 {
		if g.Fail(other, t0.Add(time.Duration(i)*61*time.Second)) && i < 2 {
			t.Fatal("banned inside find_time window count")
		}
	}
	if g.Banned(other, t0.Add(10*61*time.Second)) {
		t.Fatal("slow failures banned the source")
	}
	// Allow-listed sources are never banned.
	for range 100 {
		g.Fail(carrier, t0)
	}
	if g.Banned(carrier, t0) {
		t.Fatal("allow-listed source banned")
	}
	// IPv4-mapped IPv6 is the same source.
	mapped := netip.AddrFrom16(netip.MustParseAddr("192.0.2.1").As16())
	g.Fail(bad, t0.Add(20*time.Minute))
	g.Fail(mapped, t0.Add(20*time.Minute))
	g.Fail(bad, t0.Add(20*time.Minute))
	if !g.Banned(mapped, t0.Add(21*time.Minute)) {
		t.Fatal("mapped address escaped the ban")
	}
	if bans := g.Bans(t0.Add(21 * time.Minute)); len(bans) != 1 || bans[0].Source != "192.0.2.1" {
		t.Fatalf("bans = %v", bans)
	}
	if !g.Unban(bad) || g.Banned(bad, t0.Add(21*time.Minute)) {
		t.Fatal("unban failed")
	}
}

func TestGuardDisabled(t *testing.T) {
	g := NewGuard(BanConfig{})
	ip := netip.MustParseAddr("192.0.2.1")
	for range 100 {
		g.Fail(ip, t0)
	}
	if g.Banned(ip, t0) {
		t.Fatal("disabled guard banned")
	}
}
