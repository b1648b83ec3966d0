package ivr

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchd/switchd/call"
)

// fakeSession is a scripted party: each Collect takes the next scripted
// input; silence (or an exhausted script) waits the collect's timeout (in
// virtual time under synctest) and returns call.ErrNoInput.
type fakeSession struct {
	t       *testing.T
	ctx     context.Context
	cancel  context.CancelFunc
	caller  string
	dialled string

	mu        sync.Mutex
	inputs    []string
	prompts   []call.Prompt
	collects  []call.CollectSpec
	sensitive bool
	sensOn    int // SetSensitive(true) calls
	cause     call.Cause
	hangupAt  int // hang up (cause normal_clearing) when Collect is called for the hangupAt-th time (1-based); 0 never
	record    Recording
	recordErr error
	recordEnd bool // the party hangs up to end the recording
	recorded  []time.Duration
}

const silence = "\x00no-input"

func newFake(t *testing.T, inputs ...string) *fakeSession {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &fakeSession{t: t, ctx: ctx, cancel: cancel, caller: "+442071234567", dialled: "+442079460000", inputs: inputs}
}

var _ Session = (*fakeSession)(nil)

func (f *fakeSession) ID() call.LegID           { return "leg-1" }
func (f *fakeSession) Medium() call.Medium      { return call.MediumVoice }
func (f *fakeSession) Context() context.Context { return f.ctx }
func (f *fakeSession) CallID() call.ID          { return "0190a000-0000-7000-8000-000000000001" }
func (f *fakeSession) Caller() call.Party       { return call.Party{Number: f.caller} }
func (f *fakeSession) Dialled() string          { return f.dialled }

func (f *fakeSession) Cause() call.Cause {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cause
}

func (f *fakeSession) Hangup(c call.Cause) {
	f.mu.Lock()
	if f.cause == call.CauseUnknown {
		f.cause = c
	}
	f.mu.Unlock()
	f.cancel()
}

func (f *fakeSession) SetSensitive(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sensitive = on
	if on {
		f.sensOn++
	}
}

func (f *fakeSession) Prompt(ctx context.Context, p call.Prompt) error {
	f.mu.Lock()
	f.prompts = append(f.prompts, p)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeSession) Collect(ctx context.Context, spec call.CollectSpec) (string, error) {
	f.mu.Lock()
	if !spec.Prompt.IsZero() {
		f.prompts = append(f.prompts, spec.Prompt)
	}
	f.collects = append(f.collects, spec)
	n := len(f.collects)
	in := silence
	if len(f.inputs) > 0 {
		in, f.inputs = f.inputs[0], f.inputs[1:]
	}
	hangup := f.hangupAt == n
	f.mu.Unlock()
	if hangup {
		f.Hangup(call.CauseNormalClearing)
		<-ctx.Done()
		return "", ctx.Err()
	}
	if in == silence {
		spec = spec.WithDefaults()
		select {
		case <-time.After(spec.Timeout):
			return "", call.ErrNoInput
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return in, nil
}

func (f *fakeSession) Record(ctx context.Context, maxDur time.Duration) (Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recorded = append(f.recorded, maxDur)
	if f.recordEnd {
		f.mu.Unlock()
		f.Hangup(call.CauseNormalClearing)
		f.mu.Lock()
	}
	return f.record, f.recordErr
}

// texts returns the text (or audio name) of every prompt presented.
func (f *fakeSession) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.prompts {
		if p.Text != "" {
			out = append(out, p.Text)
		} else {
			out = append(out, "audio:"+p.Audio)
		}
	}
	return out
}

// recorder collects trace events.
type recorder struct {
	mu     sync.Mutex
	events []call.Event
}

func (r *recorder) add(e call.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []call.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call.Event(nil), r.events...)
}

// path returns the nodes entered, in order.
func (r *recorder) path() []string {
	var out []string
	for _, e := range r.all() {
		if e.Type == EventNodeEntered {
			out = append(out, e.Data[DataNode])
		}
	}
	return out
}
