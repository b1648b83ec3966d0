package call

// Cause is why a call (or a leg) ended. The set follows what contact-centre
// reports need, in the spirit of Q.850 as Asterisk and FreeSWITCH use it,
// without copying Q.850's hundred codes. SIPStatus and CauseFromSIP map it
// to and from SIP (cause_sip.go).
type Cause uint8

// Causes.
const (
	CauseUnknown           Cause = iota // zero value: not ended, or not known
	CauseNormalClearing                 // a party hung up after the call was answered
	CauseBusy                           // the called party is busy (486, 600)
	CauseNoAnswer                       // alerted but nobody answered in time (ring timeout, 408)
	CauseUnavailable                    // the called party cannot be reached now: not registered, DND (480)
	CauseNotFound                       // no such number or user (404, 604)
	CauseInvalidNumber                  // the number is incomplete or malformed (484)
	CauseOriginatorCancel               // the caller gave up before answer (CANCEL, 487)
	CauseAnsweredElsewhere              // another device or agent took it (RFC 3326 Reason "Call completed elsewhere")
	CauseDeclined                       // the called party declined (603)
	CauseForbidden                      // rejected by policy or authentication (403)
	CauseNotAcceptable                  // no common codec or unusable SDP (488, 606)
	CauseMediaTimeout                   // no RTP received for the configured time
	CauseSessionTimeout                 // the session timer expired (RFC 4028)
	CauseSwitchRestart                  // the switch stopped without ending the call (set on restart, from CDRs left open)
	CauseShutdown                       // the switch was shut down in an orderly way
	CauseCongestion                     // no capacity here or downstream (503)
	CauseFailure                        // anything else that went wrong (500)
	CauseTransferred                    // the party left by transferring the call (REFER, feature code, park)
)

var causeNames = []string{
	"unknown", "normal_clearing", "busy", "no_answer", "unavailable", "not_found",
	"invalid_number", "originator_cancel", "answered_elsewhere", "declined", "forbidden",
	"not_acceptable", "media_timeout", "session_timeout", "switch_restart", "shutdown",
	"congestion", "failure", "transferred",
}

// String returns the snake_case name ("normal_clearing").
func (c Cause) String() string { return enumString(c, "cause", causeNames) }

// MarshalText implements encoding.TextMarshaler.
func (c Cause) MarshalText() ([]byte, error) { return enumMarshal(c, "cause", causeNames) }

// UnmarshalText implements encoding.TextUnmarshaler; "" means unknown.
func (c *Cause) UnmarshalText(b []byte) (err error) {
	*c, err = enumParse[Cause](b, "cause", causeNames)
	return err
}

// ParseCause returns the cause named s ("busy"); "" is CauseUnknown.
func ParseCause(s string) (Cause, error) {
	var c Cause
	err := c.UnmarshalText([]byte(s))
	return c, err
}
