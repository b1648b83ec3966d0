// Package routing decides where calls go between the switch and its
// carriers: the trunks (carriers, recognised by source address or digest
// user), the inbound DID table (called number → extension, IVR flow, queue
// or hangup), the outbound dial rules (dialled number → trunks in failover
// order, with the permission class the caller needs) and E.164
// normalisation with numbering plans.
//
// It is domain logic: no SIP, no sockets. The configuration (Config) is
// validated with Validate, compiled with New into an immutable Table, and
// the SIP layer asks the Table.
package routing

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchd/switchd/call"
)

// Defaults of a trunk.
const (
	DefaultPort            = 5060
	DefaultTransport       = "udp"
	DefaultInviteTimeout   = 3 * time.Second
	DefaultRegisterExpires = 3600 * time.Second
)

// DefaultCodecs are a trunk's codecs when none are configured.
var DefaultCodecs = []string{"PCMU", "PCMA"}

// Trunk is a compiled trunk: a carrier. Treat it as read-only.
type Trunk struct {
	Name      string
	Host      string
	Port      int
	Transport string // "udp" or "tcp"

	// Addresses the carrier sends from (masked, IPv4 unmapped).
	Addresses       []netip.Prefix
	InboundUser     string // digest user the carrier authenticates as; "" = none
	InboundPassword string
	CalledNumber    CalledNumber // never CalledUnknown

	OutboundUser     string
	OutboundPassword string
	OutboundRealm    string // "" = answer any realm
	InviteTimeout    time.Duration

	CallerID               string
	AllowExtensionCallerID bool
	NumberFormat           NumberFormat // never NumberFormatUnknown

	Register        bool
	RegisterExpires time.Duration
	RegisterDomain  string // never empty: defaults to Host

	MaxChannels int       // 0 = unlimited
	Codecs      []string  // "PCMU", "PCMA", in order of preference
	Numbering   Numbering // the effective plan: the trunk's own or the home one
}

// HostPort returns "host:port" (IPv6 hosts in brackets).
func (t *Trunk) HostPort() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// Destination is where an inbound call goes.
type Destination struct {
	Kind DestKind
	// Target is the extension number, IVR flow name or queue name.
	Target string
	// Cause is the cause a DestHangup destination refuses the call with.
	Cause call.Cause
	// InterimExtension (DestIVR, DestQueue) is rung until the IVR or ACD
	// can take the call; "" = none.
	InterimExtension string
}

// Inbound is the result of routing an inbound call.
type Inbound struct {
	DID     string // the normalised called number that matched
	Pattern string // the number of the DID entry that matched ("+8621555502XX")
	Dest    Destination
}

// Attempt is one trunk of an outbound route.
type Attempt struct {
	Trunk  *Trunk
	Number string // the Request-URI user for that trunk, in its NumberFormat
}

// Route is the result of routing an outbound call.
type Route struct {
	Rule     string    // name of the dial rule that matched
	Dialled  string    // the number as dialled
	E164     string    // after strip/prepend, normalised with the home plan; "" when it could not be
	Class    Class     // the class required (ClassEmergency: allowed to all)
	Attempts []Attempt // the rule's trunks in failover order
}

// Table is a compiled routing configuration. It is immutable after New and
// safe for concurrent use. A nil *Table routes nothing.
type Table struct {
	home   Numbering
	trunks []*Trunk
	byName map[string]*Trunk
	byUser map[string]*Trunk
	exact  map[string][]*didEntry // by number
	wild   []*didEntry            // fewest X first
	rules  []*dialRule
}

type didEntry struct {
	number string          // as configured
	prefix string          // number without its trailing X
	xs     int             // number of trailing X
	trunks map[*Trunk]bool // nil = any trunk
	dest   Destination
}

type dialRule struct {
	name    string
	match   *regexp.Regexp
	trunks  []*Trunk
	strip   int
	prepend string
	class   Class
}

// New compiles a Config. It validates it first: a Config with errors (not
// warnings) is refused with ErrInvalidConfig.
func New(c Config) (*Table, error) {
	var errs []error
	for _, p := range c.Validate() {
		if !p.Warning {
			errs = append(errs, fmt.Errorf("%s: %s", p.Path, p.Msg))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	t := &Table{
		home:   c.Numbering,
		byName: make(map[string]*Trunk, len(c.Trunks)),
		byUser: map[string]*Trunk{},
		exact:  map[string][]*didEntry{},
	}
	for _, tc := range c.Trunks {
		tr := compileTrunk(tc, c.Numbering)
		t.trunks = append(t.trunks, tr)
		t.byName[tr.Name] = tr
		if tr.InboundUser != "" {
			t.byUser[tr.InboundUser] = tr
		}
	}
	for _, dc := range c.DIDs {
		e := &didEntry{number: dc.Number, dest: dc.destination()}
		e.prefix = strings.TrimRight(dc.Number, "X")
		e.xs = len(dc.Number) - len(e.prefix)
		if len(dc.Trunks) > 0 {
			e.trunks = map[*Trunk]bool{}
			for _, n := range dc.Trunks {
				e.trunks[t.byName[n]] = true
			}
		}
		if e.xs == 0 {
			t.exact[e.number] = append(t.exact[e.number], e)
		} else {
			t.wild = append(t.wild, e)
		}
	}
	slices.SortStableFunc(t.wild, func(a, b *didEntry) int { return a.xs - b.xs })
	for _, rc := range c.DialRules {
		class, _ := ParseClass(rc.Class)
		r := &dialRule{
			name:    rc.Name,
			match:   regexp.MustCompile(rc.Match), // validated
			strip:   rc.Strip,
			prepend: rc.Prepend,
			class:   class,
		}
		for _, n := range rc.Trunks {
			r.trunks = append(r.trunks, t.byName[n])
		}
		t.rules = append(t.rules, r)
	}
	return t, nil
}

func compileTrunk(tc TrunkConfig, home Numbering) *Trunk {
	tr := &Trunk{
		Name:                   tc.Name,
		Host:                   tc.Host,
		Port:                   tc.Port,
		Transport:              tc.Transport,
		InboundUser:            tc.Inbound.Username,
		InboundPassword:        tc.Inbound.Password,
		OutboundUser:           tc.Outbound.Username,
		OutboundPassword:       tc.Outbound.Password,
		OutboundRealm:          tc.Outbound.Realm,
		InviteTimeout:          DefaultInviteTimeout,
		CallerID:               tc.Outbound.CallerID,
		AllowExtensionCallerID: tc.Outbound.AllowExtensionCallerID,
		Register:               tc.Register.Enabled,
		RegisterExpires:        DefaultRegisterExpires,
		RegisterDomain:         tc.Register.Domain,
		MaxChannels:            tc.MaxChannels,
		Numbering:              home,
	}
	if tr.Port == 0 {
		tr.Port = DefaultPort
	}
	if tr.Transport == "" {
		tr.Transport = DefaultTransport
	}
	for _, a := range tc.Inbound.Addresses {
		if p, err := parsePrefix(a); err == nil {
			tr.Addresses = append(tr.Addresses, p)
		}
	}
	tr.CalledNumber, _ = ParseCalledNumber(tc.Inbound.CalledNumber)
	if tr.CalledNumber == CalledUnknown {
		tr.CalledNumber = CalledRequestURI
	}
	if d := tc.Outbound.InviteTimeout; d != nil {
		tr.InviteTimeout = d.D()
	}
	tr.NumberFormat, _ = ParseNumberFormat(tc.Outbound.NumberFormat)
	if tr.NumberFormat == NumberFormatUnknown {
		tr.NumberFormat = NumberFormatE164
	}
	if d := tc.Register.Expires; d != nil {
		tr.RegisterExpires = d.D()
	}
	if tr.RegisterDomain == "" {
		tr.RegisterDomain = tr.Host
	}
	for _, c := range tc.Codecs {
		tr.Codecs = append(tr.Codecs, strings.ToUpper(c))
	}
	if len(tr.Codecs) == 0 {
		tr.Codecs = slices.Clone(DefaultCodecs)
	}
	if tc.Numbering != nil {
		tr.Numbering = *tc.Numbering
	}
	return tr
}

// destination returns the entry's destination; call after Validate.
func (dc *DIDConfig) destination() Destination {
	d := Destination{InterimExtension: dc.InterimExtension}
	switch {
	case dc.Extension != "":
		d.Kind, d.Target = DestExtension, dc.Extension
	case dc.IVR != "":
		d.Kind, d.Target = DestIVR, dc.IVR
	case dc.Queue != "":
		d.Kind, d.Target = DestQueue, dc.Queue
	case dc.Conference != "":
		d.Kind, d.Target = DestConference, dc.Conference
	case dc.Hangup != "":
		d.Kind = DestHangup
		d.Cause, _ = call.ParseCause(dc.Hangup)
	}
	return d
}

// Trunks returns the trunks in configuration order. The slice is shared:
// do not modify it.
func (t *Table) Trunks() []*Trunk {
	if t == nil {
		return nil
	}
	return t.trunks
}

// Trunk returns the trunk named name, or nil.
func (t *Table) Trunk(name string) *Trunk {
	if t == nil {
		return nil
	}
	return t.byName[name]
}

// TrunkByAddr returns the first trunk (in configuration order) whose
// Addresses contain a (an IPv4-mapped IPv6 address is unmapped first), or nil.
func (t *Table) TrunkByAddr(a netip.Addr) *Trunk {
	if t == nil || !a.IsValid() {
		return nil
	}
	a = a.Unmap().WithZone("")
	for _, tr := range t.trunks {
		for _, p := range tr.Addresses {
			if p.Contains(a) {
				return tr
			}
		}
	}
	return nil
}

// TrunkByUser returns the trunk whose inbound digest user is user, or nil
// (always nil for "").
func (t *Table) TrunkByUser(user string) *Trunk {
	if t == nil || user == "" {
		return nil
	}
	return t.byUser[user]
}
