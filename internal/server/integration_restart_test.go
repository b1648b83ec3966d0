package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/config"
	"github.com/switchd/switchd/internal/sipptest"
	"github.com/switchd/switchd/web"
)

// TestSIPRestartQualify: a binding survives a restart of switchd (same data
// dir, same ports), and the new process qualifies it at once: its OPTIONS
// reaches the phone (a sipp that keeps running across the restart) at the
// persisted contact before the phone registers again, and the answer marks
// the binding reachable.
func TestSIPRestartQualify(t *testing.T) {
	cfg := newConfig(t)
	first := *cfg
	first.SIP.QualifyInterval = 0 // the first process never pings: any OPTIONS comes from the second
	ts := startServer(t, &first)
	ts.addExtension(ext1001, pw1001)

	phone := sipptest.Start(t, sipptest.Options{
		Scenario:    scenario("register_await_qualify.xml"),
		OOCScenario: scenario("ooc_options.xml"),
		Remote:      ts.udpAddr,
		Users:       []sipptest.User{{Name: ext1001, Password: pw1001}},
		Keys:        map[string]string{"aor": ext1001, "expires": "3600"},
		Timeout:     20 * time.Second,
	})
	before := ts.waitRegistrations(ext1001, 5*time.Second, "sipp should register", func(r []web.Registration) bool { return len(r) == 1 })[0]
	wantContact := sippContact(ext1001, "127.0.0.1", phone.LocalPort, "UDP")
	if before.Contact != wantContact || before.Reachable != "unknown" {
		t.Fatalf("before the restart: %s (want contact %s, not qualified)", dumpRegs([]web.Registration{before}), wantContact)
	}

	ts.stop()
	select {
	case <-phone.Done():
		t.Fatalf("sipp ended before the restart:\n%s", phone.Wait().Summary())
	default:
	}

	second := *cfg
	second.SIP.QualifyInterval = config.Duration(time.Minute) // the default: one round at start-up
	ts2 := startServer(t, &second)
	if ts2.udpAddr != ts.udpAddr {
		t.Fatalf("restarted on %s, want %s", ts2.udpAddr, ts.udpAddr)
	}
	restored := ts2.registrations(ext1001)
	if len(restored) != 1 || restored[0].Contact != before.Contact || restored[0].Source != before.Source ||
		restored[0].Transport != "udp" || restored[0].UserAgent != sippUA || !restored[0].Expires.Equal(before.Expires.Truncate(time.Millisecond)) {
		t.Fatalf("after the restart the API lists %s, want the binding of before: %s", dumpRegs(restored), dumpRegs([]web.Registration{before}))
	}

	r := phone.Wait()
	requireSuccess(t, r, 1) // only if an OPTIONS came and was answered
	var registers, options int
	for _, m := range r.AllMessages() {
		switch {
		case m.Sent && m.IsRequest("REGISTER"):
			registers++
			if options > 0 {
				t.Fatalf("sipp registered again before the OPTIONS:\n%s", r.Summary())
			}
		case !m.Sent && m.IsRequest("OPTIONS"):
			options++
			if want := "OPTIONS " + wantContact + " SIP/2.0"; m.StartLine() != want {
				t.Fatalf("OPTIONS start line %q, want %q", m.StartLine(), want)
			}
			if via := m.Header("Via"); !strings.Contains(via, ts.udpAddr) {
				t.Fatalf("OPTIONS Via %q does not name switchd's %s", via, ts.udpAddr)
			}
		}
	}
	if registers != 2 || options < 1 {
		t.Fatalf("sipp sent %d REGISTERs and received %d OPTIONS, want 2 and at least 1:\n%s", registers, options, r.Summary())
	}

	after := ts2.waitRegistrations(ext1001, 3*time.Second, "the OPTIONS answer should mark the binding reachable",
		func(r []web.Registration) bool { return len(r) == 1 && r[0].Reachable == "reachable" })[0]
	if after.RTTMillis <= 0 || after.LastQualify.IsZero() || after.Contact != before.Contact {
		t.Fatalf("qualified binding: %s", dumpRegs([]web.Registration{after}))
	}
}
