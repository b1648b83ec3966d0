package ivr

import (
	"maps"

	"github.com/switchd/switchd/call"
)

// Event types of the run trace (Env.Events): every node entered, every
// input received, every branch taken and the end, so that a supervisor
// sees where callers go and where they drop.
const (
	EventNodeEntered call.EventType = "ivr_node_entered" // Data: flow, node, kind, version
	EventInput       call.EventType = "ivr_input"        // Data: …, input ("redacted" when sensitive), result
	EventBranch      call.EventType = "ivr_branch"       // Data: …, branch (the next node or "flow <name>"), reason
	EventEnded       call.EventType = "ivr_ended"        // Data: …, outcome, cause | target, target_kind | queue, priority; error
)

// Keys of the trace events' Data.
const (
	DataFlow       = "flow"        // the flow's name
	DataNode       = "node"        // the node's name
	DataKind       = "kind"        // the node's type ("menu")
	DataVersion    = "version"     // the Set's version
	DataInput      = "input"       // what the party entered; Redacted for sensitive input
	DataResult     = "result"      // ResultOK, ResultInvalid, ResultNoInput
	DataBranch     = "branch"      // the node the run goes to
	DataReason     = "reason"      // why: "next", "option 1", "case 2", "else", "open", "closed", "holiday", "invalid", "no_input", "failure", "transfer"
	DataOutcome    = "outcome"     // OutcomeKind
	DataCause      = "cause"       // hangup cause
	DataTarget     = "target"      // transfer target
	DataTargetKind = "target_kind" // TargetKind
	DataQueue      = "queue"       // enqueue queue
	DataPriority   = "priority"    // enqueue priority
	DataError      = "error"       // why a run ended abnormally
)

// Values of DataInput and DataResult.
const (
	Redacted      = "redacted"
	ResultOK      = "ok"
	ResultInvalid = "invalid"
	ResultNoInput = "no_input"
)

// emit sends one trace event with the run's position.
func (r *run) emit(typ call.EventType, data map[string]string) {
	if r.env.Events == nil {
		return
	}
	d := make(map[string]string, len(data)+4)
	maps.Copy(d, data)
	d[DataFlow] = r.flow.name
	d[DataVersion] = r.set.Version()
	if r.node != nil {
		d[DataNode] = r.node.name
		d[DataKind] = r.node.kind.String()
	}
	r.env.Events(call.Event{
		Time:   r.env.Now(),
		Type:   typ,
		CallID: r.sess.CallID(),
		Medium: r.sess.Medium(),
		Caller: r.sess.Caller(),
		Data:   d,
	})
}

// input traces input received (redacted when sensitive).
func (r *run) input(value, result string, sensitive bool) {
	if sensitive && value != "" {
		value = Redacted
	}
	r.emit(EventInput, map[string]string{DataInput: value, DataResult: result})
}
