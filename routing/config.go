package routing

import "github.com/switchd/switchd/internal/config"

// Config is the routing part of switchd.yaml: the four top-level keys
// numbering, trunks, dids and dial_rules. It is also the whole of a
// separate routing file (switchd.yaml's routing_file).
type Config struct {
	// Numbering is the home numbering plan numbers are normalised to E.164
	// with. Default: none (only "+CC…" numbers are E.164).
	Numbering Numbering `yaml:"numbering"`
	// Trunks are the carriers calls arrive from and leave through.
	Trunks []TrunkConfig `yaml:"trunks"`
	// DIDs route inbound calls by called number.
	DIDs []DIDConfig `yaml:"dids"`
	// DialRules route numbers dialled by extensions to trunks; the first
	// rule whose match expression matches wins.
	DialRules []DialRuleConfig `yaml:"dial_rules"`
}

// IsZero reports whether none of the four keys is set.
func (c *Config) IsZero() bool {
	return c.Numbering.IsZero() && len(c.Trunks) == 0 && len(c.DIDs) == 0 && len(c.DialRules) == 0
}

// TrunkConfig is one entry of trunks: a carrier.
type TrunkConfig struct {
	// Name identifies the trunk in dids and dial_rules: letters a-z, digits, '-', '_'.
	Name string `yaml:"name"`
	// Host is the carrier's SIP host name or IP address (no port).
	Host string `yaml:"host"`
	// Port is the carrier's SIP port. Default 5060.
	Port int `yaml:"port"`
	// Transport is udp or tcp. Default udp.
	Transport string `yaml:"transport"`
	// Inbound is how calls from the carrier are recognised.
	Inbound TrunkInboundConfig `yaml:"inbound"`
	// Outbound is how calls are sent to the carrier.
	Outbound TrunkOutboundConfig `yaml:"outbound"`
	// Register optionally registers switchd with the carrier.
	Register TrunkRegisterConfig `yaml:"register"`
	// MaxChannels bounds the concurrent calls on the trunk; 0 = unlimited. Default 0.
	MaxChannels int `yaml:"max_channels"`
	// Codecs the trunk may use: PCMU, PCMA. Default [PCMU, PCMA].
	Codecs []string `yaml:"codecs"`
	// Numbering replaces the home numbering plan, as a whole, for this trunk
	// (numbers received from it and sent to it). Default: the home plan.
	Numbering *Numbering `yaml:"numbering"`
}

// TrunkInboundConfig is a trunk's inbound: section.
type TrunkInboundConfig struct {
	// Addresses are the IPs or CIDRs the carrier sends from (a bare IP is a
	// /32 or /128).
	Addresses []string `yaml:"addresses"`
	// Username, when set, makes INVITEs from the carrier carry digest
	// credentials for this user (challenged with switchd's realm).
	Username string `yaml:"username"`
	// Password goes with Username.
	Password string `yaml:"password"`
	// CalledNumber is where the DID is read from: request_uri or to. Default request_uri.
	CalledNumber string `yaml:"called_number"`
}

// TrunkOutboundConfig is a trunk's outbound: section.
type TrunkOutboundConfig struct {
	// Username and Password answer the carrier's 401/407 challenges.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Realm, when set, restricts the credentials to challenges of this realm.
	Realm string `yaml:"realm"`
	// InviteTimeout: with no provisional response within it, the call fails
	// over to the next trunk. Above 0, at most 60s. Default 3s.
	InviteTimeout *config.Duration `yaml:"invite_timeout"`
	// CallerID is the number presented (From, P-Asserted-Identity) on this trunk.
	CallerID string `yaml:"caller_id"`
	// AllowExtensionCallerID presents the extension's own caller ID instead,
	// when it has one. Default false.
	AllowExtensionCallerID bool `yaml:"allow_extension_caller_id"`
	// NumberFormat is how the dialled number is written in the Request-URI:
	// e164, international or national. Default e164.
	NumberFormat string `yaml:"number_format"`
}

// TrunkRegisterConfig is a trunk's register: section.
type TrunkRegisterConfig struct {
	// Enabled registers with the carrier using the outbound credentials. Default false.
	Enabled bool `yaml:"enabled"`
	// Expires is the registration interval asked for. At least 60s. Default 3600s.
	Expires *config.Duration `yaml:"expires"`
	// Domain is the registrar domain (the AOR's host). Default: the trunk's host.
	Domain string `yaml:"domain"`
}

// DIDConfig is one entry of dids: a called number and where it goes.
type DIDConfig struct {
	// Number is an E.164 number; a trailing run of X matches any one digit
	// each ("+8621555502XX").
	Number string `yaml:"number"`
	// Trunks, when set, limit the entry to calls arriving on these trunks.
	// Default: any trunk.
	Trunks []string `yaml:"trunks"`
	// Exactly one of Extension, IVR, Queue, Conference and Hangup is the
	// destination.
	Extension  string `yaml:"extension"`
	IVR        string `yaml:"ivr"`
	Queue      string `yaml:"queue"`
	Conference string `yaml:"conference"` // a room's name (conferences:)
	// Hangup refuses the call with this cause (busy, declined, unavailable,
	// forbidden, not_found, …).
	Hangup string `yaml:"hangup"`
	// InterimExtension is, for ivr and queue destinations only, the
	// extension rung until the IVR or ACD can take the call. Optional.
	InterimExtension string `yaml:"interim_extension"`

	line int // line of the entry in its file, 0 when not decoded from YAML
}

// DialRuleConfig is one entry of dial_rules.
type DialRuleConfig struct {
	// Name identifies the rule in logs and CDRs; unique.
	Name string `yaml:"name"`
	// Match is a regular expression (Go RE2 syntax) matched against the
	// dialled number; anchor it (^…$).
	Match string `yaml:"match"`
	// Trunks are tried in this order (failover).
	Trunks []string `yaml:"trunks"`
	// Strip is the number of digits removed from the front of the dialled
	// number (0 to 20). Default 0.
	Strip int `yaml:"strip"`
	// Prepend is then put in front: digits, optionally starting with "+".
	Prepend string `yaml:"prepend"`
	// Class is the minimum class the rule requires: national or
	// international; the class required is the higher of this and the
	// class of the number. emergency allows the rule to every extension.
	Class string `yaml:"class"`

	line int // line of the entry in its file, 0 when not decoded from YAML
}
