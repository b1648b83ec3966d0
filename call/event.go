package call

import "time"

// EventType names what happened. It is a string rather than a closed
// enumeration so that the processing packages (acd, ivr) can declare their
// own types ("queue_joined") on the same bus; the call life-cycle types are
// below. Names are snake_case.
type EventType string

// Call life-cycle event types, one per State change (see Call.Transition),
// plus media reports.
const (
	EventCallCreated    EventType = "call_created"     // → StateCreated
	EventCallRinging    EventType = "call_ringing"     // → StateRinging
	EventCallEarlyMedia EventType = "call_early_media" // → StateEarlyMedia
	EventCallAnswered   EventType = "call_answered"    // → StateAnswered (first answer)
	EventCallHeld       EventType = "call_held"        // Answered → Held
	EventCallResumed    EventType = "call_resumed"     // Held → Answered
	EventCallEnded      EventType = "call_ended"       // → StateEnded; Cause and HangupSide set
	EventCallMedia      EventType = "call_media"       // codecs negotiated or a quality report; state unchanged
	EventCallDTMF       EventType = "call_dtmf"        // a party pressed a key; Data: digit, dtmf_source, leg
	// EventCallTransferred: a party moved the call (blind or attended
	// transfer, pickup, park, retrieve); Data: transfer_* keys. The call
	// keeps its ID: Caller and Callee are the parties after it.
	EventCallTransferred EventType = "call_transferred"
)

// Keys of Event.Data for call_dtmf. One key press is one event, whether
// the phone sent it as RFC 4733 telephone-events, in-band tones, SIP INFO
// or several of them at once.
const (
	DataDigit      = "digit"       // "0"-"9", "*", "#", "A"-"D"; "redacted" while input is sensitive
	DataDTMFSource = "dtmf_source" // rfc4733, inband, sip-info
	DataLeg        = "leg"         // caller or callee
)

// Keys of Event.Data for media facts. The A leg is the caller's, the B leg
// the callee's; quality is what the switch measured receiving from that leg
// (RFC 3550 §6.4.1 cumulative packets lost and interarrival jitter). Values
// are decimal strings. call_ended carries the final values; call_answered
// and call_media may carry codecs.
const (
	DataCodecA       = "codec_a"        // e.g. "PCMU"
	DataCodecB       = "codec_b"        //
	DataPacketsLostA = "a_packets_lost" // integer
	DataJitterMSA    = "a_jitter_ms"    // milliseconds, decimal
	DataPacketsLostB = "b_packets_lost" //
	DataJitterMSB    = "b_jitter_ms"    //
)

// Keys of Event.Data for routing facts: the carrier trunk a call came in
// on or went out through, the DID it was dialled on, and a description of
// the route taken (the DID entry or dial rule). call_created carries what
// is known at the start; later events (answered, ended) may name the trunk
// that finally carried the call, which overrides.
const (
	DataTrunk = "trunk" // trunk name
	DataDID   = "did"   // the called number as matched, E.164 where normalisable
	DataRoute = "route" // e.g. "did +862155550100 -> extension 1001", "rule international via carrier-a"

	// On call_transferred.
	DataTransferKind       = "transfer_kind"     // blind, attended, recall, pickup, retrieve
	DataTransferor         = "transferor"        // the number of the party that transferred
	DataTransferee         = "transferee"        // the number of the party that was moved
	DataTransferTarget     = "transfer_target"   // what it was moved to: a number, or the party of an attended transfer
	DataTransferResult     = "transfer_result"   // completed, or failed
	DataTransferStatus     = "transfer_status"   // the target's final SIP status (failed transfers)
	DataTransferReplacedID = "transfer_replaced" // attended: the consultation call, ended by the transfer
)

// The values of DataTransferResult.
const (
	TransferCompleted = "completed"
	TransferFailed    = "failed"
)

// Event is one state change on the bus. Seq and Time are assigned by
// Bus.Publish: Seq strictly increases (1, 2, 3…) for the life of the bus,
// and Time never decreases along it. An event is immutable once published:
// subscribers share it, and must not modify Data.
type Event struct {
	Seq        uint64            `json:"seq"`
	Time       time.Time         `json:"time"`
	Type       EventType         `json:"type"`
	CallID     ID                `json:"call_id,omitempty"`
	Medium     Medium            `json:"medium,omitzero"`
	Direction  Direction         `json:"direction,omitzero"`
	State      State             `json:"state,omitzero"`
	Cause      Cause             `json:"cause,omitzero"`
	HangupSide Side              `json:"hangup_side,omitzero"`
	Caller     Party             `json:"caller,omitzero"`
	Callee     Party             `json:"callee,omitzero"`
	Data       map[string]string `json:"data,omitempty"`
}
