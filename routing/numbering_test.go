package routing

import "testing"

var (
	china = Numbering{CountryCode: "86", NationalPrefix: "0", InternationalPrefix: "00"}
	uk    = Numbering{CountryCode: "44", NationalPrefix: "0", InternationalPrefix: "00"}
	nanp  = Numbering{CountryCode: "1", NationalPrefix: "1", InternationalPrefix: "011"}
)

func TestE164(t *testing.T) {
	tests := []struct {
		plan   Numbering
		in     string
		want   string
		wantOK bool
	}{
		// China.
		{china, "+862155550100", "+862155550100", true},
		{china, "021 5555 0100", "+862155550100", true},
		{china, "010-1234-5678", "+861012345678", true},
		{china, "0044 20 7946 0018", "+442079460018", true},
		{china, "(021) 5555.0100", "+862155550100", true},
		{china, "13800138000", "13800138000", false}, // mobile without prefix
		{china, "110", "110", false},
		{china, "000", "000", false},                               // international prefix then 0
		{china, "00", "00", false},                                 // only the prefix
		{china, "0", "0", false},                                   // only the national prefix
		{china, "001234567890123456", "001234567890123456", false}, // too long
		// UK.
		{uk, "020 7946 0018", "+442079460018", true},
		{uk, "07700 900123", "+447700900123", true},
		{uk, "00 1 212 555 1234", "+12125551234", true},
		{uk, "+44 (0)20 7946 0018", "+442079460018", true},
		{uk, "999", "999", false},
		// NANP.
		{nanp, "1 (212) 555-1234", "+12125551234", true},
		{nanp, "011 44 20 7946 0018", "+442079460018", true},
		{nanp, "2125551234", "2125551234", false}, // ten digits without prefix
		{nanp, "911", "911", false},
		// No plan: only +… is E.164.
		{Numbering{}, "+44 20 7946 0018", "+442079460018", true},
		{Numbering{}, "02079460018", "02079460018", false},
		// Not numbers.
		{china, "alice", "alice", false},
		{china, "*72", "*72", false},
		{china, "+", "+", false},
		{china, "+0123", "+0123", false},
		{china, "", "", false},
		{china, "+1234567890123456", "+1234567890123456", false}, // 16 digits
	}
	for _, tt := range tests {
		got, ok := tt.plan.E164(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%+v.E164(%q) = %q, %v; want %q, %v", tt.plan, tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		plan Numbering
		in   string
		f    NumberFormat
		want string
	}{
		{china, "+862155550100", NumberFormatE164, "+862155550100"},
		{china, "+862155550100", NumberFormatUnknown, "+862155550100"},
		{china, "+862155550100", NumberFormatInternational, "00862155550100"},
		{china, "+862155550100", NumberFormatNational, "02155550100"},
		{china, "+442079460018", NumberFormatNational, "00442079460018"}, // foreign: international
		{uk, "+442079460018", NumberFormatNational, "02079460018"},
		{uk, "+12125551234", NumberFormatInternational, "0012125551234"},
		{nanp, "+12125551234", NumberFormatNational, "12125551234"},
		{nanp, "+442079460018", NumberFormatNational, "011442079460018"},
		{nanp, "+442079460018", NumberFormatInternational, "011442079460018"},
		{Numbering{}, "+442079460018", NumberFormatNational, "+442079460018"},
		{Numbering{CountryCode: "44"}, "+442079460018", NumberFormatNational, "2079460018"},
		{Numbering{CountryCode: "44"}, "+12125551234", NumberFormatNational, "+12125551234"},
		{china, "110", NumberFormatNational, "110"}, // not E.164: unchanged
	}
	for _, tt := range tests {
		if got := tt.plan.Format(tt.in, tt.f); got != tt.want {
			t.Errorf("%+v.Format(%q, %s) = %q, want %q", tt.plan, tt.in, tt.f, got, tt.want)
		}
	}
}

// TestE164FormatRoundTrip: every format of a normalised number normalises
// back to it.
func TestE164FormatRoundTrip(t *testing.T) {
	for _, plan := range []Numbering{china, uk, nanp} {
		for _, n := range []string{"+862155550100", "+442079460018", "+12125551234", "+4915112345678"} {
			for _, f := range []NumberFormat{NumberFormatE164, NumberFormatInternational, NumberFormatNational} {
				s := plan.Format(n, f)
				if got, ok := plan.E164(s); !ok || got != n {
					t.Errorf("%+v: %s in %s is %q, which normalises to %q, %v", plan, n, f, s, got, ok)
				}
			}
		}
	}
}

func TestNumberingValidate(t *testing.T) {
	for _, plan := range []Numbering{{}, china, uk, nanp} {
		if ps := plan.Validate(); len(ps) != 0 {
			t.Errorf("%+v: %v", plan, ps)
		}
	}
	bad := Numbering{CountryCode: "86", NationalPrefix: "00", InternationalPrefix: "00"}
	if ps := bad.Validate(); len(ps) != 1 || ps[0].Path != "international_prefix" {
		t.Errorf("%+v: %v", bad, ps)
	}
}

func TestEnums(t *testing.T) {
	for c := ClassUnknown; c <= ClassEmergency; c++ {
		got, err := ParseClass(c.String())
		if err != nil || got != c {
			t.Errorf("ParseClass(%q) = %v, %v", c.String(), got, err)
		}
		b, err := c.MarshalText()
		var back Class
		if err != nil || back.UnmarshalText(b) != nil || back != c {
			t.Errorf("text round trip of %v: %q, %v, %v", c, b, err, back)
		}
	}
	if c, err := ParseClass(""); c != ClassUnknown || err != nil {
		t.Errorf(`ParseClass("") = %v, %v`, c, err)
	}
	if _, err := ParseClass("local"); err == nil {
		t.Error(`ParseClass("local") succeeded`)
	}
	if s := Class(9).String(); s != "class(9)" {
		t.Errorf("Class(9) = %q", s)
	}
	if _, err := Class(9).MarshalText(); err == nil {
		t.Error("Class(9).MarshalText succeeded")
	}
	if !(ClassInternal < ClassNational && ClassNational < ClassInternational && ClassInternational < ClassEmergency) {
		t.Error("classes are not ordered")
	}
	for f := NumberFormatUnknown; f <= NumberFormatNational; f++ {
		if got, err := ParseNumberFormat(f.String()); err != nil || got != f {
			t.Errorf("ParseNumberFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
	for c := CalledUnknown; c <= CalledTo; c++ {
		if got, err := ParseCalledNumber(c.String()); err != nil || got != c {
			t.Errorf("ParseCalledNumber(%q) = %v, %v", c.String(), got, err)
		}
	}
	want := []string{"unknown", "extension", "ivr", "queue", "hangup"}
	for k := DestUnknown; k <= DestHangup; k++ {
		if k.String() != want[k] {
			t.Errorf("DestKind(%d) = %q, want %q", k, k.String(), want[k])
		}
	}
}
