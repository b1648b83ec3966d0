// Package ivr runs IVR flows: small graphs of nodes (play, menu, collect,
// set, branch, hours, http, enqueue, transfer, voicemail, hangup, goto) that
// admins write in YAML, one flow per file, in a directory (ivr.dir,
// configs/ivr/ by default; the schema is documented in configs/ivr/README.md).
//
// The engine knows nothing of SIP, RTP or chat: it talks to the party
// through a Session (a call.Leg that is also a call.Prompter), so the same
// flow serves a voice call and, later, a web chat. A flow ends by handing
// the call back to the switch as an Outcome (hang up, transfer to an
// extension or a number, enqueue to a queue with skills and a priority);
// the wiring (internal/server) acts on it.
//
// Flows are loaded and validated together as a Set (every problem of every
// file is reported at once, as file:line); a Library holds the current Set
// and swaps it atomically on reload. A call keeps the Set it started with.
package ivr

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchd/switchd/call"
)

// Session is the party a flow talks to. A voice leg (sip) and later a chat
// leg implement it.
type Session interface {
	call.Leg
	// Prompt and Collect present prompts and read DTMF digits (voice) or a
	// reply (chat); Collect returns call.ErrNoInput after its timeout.
	call.Prompter
	// CallID is the contact's ID, carried by every event and log line.
	CallID() call.ID
	// Caller is the calling party; its number is E.164 where known.
	Caller() call.Party
	// Dialled is the number the caller dialled (the DID).
	Dialled() string
	// SetSensitive(true) keeps the input that follows out of events, logs
	// and recordings (DTMF digits are reported as "redacted" and recording
	// is paused or masked) until SetSensitive(false).
	SetSensitive(on bool)
	// Record records the party's message after a beep until maxDur, silence
	// or '#', and returns where it is stored and how long it is.
	Record(ctx context.Context, maxDur time.Duration) (Recording, error)
}

// Recording is a message recorded by Session.Record.
type Recording struct {
	// Path is where the recording is stored (a file path or a storage key
	// that the recordings package understands).
	Path string
	// Duration is its length.
	Duration time.Duration
}

// Voicemail is a message left in a voicemail node, handed to
// Env.Voicemail to be stored with the call and the caller.
type Voicemail struct {
	CallID    call.ID
	Caller    string // the caller's number
	Box       string // the mailbox: a mailbox name or an extension number
	Flow      string // the flow and node that recorded it
	Node      string
	Recording Recording
	At        time.Time // when recording ended (Env.Now)
}

// Env is what a run needs from the switch. Every field is optional.
type Env struct {
	// Now is the clock (hours nodes, time-of-day conditions, the now
	// variable, event times); nil means time.Now.
	Now func() time.Time
	// HTTP is the client of http nodes; nil means http.DefaultClient. Each
	// request is also bounded by its node's timeout.
	HTTP *http.Client
	// Log receives the run's log lines (with call_id, flow, version); nil
	// discards them.
	Log *slog.Logger
	// Events receives the trace of the run: one event per node entered,
	// input received, branch taken and for the end (EventNodeEntered,
	// EventInput, EventBranch, EventEnded). Input of sensitive collects is
	// reported as "redacted". Nil drops them.
	Events func(call.Event)
	// Customer returns the attributes of the customer calling from number
	// (a CRM or database lookup): they are the variables customer.<attr>.
	// It is called at most once per run, when a node first needs them. Nil
	// means no attributes (customer.* are empty).
	Customer func(ctx context.Context, number string) (map[string]string, error)
	// Voicemail stores a message left in a voicemail node. Nil means
	// messages are recorded but not stored (logged as an error); a
	// voicemail node then takes its failure branch.
	Voicemail func(ctx context.Context, v Voicemail) error
	// MaxSteps bounds the nodes one run may visit (each visit counts,
	// across flow transfers); reaching it hangs up with call.CauseFailure.
	// 0 means DefaultMaxSteps.
	MaxSteps int
}

// DefaultMaxSteps is Env.MaxSteps when it is 0.
const DefaultMaxSteps = 200

// Outcome is how a flow hands the call back to the switch.
type Outcome struct {
	// Kind says what the switch should do.
	Kind OutcomeKind
	// Target is, for a transfer, the extension number or the external
	// number, as TargetKind says.
	Target     string
	TargetKind TargetKind
	// Trunk is, for an external transfer, the trunk named by the flow
	// ("" lets the dial rules choose).
	Trunk string
	// Queue, Skills and Priority describe an enqueue: the queue's name,
	// the skills an agent needs and the priority (higher is served first).
	Queue    string
	Skills   []string
	Priority int
	// Cause is, for a hangup, the cause to hang up with (or the cause the
	// leg ended with when the caller hung up during the flow).
	Cause call.Cause
	// Vars are the call's variables at the end, without sensitive ones;
	// the switch can attach them to the call (screen pop, CDR).
	Vars map[string]string
	// Flow and Node are where the run ended.
	Flow, Node string
	// Err says why a run ended abnormally: ErrStepLimit, ErrNoFlow,
	// ErrUnknownNode, or the context's error when the leg ended or the run
	// was cancelled. Nil when a node of the flow decided the outcome.
	Err error
}
