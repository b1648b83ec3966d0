package routing

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
)

const testYAML = `
numbering: {country_code: "86", national_prefix: "0", international_prefix: "00"}
trunks:
  - name: carrier-a
    host: 127.0.0.2
    inbound:
      addresses: [127.0.0.2, 10.1.0.0/24]
    outbound:
      number_format: national
  - name: carrier-b
    host: "2001:db8::5"
    port: 5080
    transport: tcp
    inbound:
      addresses: [10.1.0.0/16, "2001:db8::/32"]
      username: carrierb
      password: pw
      called_number: to
    outbound:
      username: sw
      password: pw2
      invite_timeout: 5s
      number_format: international
    register: {enabled: true}
    codecs: [pcma]
  - name: carrier-uk
    host: sip.example.co.uk
    inbound:
      username: uk
      password: pw
    numbering: {country_code: "44", national_prefix: "0", international_prefix: "00"}
    outbound:
      number_format: national
dids:
  - number: "+862155550100"
    trunks: [carrier-a]
    extension: "1001"
  - number: "+862155550100"
    trunks: [carrier-b]
    extension: "1002"
  - number: "+8621555502XX"
    queue: sales
    interim_extension: "1000"
  - number: "+86215555020X"
    ivr: main
  - number: "+862155550201"
    extension: "1201"
  - number: "+862155550199"
    hangup: busy
  - number: "+442079460018"
    trunks: [carrier-uk]
    extension: "4401"
dial_rules:
  - name: emergency
    match: '^(110|119|120)$'
    trunks: [carrier-a]
    class: emergency
  - name: international
    match: '^00\d+$'
    trunks: [carrier-a, carrier-b, carrier-uk]
  - name: national
    match: '^0[1-9]\d+$'
    trunks: [carrier-b, carrier-a]
  - name: mobile
    match: '^1[3-9]\d{9}$'
    trunks: [carrier-a]
  - name: premium
    match: '^9\d{4}$'
    trunks: [carrier-a]
    strip: 1
    prepend: "0215555"
    class: international
  - name: access-code
    match: '^8\d+$'
    trunks: [carrier-uk]
    strip: 1
    prepend: "+"
  - name: short
    match: '^1\d{4}$'
    trunks: [carrier-a]
`

func testTable(t testing.TB) *Table {
	t.Helper()
	var c Config
	if err := config.Decode("test.yaml", []byte(testYAML), &c); err != nil {
		t.Fatal(err)
	}
	tbl, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestTrunkDefaults(t *testing.T) {
	tbl := testTable(t)
	a, b := tbl.Trunk("carrier-a"), tbl.Trunk("carrier-b")
	if a == nil || b == nil || tbl.Trunk("nope") != nil || len(tbl.Trunks()) != 3 {
		t.Fatalf("trunks: %v", tbl.Trunks())
	}
	if a.HostPort() != "127.0.0.2:5060" || a.Transport != "udp" || a.InviteTimeout != 3*time.Second ||
		a.CalledNumber != CalledRequestURI || a.NumberFormat != NumberFormatNational || a.Register ||
		a.RegisterExpires != time.Hour || a.RegisterDomain != "127.0.0.2" ||
		strings.Join(a.Codecs, ",") != "PCMU,PCMA" || a.Numbering != china {
		t.Errorf("carrier-a = %+v", a)
	}
	if b.HostPort() != "[2001:db8::5]:5080" || b.Transport != "tcp" || b.InviteTimeout != 5*time.Second ||
		b.CalledNumber != CalledTo || !b.Register || b.OutboundUser != "sw" || b.OutboundPassword != "pw2" ||
		strings.Join(b.Codecs, ",") != "PCMA" {
		t.Errorf("carrier-b = %+v", b)
	}
	if uk := tbl.Trunk("carrier-uk"); uk.Numbering != (Numbering{CountryCode: "44", NationalPrefix: "0", InternationalPrefix: "00"}) {
		t.Errorf("carrier-uk plan = %+v", uk.Numbering)
	}
}

func TestTrunkByAddrAndUser(t *testing.T) {
	tbl := testTable(t)
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.2", "carrier-a"},
		{"::ffff:127.0.0.2", "carrier-a"},
		{"10.1.0.9", "carrier-a"}, // in both: the first trunk wins
		{"10.1.7.9", "carrier-b"},
		{"2001:db8::77", "carrier-b"},
		{"127.0.0.3", ""},
		{"192.0.2.1", ""},
	}
	for _, tt := range tests {
		got := tbl.TrunkByAddr(netip.MustParseAddr(tt.addr))
		if (got == nil && tt.want != "") || (got != nil && got.Name != tt.want) {
			t.Errorf("TrunkByAddr(%s) = %v, want %q", tt.addr, got, tt.want)
		}
	}
	if tbl.TrunkByAddr(netip.Addr{}) != nil {
		t.Error("TrunkByAddr(zero) != nil")
	}
	if tr := tbl.TrunkByUser("carrierb"); tr == nil || tr.Name != "carrier-b" {
		t.Errorf("TrunkByUser(carrierb) = %v", tr)
	}
	if tbl.TrunkByUser("") != nil || tbl.TrunkByUser("nobody") != nil {
		t.Error("TrunkByUser of an unknown user is not nil")
	}
}

func TestInbound(t *testing.T) {
	tbl := testTable(t)
	a, b, uk := tbl.Trunk("carrier-a"), tbl.Trunk("carrier-b"), tbl.Trunk("carrier-uk")
	tests := []struct {
		tr      *Trunk
		called  string
		did     string
		pattern string
		dest    Destination
	}{
		{a, "+862155550100", "+862155550100", "+862155550100", Destination{Kind: DestExtension, Target: "1001"}},
		{b, "+862155550100", "+862155550100", "+862155550100", Destination{Kind: DestExtension, Target: "1002"}},
		{a, "02155550100", "+862155550100", "+862155550100", Destination{Kind: DestExtension, Target: "1001"}},
		{a, "00862155550100", "+862155550100", "+862155550100", Destination{Kind: DestExtension, Target: "1001"}},
		{a, "862155550100", "+862155550100", "+862155550100", Destination{Kind: DestExtension, Target: "1001"}},
		{a, "+862155550100;npdi", "+862155550100", "+862155550100", Destination{Kind: DestExtension, Target: "1001"}},
		// Wildcards: fewest X wins; exact wins over both.
		{a, "+862155550250", "+862155550250", "+8621555502XX", Destination{Kind: DestQueue, Target: "sales", InterimExtension: "1000"}},
		{b, "02155550205", "+862155550205", "+86215555020X", Destination{Kind: DestIVR, Target: "main"}},
		{a, "+862155550201", "+862155550201", "+862155550201", Destination{Kind: DestExtension, Target: "1201"}},
		{nil, "+862155550199", "+862155550199", "+862155550199", Destination{Kind: DestHangup, Cause: call.CauseBusy}},
		// The UK trunk normalises with its own plan.
		{uk, "020 7946 0018", "+442079460018", "+442079460018", Destination{Kind: DestExtension, Target: "4401"}},
		{uk, "00862155550250", "+862155550250", "+8621555502XX", Destination{Kind: DestQueue, Target: "sales", InterimExtension: "1000"}},
	}
	for _, tt := range tests {
		got, err := tbl.Inbound(tt.tr, tt.called)
		if err != nil || got.DID != tt.did || got.Pattern != tt.pattern || got.Dest != tt.dest {
			t.Errorf("Inbound(%v, %q) = %+v, %v; want %s %s %+v", name(tt.tr), tt.called, got, err, tt.did, tt.pattern, tt.dest)
		}
	}
	unknown := []struct {
		tr     *Trunk
		called string
	}{
		{uk, "+862155550100"},  // scoped to carrier-a and carrier-b
		{nil, "+862155550100"}, // no trunk: only unscoped entries
		{a, "+442079460018"},   // scoped to carrier-uk
		{a, "+8621555502100"},  // one digit more than the wildcard
		{a, "+86215555021"},    // one digit less
		{a, "55550100"},        // subscriber number
		{a, "alice"},
		{a, ""},
	}
	for _, tt := range unknown {
		if got, err := tbl.Inbound(tt.tr, tt.called); !errors.Is(err, ErrUnknownDID) {
			t.Errorf("Inbound(%v, %q) = %+v, %v; want ErrUnknownDID", name(tt.tr), tt.called, got, err)
		}
	}
}

func name(tr *Trunk) string {
	if tr == nil {
		return "<nil>"
	}
	return tr.Name
}

func TestOutbound(t *testing.T) {
	tbl := testTable(t)
	type attempt struct{ trunk, number string }
	tests := []struct {
		dialled  string
		have     Class
		rule     string
		e164     string
		class    Class
		attempts []attempt
	}{
		// Emergency: allowed to every class, even unknown and internal.
		{"110", ClassUnknown, "emergency", "", ClassEmergency, []attempt{{"carrier-a", "110"}}},
		{"119", ClassInternal, "emergency", "", ClassEmergency, []attempt{{"carrier-a", "119"}}},
		// International: each trunk in its own format and plan, in order.
		{"00442079460018", ClassInternational, "international", "+442079460018", ClassInternational, []attempt{
			{"carrier-a", "00442079460018"}, {"carrier-b", "00442079460018"}, {"carrier-uk", "02079460018"}}},
		// An international prefix to the home country is national.
		{"00862155550100", ClassNational, "international", "+862155550100", ClassNational, []attempt{
			{"carrier-a", "02155550100"}, {"carrier-b", "00862155550100"}, {"carrier-uk", "00862155550100"}}},
		{"02155550100", ClassNational, "national", "+862155550100", ClassNational, []attempt{
			{"carrier-b", "00862155550100"}, {"carrier-a", "02155550100"}}},
		// Not normalisable, rule without class: national.
		{"13800138000", ClassNational, "mobile", "", ClassNational, []attempt{{"carrier-a", "13800138000"}}},
		// Strip and prepend; the rule's class is higher than the number's.
		{"90123", ClassInternational, "premium", "+862155550123", ClassInternational, []attempt{{"carrier-a", "02155550123"}}},
		// Strip 1, prepend "+": E.164 in, the UK trunk's national format out.
		{"8442079460018", ClassInternational, "access-code", "+442079460018", ClassInternational, []attempt{{"carrier-uk", "02079460018"}}},
		{"8862155550100", ClassNational, "access-code", "+862155550100", ClassNational, []attempt{{"carrier-uk", "00862155550100"}}},
		// The first matching rule wins ("mobile" is before "short").
		{"10086", ClassNational, "short", "", ClassNational, []attempt{{"carrier-a", "10086"}}},
	}
	for _, tt := range tests {
		rt, err := tbl.Outbound(tt.dialled, tt.have)
		if err != nil {
			t.Errorf("Outbound(%q, %s): %v", tt.dialled, tt.have, err)
			continue
		}
		var got []attempt
		for _, a := range rt.Attempts {
			got = append(got, attempt{a.Trunk.Name, a.Number})
		}
		if rt.Rule != tt.rule || rt.Dialled != tt.dialled || rt.E164 != tt.e164 || rt.Class != tt.class || !equalAttempts(got, tt.attempts) {
			t.Errorf("Outbound(%q, %s) = %s %s %s %s %v; want %s %s %s %v",
				tt.dialled, tt.have, rt.Rule, rt.Dialled, rt.E164, rt.Class, got, tt.rule, tt.e164, tt.class, tt.attempts)
		}
	}

	forbidden := []struct {
		dialled string
		have    Class
		need    Class
	}{
		{"02155550100", ClassInternal, ClassNational},
		{"02155550100", ClassUnknown, ClassNational},
		{"00442079460018", ClassNational, ClassInternational},
		{"90123", ClassNational, ClassInternational},
		{"13800138000", ClassInternal, ClassNational},
	}
	for _, tt := range forbidden {
		rt, err := tbl.Outbound(tt.dialled, tt.have)
		if !errors.Is(err, ErrForbidden) || rt.Class != tt.need || !strings.Contains(err.Error(), "needs class "+tt.need.String()) {
			t.Errorf("Outbound(%q, %s) = %+v, %v; want ErrForbidden needing %s", tt.dialled, tt.have, rt, err, tt.need)
		}
	}
	for _, d := range []string{"", "1001", "*72", "+442079460018", "9"} {
		if rt, err := tbl.Outbound(d, ClassInternational); !errors.Is(err, ErrNoRoute) {
			t.Errorf("Outbound(%q) = %+v, %v; want ErrNoRoute", d, rt, err)
		}
	}
}

func equalAttempts[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOutboundStripBeyondNumber: a rule that would strip more digits than
// the number has is passed over.
func TestOutboundStripBeyondNumber(t *testing.T) {
	tbl, err := New(Config{
		Trunks: []TrunkConfig{{Name: "a", Host: "192.0.2.1", Inbound: TrunkInboundConfig{Addresses: []string{"192.0.2.1"}}}},
		DialRules: []DialRuleConfig{
			{Name: "strip-all", Match: `^\d{1,3}$`, Trunks: []string{"a"}, Strip: 3},
			{Name: "any", Match: `^\d+$`, Trunks: []string{"a"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := tbl.Outbound("12", ClassNational)
	if err != nil || rt.Rule != "any" {
		t.Fatalf("Outbound(12) = %+v, %v", rt, err)
	}
	rt, err = tbl.Outbound("123", ClassNational)
	if err != nil || rt.Rule != "any" {
		t.Fatalf("Outbound(123) = %+v, %v", rt, err)
	}
}

// TestNoPlan: without a numbering plan, "+" numbers are international.
func TestNoPlan(t *testing.T) {
	tbl, err := New(Config{
		Trunks:    []TrunkConfig{{Name: "a", Host: "192.0.2.1", Inbound: TrunkInboundConfig{Addresses: []string{"192.0.2.1"}}}},
		DialRules: []DialRuleConfig{{Name: "any", Match: `^\+?\d+$`, Trunks: []string{"a"}}},
		DIDs:      []DIDConfig{{Number: "+442079460018", Extension: "1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rt, err := tbl.Outbound("+442079460018", ClassInternational); err != nil || rt.Class != ClassInternational || rt.Attempts[0].Number != "+442079460018" {
		t.Errorf("Outbound(+44…) = %+v, %v", rt, err)
	}
	if rt, err := tbl.Outbound("02079460018", ClassNational); err != nil || rt.Class != ClassNational || rt.Attempts[0].Number != "02079460018" {
		t.Errorf("Outbound(020…) = %+v, %v", rt, err)
	}
	if in, err := tbl.Inbound(tbl.Trunk("a"), "442079460018"); err != nil || in.Dest.Target != "1" {
		t.Errorf("Inbound(442079460018) = %+v, %v", in, err)
	}
}

func TestNilAndEmptyTable(t *testing.T) {
	empty, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []*Table{nil, empty} {
		if tbl.Trunks() != nil || tbl.Trunk("a") != nil || tbl.TrunkByUser("u") != nil ||
			tbl.TrunkByAddr(netip.MustParseAddr("127.0.0.1")) != nil {
			t.Error("an empty table has trunks")
		}
		if _, err := tbl.Inbound(nil, "+441"); !errors.Is(err, ErrUnknownDID) {
			t.Errorf("Inbound: %v", err)
		}
		if _, err := tbl.Outbound("110", ClassEmergency); !errors.Is(err, ErrNoRoute) {
			t.Errorf("Outbound: %v", err)
		}
	}
}

// TestConcurrentUse runs lookups from many goroutines (for -race).
func TestConcurrentUse(t *testing.T) {
	tbl := testTable(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				tbl.Inbound(tbl.TrunkByAddr(netip.MustParseAddr("127.0.0.2")), "02155550250")
				tbl.Outbound("00442079460018", ClassInternational)
				tbl.TrunkByUser("carrierb")
			}
		})
	}
	wg.Wait()
}

func BenchmarkInbound(b *testing.B) {
	tbl := testTable(b)
	a := tbl.Trunk("carrier-a")
	for b.Loop() {
		if _, err := tbl.Inbound(a, "02155550250"); err != nil {
			b.Fatal(err)
		}
	}
}
