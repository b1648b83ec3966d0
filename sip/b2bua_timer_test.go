package sip

import (
	"log/slog"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchd/switchd/call"
)

func TestParseSessionExpires(t *testing.T) {
	for _, tc := range []struct {
		header    string
		secs      int
		refresher string
	}{
		{"1800;refresher=uac", 1800, "uac"},
		{"90 ; refresher = UAS", 90, "uas"},
		{"4000", 4000, ""},
		{"soon;refresher=uac", 0, ""},
	} {
		req := gosip.NewRequest(gosip.INVITE, gosip.Uri{Scheme: "sip", Host: "example.com"})
		req.AppendHeader(gosip.NewHeader("Session-Expires", tc.header))
		secs, ref := parseSessionExpires(req)
		if secs != tc.secs || ref != tc.refresher {
			t.Errorf("Session-Expires: %s → %d %q, want %d %q", tc.header, secs, ref, tc.secs, tc.refresher)
		}
	}
	compact := gosip.NewRequest(gosip.INVITE, gosip.Uri{Scheme: "sip", Host: "example.com"})
	compact.AppendHeader(gosip.NewHeader("x", "120;refresher=uac"))
	if secs, _ := parseSessionExpires(compact); secs != 120 {
		t.Errorf("compact form x: got %d", secs)
	}
}

// TestCheckTimersPeerRefresher: when the phone is the refresher and stays
// silent past interval − min(32 s, interval/3) (RFC 4028 §10), the call
// ends with session_timeout; a refresh in time keeps it.
func TestCheckTimersPeerRefresher(t *testing.T) {
	c := &b2bCall{log: slog.New(slog.DiscardHandler)}
	c.legs[sideCaller] = &uasLeg{} // a caller's leg is established (timers are kept per established leg)
	c.timers[sideCaller] = sessionTimer{interval: 90 * time.Second}
	c.startTimers(t0)
	if cause := c.checkTimers(t0.Add(59 * time.Second)); cause != call.CauseUnknown {
		t.Fatalf("at 59 s: %v", cause)
	}
	c.refreshed(sideCaller, t0.Add(59*time.Second))
	if cause := c.checkTimers(t0.Add(100 * time.Second)); cause != call.CauseUnknown {
		t.Fatalf("41 s after a refresh: %v", cause)
	}
	// 90 s interval: grace is 30 s, so 61 s of silence ends it.
	if cause := c.checkTimers(t0.Add(59*time.Second + 61*time.Second)); cause != call.CauseSessionTimeout {
		t.Fatalf("61 s after the last refresh: %v, want session_timeout", cause)
	}
	// A leg without a timer never expires.
	idle := &b2bCall{log: slog.New(slog.DiscardHandler)}
	idle.startTimers(t0)
	if cause := idle.checkTimers(t0.Add(24 * time.Hour)); cause != call.CauseUnknown {
		t.Fatalf("no timer: %v", cause)
	}
}
