package routing

import (
	"strings"

	"github.com/switchd/switchd/internal/config"
)

// maxE164Digits is the longest E.164 number, country code included
// (ITU-T E.164 §6.1).
const maxE164Digits = 15

// Numbering is a numbering plan: how numbers are dialled in one country, so
// that they can be normalised to E.164 and rendered back. The zero value is
// no plan: only numbers already written "+CC…" are E.164.
type Numbering struct {
	// CountryCode is the country calling code, digits without "+" ("86", "44", "1").
	CountryCode string `yaml:"country_code"`
	// NationalPrefix is the trunk prefix dialled before a national number
	// ("0"; "1" in the NANP). Empty: national numbers cannot be recognised.
	NationalPrefix string `yaml:"national_prefix"`
	// InternationalPrefix is dialled before a country code ("00"; "011" in
	// the NANP). Empty: only "+CC…" is recognised as international.
	InternationalPrefix string `yaml:"international_prefix"`
}

// IsZero reports whether no plan is set.
func (n Numbering) IsZero() bool { return n == Numbering{} }

// cleanNumber removes the visual separators people write in numbers
// (spaces, '-', '.', parentheses).
func cleanNumber(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '-', '.', '(', ')':
			return -1
		}
		return r
	}, s)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// E164 normalises a dialled or received number to E.164 ("+CC N"):
//   - "+…" is kept (separators removed, and a "(0)" as in "+44 (0)20 …");
//   - international_prefix CC N becomes +CC N;
//   - national_prefix N becomes +CC N (CC of this plan);
//   - anything else — a subscriber number dialled without prefix, a
//     service code, a name — cannot be normalised: ok is false and e164 is
//     the number without separators when it is all digits, or number
//     unchanged otherwise, so callers can use it as is.
//
// The international prefix is tried before the national one (China and the
// UK dial "00…" internationally and "0…" nationally). A result longer than
// 15 digits (E.164 §6.1) is not E.164.
func (n Numbering) E164(number string) (e164 string, ok bool) {
	d := cleanNumber(number)
	if strings.HasPrefix(d, "+") {
		// "+44 (0)20 7946 0018": the national prefix in parentheses is
		// not dialled after the country code.
		d = cleanNumber(strings.ReplaceAll(number, "(0)", ""))
	}
	if rest, plus := strings.CutPrefix(d, "+"); plus {
		if isDigits(rest) && len(rest) <= maxE164Digits && rest[0] != '0' {
			return d, true
		}
		return number, false
	}
	if !isDigits(d) {
		return number, false
	}
	if n.CountryCode == "" {
		return d, false
	}
	if p := n.InternationalPrefix; p != "" && strings.HasPrefix(d, p) {
		rest := d[len(p):]
		if rest != "" && rest[0] != '0' && len(rest) <= maxE164Digits {
			return "+" + rest, true
		}
		return d, false
	}
	if p := n.NationalPrefix; p != "" && len(d) > len(p) && strings.HasPrefix(d, p) {
		rest := d[len(p):]
		if len(n.CountryCode)+len(rest) <= maxE164Digits {
			return "+" + n.CountryCode + rest, true
		}
	}
	return d, false
}

// Format renders an E.164 number ("+CC N") in format f for this plan:
// NumberFormatE164 (and Unknown) as is; NumberFormatInternational as
// international_prefix CC N; NumberFormatNational as national_prefix N when
// the number has this plan's country code, else in international format.
// When the plan lacks the prefix a format needs, the number is returned in
// the next more general format (national → international → E.164). A number
// not starting with "+" is returned unchanged.
func (n Numbering) Format(e164 string, f NumberFormat) string {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok {
		return e164
	}
	if f == NumberFormatNational && n.CountryCode != "" {
		if nsn, home := strings.CutPrefix(digits, n.CountryCode); home && nsn != "" {
			return n.NationalPrefix + nsn
		}
		f = NumberFormatInternational
	}
	if f == NumberFormatInternational && n.InternationalPrefix != "" {
		return n.InternationalPrefix + digits
	}
	return e164
}

// home reports whether the E.164 number e164 has this plan's country code.
func (n Numbering) home(e164 string) bool {
	return n.CountryCode != "" && strings.HasPrefix(e164, "+"+n.CountryCode)
}

// Validate checks the plan's digits.
func (n Numbering) Validate() []config.Problem {
	var ps config.Problems
	if cc := n.CountryCode; cc != "" && (!isDigits(cc) || len(cc) > 3 || cc[0] == '0') {
		ps.Add("country_code", "%q is not a country calling code (1 to 3 digits, no \"+\", not starting with 0)", cc)
	}
	for _, f := range []struct{ key, v string }{
		{"national_prefix", n.NationalPrefix}, {"international_prefix", n.InternationalPrefix},
	} {
		switch {
		case f.v == "":
		case !isDigits(f.v) || len(f.v) > 4:
			ps.Add(f.key, "%q is not a dialling prefix (1 to 4 digits)", f.v)
		case n.CountryCode == "":
			ps.Add(f.key, "needs country_code")
		}
	}
	if n.NationalPrefix != "" && n.NationalPrefix == n.InternationalPrefix {
		ps.Add("international_prefix", "must differ from national_prefix")
	}
	return ps.List()
}
