package ivr

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/switchd/switchd/call"
)

// run is one execution of a flow for one call. It is owned by the call's
// goroutine (Set.Run's caller): nothing in it is shared.
type run struct {
	set       *Set
	sess      Session
	env       Env
	log       *slog.Logger
	flow      *Flow
	node      *node
	vars      map[string]string
	sensitive map[string]bool
	steps     int
	customer  bool // customer attributes looked up
}

// Run executes the flow named flow of s for sess until it ends, and
// returns the outcome for the switch to act on. Run does not hang up, bridge
// or enqueue itself. It returns early, with a hangup outcome whose Cause is
// the leg's, when ctx ends or the leg ends (sess.Context()).
//
// A call keeps the Set it started with: a transfer to another flow goes
// on in s even if the Library has loaded a new Set since. Run is safe for
// concurrent use; a nil s (no valid flows loaded) returns a hangup with
// call.CauseFailure and ErrNoFlow.
func (s *Set) Run(ctx context.Context, flow string, sess Session, env Env) Outcome {
	r := &run{set: s, sess: sess, env: env, vars: map[string]string{}, sensitive: map[string]bool{}}
	if r.env.Now == nil {
		r.env.Now = time.Now
	}
	if r.env.MaxSteps <= 0 {
		r.env.MaxSteps = DefaultMaxSteps
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.log = log.With("call_id", string(sess.CallID()), "flow_version", s.Version())
	r.vars["caller"] = sess.Caller().Number
	r.vars["dialled"] = sess.Dialled()
	r.vars["call_id"] = string(sess.CallID())

	var f *Flow
	if s != nil {
		f = s.flows[flow]
	}
	if f == nil {
		r.flow = &Flow{name: flow}
		r.log.Error("ivr_no_flow", "flow", flow)
		return r.finish(&Outcome{Kind: OutcomeHangup, Cause: call.CauseFailure, Err: ErrNoFlow})
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(sess.Context(), cancel)
	defer stop()

	r.enter(f)
	cur := f.nodes[f.start]
	for {
		if r.done(ctx) {
			return r.finish(r.aborted(ctx))
		}
		if cur == nil {
			r.log.Error("ivr_unknown_node", "flow", r.flow.name)
			return r.finish(&Outcome{Kind: OutcomeHangup, Cause: call.CauseFailure, Err: ErrUnknownNode})
		}
		r.node = cur
		r.steps++
		if r.steps > r.env.MaxSteps {
			r.log.Error("ivr_step_limit", "flow", r.flow.name, "node", cur.name, "max_steps", r.env.MaxSteps)
			return r.finish(&Outcome{Kind: OutcomeHangup, Cause: call.CauseFailure, Err: ErrStepLimit})
		}
		r.emit(EventNodeEntered, nil)
		if !r.customer && cur.usesCustomer() {
			r.lookupCustomer(ctx)
		}
		res := cur.act.exec(ctx, r)
		switch {
		case res.out != nil:
			return r.finish(res.out)
		case res.flow != "":
			next := s.flows[res.flow]
			r.emit(EventBranch, map[string]string{DataBranch: "flow " + res.flow, DataReason: "transfer"})
			if next == nil {
				r.log.Error("ivr_no_flow", "flow", res.flow)
				return r.finish(&Outcome{Kind: OutcomeHangup, Cause: call.CauseFailure, Err: ErrNoFlow})
			}
			r.log.Info("ivr_flow_transfer", "from", r.flow.name, "to", next.name)
			r.enter(next)
			cur = next.nodes[next.start]
		default:
			r.emit(EventBranch, map[string]string{DataBranch: res.next, DataReason: res.reason})
			cur = r.flow.nodes[res.next]
		}
	}
}

// enter starts flow f: its initial variables are set unless the run
// already has them (a flow transferred to keeps the caller's variables).
func (r *run) enter(f *Flow) {
	r.flow = f
	r.vars["flow"] = f.name
	for _, v := range f.vars {
		if _, ok := r.vars[v.k]; !ok {
			r.vars[v.k] = v.v
		}
	}
}

// lookup returns the value of a variable ("" when unset).
func (r *run) lookup(name string) string {
	if name == "now" {
		return r.now().Format(time.RFC3339)
	}
	return r.vars[name]
}

// now returns the clock's time in the flow's time zone.
func (r *run) now() time.Time {
	t := r.env.Now()
	if r.flow != nil && r.flow.loc != nil {
		t = t.In(r.flow.loc)
	}
	return t
}

// exprContext lets expressions read the run's variables and clock.
type exprContext struct{ r *run }

func (c exprContext) Var(name string) string { return c.r.lookup(name) }
func (c exprContext) Now() time.Time         { return c.r.now() }

// assign sets a variable; a sensitive value stays out of events, logs and
// the outcome.
func (r *run) assign(name, value string, sensitive bool) {
	r.vars[name] = value
	if sensitive {
		r.sensitive[name] = true
	} else {
		delete(r.sensitive, name)
	}
}

// readsSensitive reports whether any of vars holds a sensitive value (a
// value computed from one is sensitive too).
func (r *run) readsSensitive(vars []string) bool {
	for _, v := range vars {
		if r.sensitive[v] {
			return true
		}
	}
	return false
}

// lookupCustomer sets customer.<attr> from Env.Customer, once per run.
func (r *run) lookupCustomer(ctx context.Context) {
	r.customer = true
	if r.env.Customer == nil || r.vars["caller"] == "" {
		return
	}
	attrs, err := r.env.Customer(ctx, r.vars["caller"])
	if err != nil {
		r.log.Warn("ivr_customer_lookup_failed", "error", err)
		return
	}
	for k, v := range attrs {
		if varRE.MatchString(k) {
			r.vars["customer."+k] = v
		}
	}
}

// done reports whether the run's context or the leg ended. (The run's
// context follows the leg's, but asynchronously.)
func (r *run) done(ctx context.Context) bool {
	return ctx.Err() != nil || r.sess.Context().Err() != nil
}

// aborted is the outcome when the leg or the run's context ended.
func (r *run) aborted(ctx context.Context) *Outcome {
	cause := r.sess.Cause()
	if cause == call.CauseUnknown {
		cause = call.CauseNormalClearing
	}
	err := ctx.Err()
	if err == nil {
		err = r.sess.Context().Err()
	}
	if err == nil {
		err = context.Canceled
	}
	return &Outcome{Kind: OutcomeHangup, Cause: cause, Err: err}
}

// finish completes the outcome with where the run ended and its variables,
// and traces it.
func (r *run) finish(o *Outcome) Outcome {
	o.Flow = r.flow.name
	if r.node != nil {
		o.Node = r.node.name
	}
	o.Vars = make(map[string]string, len(r.vars))
	for k, v := range r.vars {
		if !r.sensitive[k] {
			o.Vars[k] = v
		}
	}
	data := map[string]string{DataOutcome: o.Kind.String()}
	switch o.Kind {
	case OutcomeHangup:
		data[DataCause] = o.Cause.String()
	case OutcomeTransfer:
		data[DataTarget] = o.Target
		data[DataTargetKind] = o.TargetKind.String()
	case OutcomeEnqueue:
		data[DataQueue] = o.Queue
		data[DataPriority] = strconv.Itoa(o.Priority)
	}
	if o.Err != nil {
		data[DataError] = o.Err.Error()
	}
	r.emit(EventEnded, data)
	attrs := []any{"flow", o.Flow, "node", o.Node, "outcome", o.Kind.String(), "steps", r.steps}
	switch {
	case o.Err != nil && !errors.Is(o.Err, context.Canceled):
		r.log.Warn("ivr_ended", append(attrs, "error", o.Err)...)
	default:
		r.log.Info("ivr_ended", attrs...)
	}
	return *o
}
