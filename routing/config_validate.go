package routing

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/config"
)

// Limits checked by Validate.
const (
	maxInviteTimeout   = 60 * time.Second
	minRegisterExpires = 60 * time.Second
	maxStrip           = 20
)

var (
	trunkNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	didRE       = regexp.MustCompile(`^\+[1-9][0-9]*X*$`)
	prependRE   = regexp.MustCompile(`^\+?[0-9]*$`)
	callerIDRE  = regexp.MustCompile(`^\+?[0-9]{1,20}$`)
	hostLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// hangupCauses are the causes a DID may refuse a call with.
var hangupCauses = []call.Cause{
	call.CauseBusy, call.CauseNoAnswer, call.CauseUnavailable, call.CauseNotFound,
	call.CauseInvalidNumber, call.CauseDeclined, call.CauseForbidden,
	call.CauseNotAcceptable, call.CauseCongestion, call.CauseFailure,
}

// Validate checks the configuration and returns every problem at once, with
// paths such as "trunks[1].inbound.addresses[0]", "dids[3].number" or
// "dial_rules[0].match" (relative to the file's top level).
//
// DID entries overlap when they could both take the same call. Since an X
// stands for exactly one digit, the number sets of two entries are either
// disjoint, nested or equal. Nested entries are allowed — the more specific
// one wins: an exact number inside a wildcard, or a wildcard with fewer X
// inside one with more — so the only ambiguous case, reported at the later
// entry, is two entries with the same number whose trunk scopes share a trunk
// (an entry without trunks covers every trunk).
//
// A dial rule whose match expression is the same as an earlier rule's can
// never apply: that is a warning.
func (c *Config) Validate() []config.Problem {
	var ps config.Problems
	ps.Merge("numbering", c.Numbering.Validate())

	names := map[string]int{}
	users := map[string]int{}
	addrs := map[netip.Prefix]int{}
	for i := range c.Trunks {
		c.validateTrunk(&ps, i, names, users, addrs)
	}
	for i := range c.DIDs {
		c.validateDID(&ps, i, names)
	}
	rules := map[string]int{}
	matches := map[string]int{}
	for i := range c.DialRules {
		c.validateRule(&ps, i, names, rules, matches)
	}
	return ps.List()
}

func (c *Config) validateTrunk(ps *config.Problems, i int, names, users map[string]int, addrs map[netip.Prefix]int) {
	tc := &c.Trunks[i]
	at := func(key string) string { return fmt.Sprintf("trunks[%d].%s", i, key) }
	switch j, dup := names[tc.Name]; {
	case tc.Name == "":
		ps.Add(at("name"), "missing")
	case !trunkNameRE.MatchString(tc.Name):
		ps.Add(at("name"), "%q is not a trunk name (up to 64 of a-z, 0-9, '-', '_')", tc.Name)
	case dup:
		ps.Add(at("name"), "%q is already the name of trunks[%d]", tc.Name, j)
	default:
		names[tc.Name] = i
	}
	if tc.Host == "" {
		ps.Add(at("host"), "missing")
	} else if err := checkHost(tc.Host); err != "" {
		ps.Add(at("host"), "%s", err)
	}
	if tc.Port < 0 || tc.Port > 65535 {
		ps.Add(at("port"), "must be between 1 and 65535 (0 = default %d), got %d", DefaultPort, tc.Port)
	}
	switch tc.Transport {
	case "", "udp", "tcp":
	default:
		ps.Add(at("transport"), "%q is not udp or tcp", tc.Transport)
	}

	in := &tc.Inbound
	for j, a := range in.Addresses {
		p, err := parsePrefix(a)
		if err != nil {
			ps.Add(at(fmt.Sprintf("inbound.addresses[%d]", j)), "%q is not an IP address or CIDR", a)
			continue
		}
		if k, dup := addrs[p]; dup && k != i {
			ps.Warn(at(fmt.Sprintf("inbound.addresses[%d]", j)), "%s is also an address of trunks[%d], which is matched first", p, k)
		} else if !dup {
			addrs[p] = i
		}
	}
	if len(in.Addresses) == 0 && in.Username == "" {
		ps.Add(at("inbound"), "needs addresses or username: calls from the carrier could not be recognised")
	}
	checkCredentials(ps, at("inbound"), in.Username, in.Password)
	if in.Username != "" {
		if j, dup := users[in.Username]; dup {
			ps.Add(at("inbound.username"), "%q is already the inbound username of trunks[%d]", in.Username, j)
		} else {
			users[in.Username] = i
		}
	}
	switch in.CalledNumber {
	case "", "request_uri", "to":
	default:
		ps.Add(at("inbound.called_number"), "%q is not request_uri or to", in.CalledNumber)
	}

	out := &tc.Outbound
	checkCredentials(ps, at("outbound"), out.Username, out.Password)
	if d := out.InviteTimeout; d != nil && (d.D() <= 0 || d.D() > maxInviteTimeout) {
		ps.Add(at("outbound.invite_timeout"), "must be above 0s and at most %s, got %s", maxInviteTimeout, d.D())
	}
	if out.CallerID != "" && !callerIDRE.MatchString(out.CallerID) {
		ps.Add(at("outbound.caller_id"), "%q is not a number (digits, optionally after \"+\")", out.CallerID)
	}
	plan := c.Numbering
	if tc.Numbering != nil {
		plan = *tc.Numbering
		ps.Merge(at("numbering"), tc.Numbering.Validate())
	}
	switch out.NumberFormat {
	case "", "e164":
	case "international":
		if plan.InternationalPrefix == "" {
			ps.Add(at("outbound.number_format"), "international needs numbering.international_prefix (the trunk's or the home one)")
		}
	case "national":
		if plan.CountryCode == "" {
			ps.Add(at("outbound.number_format"), "national needs numbering.country_code (the trunk's or the home one)")
		}
	default:
		ps.Add(at("outbound.number_format"), "%q is not e164, international or national", out.NumberFormat)
	}

	reg := &tc.Register
	if reg.Enabled && (out.Username == "" || out.Password == "") {
		ps.Add(at("register.enabled"), "needs outbound.username and outbound.password")
	}
	if d := reg.Expires; d != nil && d.D() < minRegisterExpires {
		ps.Add(at("register.expires"), "must be at least %s, got %s", minRegisterExpires, d.D())
	}
	if reg.Domain != "" {
		if err := checkHost(reg.Domain); err != "" {
			ps.Add(at("register.domain"), "%s", err)
		}
	}
	if tc.MaxChannels < 0 {
		ps.Add(at("max_channels"), "must not be negative (0 = unlimited), got %d", tc.MaxChannels)
	}
	seen := map[string]bool{}
	for j, cd := range tc.Codecs {
		u := strings.ToUpper(cd)
		switch {
		case u != "PCMU" && u != "PCMA":
			ps.Add(at(fmt.Sprintf("codecs[%d]", j)), "%q is not PCMU or PCMA", cd)
		case seen[u]:
			ps.Add(at(fmt.Sprintf("codecs[%d]", j)), "%s is listed twice", u)
		}
		seen[u] = true
	}
}

// checkCredentials reports a username without password or the reverse.
func checkCredentials(ps *config.Problems, at, user, pass string) {
	switch {
	case user != "" && pass == "":
		ps.Add(at+".password", "missing (%s.username is set)", at[strings.LastIndexByte(at, '.')+1:])
	case user == "" && pass != "":
		ps.Add(at+".username", "missing (%s.password is set)", at[strings.LastIndexByte(at, '.')+1:])
	}
}

func (c *Config) validateDID(ps *config.Problems, i int, trunks map[string]int) {
	dc := &c.DIDs[i]
	entry := fmt.Sprintf("dids[%d]", i)
	at := func(key string) string { return entry + "." + key }
	switch {
	case dc.Number == "":
		ps.Add(at("number"), "missing")
	case !didRE.MatchString(dc.Number) || len(dc.Number)-1 > maxE164Digits:
		ps.Add(at("number"), "%q is not an E.164 number (\"+\" and up to %d digits, optionally ending in X wildcards)", dc.Number, maxE164Digits)
	default:
		for j := range c.DIDs[:i] {
			if e := &c.DIDs[j]; e.Number == dc.Number && scopesIntersect(e.Trunks, dc.Trunks) {
				ps.Add(at("number"), "overlaps dids[%d]%s: same number %s on the same trunks", j, lineNote(e.line), dc.Number)
				break
			}
		}
	}
	seen := map[string]bool{}
	for j, n := range dc.Trunks {
		if _, ok := trunks[n]; !ok && !c.hasTrunk(n) {
			ps.Add(at(fmt.Sprintf("trunks[%d]", j)), "unknown trunk %q", n)
		} else if seen[n] {
			ps.Add(at(fmt.Sprintf("trunks[%d]", j)), "trunk %q is listed twice", n)
		}
		seen[n] = true
	}
	var dests []string
	for _, d := range []struct{ key, v string }{
		{"extension", dc.Extension}, {"ivr", dc.IVR}, {"queue", dc.Queue}, {"conference", dc.Conference}, {"hangup", dc.Hangup},
	} {
		if d.v != "" {
			dests = append(dests, d.key)
		}
	}
	switch len(dests) {
	case 0:
		ps.Add(entry, "needs a destination: one of extension, ivr, queue, conference, hangup")
	case 1:
	default:
		ps.Add(entry, "has %d destinations (%s): give exactly one", len(dests), strings.Join(dests, ", "))
	}
	if dc.InterimExtension != "" && dc.IVR == "" && dc.Queue == "" {
		ps.Add(at("interim_extension"), "only applies to ivr and queue destinations")
	}
	if dc.Hangup != "" {
		if cause, err := call.ParseCause(dc.Hangup); err != nil || !isHangupCause(cause) {
			names := make([]string, len(hangupCauses))
			for k, hc := range hangupCauses {
				names[k] = hc.String()
			}
			ps.Add(at("hangup"), "%q is not a hangup cause (%s)", dc.Hangup, strings.Join(names, ", "))
		}
	}
}

// hasTrunk reports whether a trunk is named n (also one reported invalid
// for another reason, so that its name is not reported again as unknown).
func (c *Config) hasTrunk(n string) bool {
	for i := range c.Trunks {
		if c.Trunks[i].Name == n {
			return true
		}
	}
	return false
}

func isHangupCause(c call.Cause) bool {
	for _, h := range hangupCauses {
		if c == h {
			return true
		}
	}
	return false
}

// scopesIntersect reports whether two DID trunk lists share a trunk (an
// empty list is every trunk).
func scopesIntersect(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func lineNote(line int) string {
	if line > 0 {
		return fmt.Sprintf(" (line %d)", line)
	}
	return ""
}

func (c *Config) validateRule(ps *config.Problems, i int, trunks, names, matches map[string]int) {
	rc := &c.DialRules[i]
	at := func(key string) string { return fmt.Sprintf("dial_rules[%d].%s", i, key) }
	switch j, dup := names[rc.Name]; {
	case rc.Name == "":
		ps.Add(at("name"), "missing")
	case dup:
		ps.Add(at("name"), "%q is already the name of dial_rules[%d]", rc.Name, j)
	default:
		names[rc.Name] = i
	}
	switch j, dup := matches[rc.Match]; {
	case rc.Match == "":
		ps.Add(at("match"), "missing")
	case dup:
		ps.Warn(at("match"), "unreachable: dial_rules[%d]%s has the same match and is tried first", j, lineNote(c.DialRules[j].line))
	default:
		if _, err := regexp.Compile(rc.Match); err != nil {
			ps.Add(at("match"), "not a regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		matches[rc.Match] = i
	}
	if len(rc.Trunks) == 0 {
		ps.Add(at("trunks"), "name at least one trunk")
	}
	seen := map[string]bool{}
	for j, n := range rc.Trunks {
		if _, ok := trunks[n]; !ok && !c.hasTrunk(n) {
			ps.Add(at(fmt.Sprintf("trunks[%d]", j)), "unknown trunk %q", n)
		} else if seen[n] {
			ps.Add(at(fmt.Sprintf("trunks[%d]", j)), "trunk %q is listed twice", n)
		}
		seen[n] = true
	}
	if rc.Strip < 0 || rc.Strip > maxStrip {
		ps.Add(at("strip"), "must be between 0 and %d, got %d", maxStrip, rc.Strip)
	}
	if !prependRE.MatchString(rc.Prepend) {
		ps.Add(at("prepend"), "%q is not digits (optionally starting with \"+\")", rc.Prepend)
	}
	switch rc.Class {
	case "", "national", "international", "emergency":
	default:
		ps.Add(at("class"), "%q is not national, international or emergency", rc.Class)
	}
}

// checkHost returns what is wrong with a host name or IP address, or "".
func checkHost(h string) string {
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" || a.IsUnspecified() {
			return fmt.Sprintf("%q is not a usable IP address", h)
		}
		return ""
	}
	if strings.Contains(h, ":") {
		return fmt.Sprintf("%q is not a host name or IP address (give the port in port:)", h)
	}
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	if len(h) > 253 {
		return fmt.Sprintf("%q is too long for a host name", h)
	}
	for _, l := range labels {
		if !hostLabelRE.MatchString(l) {
			return fmt.Sprintf("%q is not a host name or IP address", h)
		}
	}
	return ""
}

// parsePrefix parses a CIDR or a bare IP address (a /32 or /128); IPv4
// inside IPv6 is unmapped.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, err
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
