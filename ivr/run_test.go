package ivr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchd/switchd/call"
)

// mustSet loads flows (file name → YAML) and fails on any error.
func mustSet(t testing.TB, files map[string]string) *Set {
	t.Helper()
	dir := writeFlows(t, files)
	set, problems, err := loadSet(dir, Checker{})
	if err != nil || HasErrors(problems) {
		t.Fatalf("load: %v\n%s", err, problemsText(dir, problems))
	}
	return set
}

const menuFlow = `
language: en-GB
start: welcome
nodes:
  welcome:
    type: play
    prompt: Hello ${caller}
    next: menu
  menu:
    type: menu
    prompt: [Press 1 for sales., Press 2 for support.]
    options: {"1": sales, "2": support, "0": ext}
    timeout: 10s
    retries: 2
    invalid_prompt: Not an option.
    no_input_prompt: Nothing heard.
    invalid: bad
    no_input: quiet
  sales:
    type: enqueue
    queue: sales
    skills: [english, "${lang}"]
    priority: 7
  support:
    type: hangup
    cause: busy
  ext:
    type: transfer
    extension: "1001"
  bad:
    type: transfer
    number: "+442070000000"
    trunk: carrier-a
  quiet:
    type: hangup
vars:
  lang: french
`

func TestPlayMenuEnqueue(t *testing.T) {
	set := mustSet(t, map[string]string{"main.yaml": menuFlow})
	sess := newFake(t, "1")
	var rec recorder
	out := set.Run(context.Background(), "main", sess, Env{Events: rec.add})
	if out.Kind != OutcomeEnqueue || out.Queue != "sales" || out.Priority != 7 || !slices.Equal(out.Skills, []string{"english", "french"}) {
		t.Fatalf("outcome = %+v", out)
	}
	if out.Flow != "main" || out.Node != "sales" || out.Err != nil || out.Vars["caller"] != "+442071234567" {
		t.Errorf("outcome = %+v", out)
	}
	want := []string{"Hello +442071234567", "Press 1 for sales.", "Press 2 for support."}
	if got := sess.texts(); !slices.Equal(got, want) {
		t.Errorf("prompts = %q, want %q", got, want)
	}
	if sess.prompts[0].Language != "en-GB" || sess.prompts[0].Interruptible || !sess.prompts[1].Interruptible {
		t.Errorf("prompt fields = %+v", sess.prompts)
	}
	if spec := sess.collects[0]; spec.MaxDigits != 1 || spec.Timeout != 10*time.Second || spec.Terminator != "" {
		t.Errorf("collect spec = %+v", spec)
	}
	if got := rec.path(); !slices.Equal(got, []string{"welcome", "menu", "sales"}) {
		t.Errorf("path = %v", got)
	}
	var types []string
	for _, e := range rec.all() {
		types = append(types, string(e.Type))
		if e.CallID != sess.CallID() || e.Data[DataFlow] != "main" || e.Data[DataVersion] != set.Version() {
			t.Errorf("event %+v", e)
		}
	}
	wantTypes := []string{"ivr_node_entered", "ivr_branch", "ivr_node_entered", "ivr_input", "ivr_branch", "ivr_node_entered", "ivr_ended"}
	if !slices.Equal(types, wantTypes) {
		t.Errorf("event types = %v, want %v", types, wantTypes)
	}
	ev := rec.all()
	if in := ev[3].Data; in[DataInput] != "1" || in[DataResult] != ResultOK || in[DataKind] != "menu" {
		t.Errorf("input event = %v", in)
	}
	if br := ev[4].Data; br[DataBranch] != "sales" || br[DataReason] != "option 1" {
		t.Errorf("branch event = %v", br)
	}
	if end := ev[6].Data; end[DataOutcome] != "enqueue" || end[DataQueue] != "sales" || end[DataPriority] != "7" {
		t.Errorf("end event = %v", end)
	}
}

func TestMenuOptions(t *testing.T) {
	set := mustSet(t, map[string]string{"main.yaml": menuFlow})
	for _, tc := range []struct {
		inputs []string
		want   Outcome
	}{
		{[]string{"2"}, Outcome{Kind: OutcomeHangup, Cause: call.CauseBusy}},
		{[]string{"0"}, Outcome{Kind: OutcomeTransfer, Target: "1001", TargetKind: TargetExtension}},
		{[]string{"7", "9", "8"}, Outcome{Kind: OutcomeTransfer, Target: "+442070000000", TargetKind: TargetExternal, Trunk: "carrier-a"}},
		{[]string{"7", silence, "2"}, Outcome{Kind: OutcomeHangup, Cause: call.CauseBusy}},
		{[]string{"7", "9", silence}, Outcome{Kind: OutcomeHangup, Cause: call.CauseNormalClearing}}, // quiet
		{[]string{silence, silence, "5"}, Outcome{Kind: OutcomeTransfer, Target: "+442070000000", TargetKind: TargetExternal, Trunk: "carrier-a"}},
	} {
		synctest.Test(t, func(t *testing.T) {
			sess := newFake(t, tc.inputs...)
			out := set.Run(context.Background(), "main", sess, Env{})
			if out.Kind != tc.want.Kind || out.Cause != tc.want.Cause || out.Target != tc.want.Target ||
				out.TargetKind != tc.want.TargetKind || out.Trunk != tc.want.Trunk {
				t.Errorf("inputs %q: outcome %+v, want %+v", tc.inputs, out, tc.want)
			}
		})
	}
}

// TestMenuRetriesTimeouts checks, in virtual time, that a menu nobody
// answers waits its timeout on each of its 1+retries attempts, with the
// no-input prompt between attempts, then takes no_input.
func TestMenuRetriesTimeouts(t *testing.T) {
	set := mustSet(t, map[string]string{"main.yaml": menuFlow})
	synctest.Test(t, func(t *testing.T) {
		sess := newFake(t)
		var rec recorder
		start := time.Now()
		out := set.Run(context.Background(), "main", sess, Env{Events: rec.add})
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("took %v, want 3 × 10s", d)
		}
		if out.Node != "quiet" || out.Kind != OutcomeHangup {
			t.Errorf("outcome = %+v", out)
		}
		texts := sess.texts()
		if n := strings.Count(strings.Join(texts, "|"), "Nothing heard."); n != 2 {
			t.Errorf("no-input prompt played %d times, want 2: %q", n, texts)
		}
		var results []string
		for _, e := range rec.all() {
			if e.Type == EventInput {
				results = append(results, e.Data[DataResult])
			}
		}
		if !slices.Equal(results, []string{"no_input", "no_input", "no_input"}) {
			t.Errorf("input results = %v", results)
		}
	})
}

func TestMenuFallbacks(t *testing.T) {
	set := mustSet(t, map[string]string{
		"only_invalid.yaml": `
start: m
nodes:
  m: {type: menu, prompt: Choose, options: {"1": a}, retries: 0, invalid: a}
  a: {type: hangup, cause: busy}
`,
		"neither.yaml": `
start: m
nodes:
  m: {type: menu, prompt: Choose, options: {"1": a}, retries: 1}
  a: {type: hangup, cause: busy}
`,
	})
	synctest.Test(t, func(t *testing.T) {
		// no input falls back to invalid: when no_input: is not set
		if out := set.Run(context.Background(), "only_invalid", newFake(t), Env{}); out.Cause != call.CauseBusy {
			t.Errorf("only_invalid: %+v", out)
		}
		sess := newFake(t, "3", "4")
		out := set.Run(context.Background(), "neither", sess, Env{})
		if out.Kind != OutcomeHangup || out.Cause != call.CauseNormalClearing || out.Node != "m" || len(sess.collects) != 2 {
			t.Errorf("neither: %+v after %d collects", out, len(sess.collects))
		}
	})
}

const collectFlow = `
start: account
nodes:
  account:
    type: collect
    var: account
    prompt: Enter your account number.
    min_length: 6
    max_length: 8
    pattern: '[1-9][0-9]*'
    timeout: 7s
    retries: 1
    invalid_prompt: Invalid.
    next: pin
    invalid: failed
    no_input: failed
  pin:
    type: collect
    var: pin
    prompt: Enter your PIN.
    min_length: 4
    max_length: 4
    terminator: ""
    sensitive: true
    next: derived
  derived:
    type: set
    vars:
      masked: "pin was ${pin}"
      acct: "${account}"
    next: done
  done:
    type: play
    prompt: Checking ${account} with ${pin}.
    next: end
  end:
    type: hangup
  failed:
    type: hangup
    cause: failure
`

func TestCollectSensitive(t *testing.T) {
	set := mustSet(t, map[string]string{"c.yaml": collectFlow})
	sess := newFake(t, "0123456", "1234567", "4321")
	var rec recorder
	out := set.Run(context.Background(), "c", sess, Env{Events: rec.add})
	if out.Node != "end" || out.Vars["account"] != "1234567" || out.Vars["acct"] != "1234567" {
		t.Fatalf("outcome = %+v", out)
	}
	if _, ok := out.Vars["pin"]; ok {
		t.Error("sensitive pin in Outcome.Vars")
	}
	if _, ok := out.Vars["masked"]; ok {
		t.Error("a value computed from the pin is in Outcome.Vars")
	}
	for _, e := range rec.all() {
		for k, v := range e.Data {
			if strings.Contains(v, "4321") {
				t.Errorf("event %s carries the PIN in %s=%q", e.Type, k, v)
			}
		}
	}
	var inputs []string
	for _, e := range rec.all() {
		if e.Type == EventInput {
			inputs = append(inputs, e.Data[DataInput]+"/"+e.Data[DataResult])
		}
	}
	if want := []string{"0123456/invalid", "1234567/ok", "redacted/ok"}; !slices.Equal(inputs, want) {
		t.Errorf("inputs = %v, want %v", inputs, want)
	}
	if sess.sensOn != 1 || sess.sensitive {
		t.Errorf("SetSensitive: on %d times, still on %v", sess.sensOn, sess.sensitive)
	}
	if spec := sess.collects[0]; spec.MaxDigits != 8 || spec.Terminator != "#" || spec.Timeout != 7*time.Second {
		t.Errorf("account spec = %+v", spec)
	}
	if spec := sess.collects[2]; spec.MaxDigits != 4 || spec.Terminator != "" {
		t.Errorf("pin spec = %+v", spec)
	}
	// The prompt itself may say it (the party hears their own input).
	if texts := sess.texts(); texts[len(texts)-1] != "Checking 1234567 with 4321." {
		t.Errorf("last prompt %q", texts[len(texts)-1])
	}
}

func TestCollectInvalid(t *testing.T) {
	set := mustSet(t, map[string]string{"c.yaml": collectFlow})
	synctest.Test(t, func(t *testing.T) {
		for _, inputs := range [][]string{{"12", "123456789"}, {silence, "abc"}} {
			out := set.Run(context.Background(), "c", newFake(t, inputs...), Env{})
			if out.Node != "failed" || out.Cause != call.CauseFailure {
				t.Errorf("%q: %+v", inputs, out)
			}
			if _, ok := out.Vars["account"]; ok {
				t.Errorf("%q: invalid input stored", inputs)
			}
		}
	})
}

func TestSetBranchCustomer(t *testing.T) {
	set := mustSet(t, map[string]string{"b.yaml": `
timezone: America/New_York
start: s
nodes:
  s:
    type: set
    vars:
      tier: "${customer.tier}"
      morning: {expr: 'hour() < 12'}
      shout: {expr: 'upper(customer.name)'}
    next: b
  b:
    type: branch
    cases:
      - if: customer.vip_level >= 3
        next: vip
      - if: tier in ["gold", "silver"] && morning
        next: gold
      - if: dialled == "+442079460000" && !starts_with(caller, "+1")
        next: uk
    else: other
  vip: {type: enqueue, queue: vip, priority: 'if(customer.vip_level > 4, 99, 80)'}
  gold: {type: enqueue, queue: gold}
  uk: {type: enqueue, queue: uk}
  other: {type: enqueue, queue: other}
`})
	// 14:00 UTC is 09:00 or 10:00 in New York: morning.
	clock := func() time.Time { return time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC) }
	calls := 0
	for _, tc := range []struct {
		attrs map[string]string
		err   error
		queue string
		prio  int
	}{
		{map[string]string{"vip_level": "5"}, nil, "vip", 99},
		{map[string]string{"vip_level": "3"}, nil, "vip", 80},
		{map[string]string{"vip_level": "2", "tier": "gold", "name": "ada"}, nil, "gold", 0},
		{map[string]string{"tier": "bronze"}, nil, "uk", 0},
		{nil, errors.New("crm down"), "uk", 0},
	} {
		env := Env{Now: clock, Customer: func(_ context.Context, number string) (map[string]string, error) {
			calls++
			if number != "+442071234567" {
				t.Errorf("customer lookup for %q", number)
			}
			return tc.attrs, tc.err
		}}
		before := calls
		out := set.Run(context.Background(), "b", newFake(t), env)
		if out.Queue != tc.queue || out.Priority != tc.prio {
			t.Errorf("%v: queue %q priority %d, want %q %d", tc.attrs, out.Queue, out.Priority, tc.queue, tc.prio)
		}
		if calls-before != 1 {
			t.Errorf("customer looked up %d times, want once", calls-before)
		}
		if tc.attrs["name"] == "ada" && (out.Vars["shout"] != "ADA" || out.Vars["morning"] != "true" || out.Vars["customer.tier"] != "gold") {
			t.Errorf("vars = %v", out.Vars)
		}
	}
	// A caller from +1 in the afternoon with no customer data goes to else.
	sess := newFake(t)
	sess.caller = "+12125550100"
	late := func() time.Time { return time.Date(2025, 6, 2, 20, 0, 0, 0, time.UTC) }
	if out := set.Run(context.Background(), "b", sess, Env{Now: late}); out.Queue != "other" || out.Vars["morning"] != "false" {
		t.Errorf("else: %+v", out)
	}
}

func TestHours(t *testing.T) {
	set := mustSet(t, map[string]string{"h.yaml": `
start: h
timezone: UTC
nodes:
  h:
    type: hours
    timezone: Asia/Tokyo
    schedule:
      - mon-fri 09:00-12:00, 13:00-18:00
      - sat 22:00-02:00
    holidays: [01-01, 2025-05-05]
    open: open
    closed: closed
    holiday: holiday
  open: {type: hangup, cause: normal_clearing}
  closed: {type: hangup, cause: unavailable}
  holiday: {type: hangup, cause: declined}
`, "h2.yaml": `
start: h
nodes:
  h:
    type: hours
    timezone: Europe/London
    schedule: [daily 08:00-20:00]
    holidays: [12-25]
    open: open
    closed: closed
  open: {type: hangup, cause: normal_clearing}
  closed: {type: hangup, cause: unavailable}
`})
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	london, _ := time.LoadLocation("Europe/London")
	for _, tc := range []struct {
		flow string
		at   time.Time
		want call.Cause
	}{
		{"h", time.Date(2025, 6, 2, 9, 0, 0, 0, tokyo), call.CauseNormalClearing},                            // Monday 09:00
		{"h", time.Date(2025, 6, 2, 8, 59, 0, 0, tokyo), call.CauseUnavailable},                              // before opening
		{"h", time.Date(2025, 6, 2, 12, 30, 0, 0, tokyo), call.CauseUnavailable},                             // lunch
		{"h", time.Date(2025, 6, 2, 17, 59, 0, 0, tokyo), call.CauseNormalClearing},                          // just before closing
		{"h", time.Date(2025, 6, 2, 18, 0, 0, 0, tokyo), call.CauseUnavailable},                              // closing time
		{"h", time.Date(2025, 6, 2, 0, 30, 0, 0, time.UTC), call.CauseNormalClearing},                        // 09:30 in Tokyo
		{"h", time.Date(2025, 6, 1, 23, 30, 0, 0, time.UTC), call.CauseUnavailable},                          // Mon 08:30 in Tokyo
		{"h", time.Date(2025, 6, 7, 23, 0, 0, 0, tokyo), call.CauseNormalClearing},                           // Saturday night
		{"h", time.Date(2025, 6, 8, 1, 59, 0, 0, tokyo), call.CauseNormalClearing},                           // past midnight, Sunday
		{"h", time.Date(2025, 6, 8, 2, 0, 0, 0, tokyo), call.CauseUnavailable},                               // Sunday 02:00
		{"h", time.Date(2025, 6, 8, 10, 0, 0, 0, tokyo), call.CauseUnavailable},                              // Sunday
		{"h", time.Date(2025, 5, 5, 10, 0, 0, 0, tokyo), call.CauseDeclined},                                 // dated holiday (Monday)
		{"h", time.Date(2026, 1, 1, 10, 0, 0, 0, tokyo), call.CauseDeclined},                                 // yearly holiday
		{"h", time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), call.CauseDeclined},                            // already 1 Jan in Tokyo
		{"h2", time.Date(2025, 7, 1, 7, 30, 0, 0, time.UTC), call.CauseNormalClearing},                       // 08:30 BST
		{"h2", time.Date(2025, 1, 7, 7, 30, 0, 0, time.UTC), call.CauseUnavailable},                          // 07:30 GMT
		{"h2", time.Date(2025, 12, 25, 12, 0, 0, 0, london), call.CauseUnavailable},                          // holiday without holiday: → closed
		{"h2", time.Date(2025, 12, 26, 12, 0, 0, 0, time.UTC), call.CauseNormalClearing},                     // Boxing day is a working day here
		{"h2", time.Date(2025, 3, 30, 19, 30, 0, 0, time.UTC), call.CauseUnavailable},                        // 20:30 BST on the DST change day
		{"h2", time.Date(2025, 3, 30, 18, 59, 0, 0, time.UTC), call.CauseNormalClearing},                     // 19:59 BST
		{"h2", time.Date(2025, 10, 26, 19, 59, 0, 0, time.UTC), call.CauseNormalClearing},                    // 19:59 GMT
		{"h2", time.Date(2025, 10, 26, 20, 0, 0, 0, time.UTC), call.CauseUnavailable},                        // 20:00 GMT
		{"h2", time.Date(2025, 10, 26, 0, 30, 0, 0, time.FixedZone("X", -8*3600)), call.CauseNormalClearing}, // 08:30 GMT
	} {
		var rec recorder
		out := set.Run(context.Background(), tc.flow, newFake(t), Env{Now: func() time.Time { return tc.at }, Events: rec.add})
		if out.Cause != tc.want {
			t.Errorf("%s at %s: %v, want %v", tc.flow, tc.at, out.Cause, tc.want)
		}
	}
}

func TestTransferToFlow(t *testing.T) {
	set := mustSet(t, map[string]string{
		"a.yaml": `
start: s
vars: {shared: from-a}
nodes:
  s: {type: set, vars: {picked: "yes"}, next: t}
  t: {type: transfer, flow: b}
`,
		"b.yaml": `
start: p
vars: {shared: from-b, own: b}
nodes:
  p: {type: play, prompt: "${picked} ${shared} ${own} ${flow}", next: x}
  x: {type: transfer, extension: "${ext}"}
`})
	sess := newFake(t)
	var rec recorder
	out := set.Run(context.Background(), "a", sess, Env{Events: rec.add})
	// ${ext} is empty: a transfer to nothing hangs up with failure.
	if out.Flow != "b" || out.Node != "x" || out.Kind != OutcomeHangup || out.Cause != call.CauseFailure {
		t.Errorf("outcome = %+v", out)
	}
	if got := sess.texts(); !slices.Equal(got, []string{"yes from-a b b"}) {
		t.Errorf("prompts = %q", got)
	}
	if got := rec.path(); !slices.Equal(got, []string{"s", "t", "p", "x"}) {
		t.Errorf("path = %v", got)
	}
}

func TestStepLimit(t *testing.T) {
	set := mustSet(t, map[string]string{"loop.yaml": `
start: hold
nodes:
  hold: {type: play, prompt: Please hold, next: again}
  again: {type: goto, node: hold}
`})
	out := set.Run(context.Background(), "loop", newFake(t), Env{MaxSteps: 11})
	if out.Kind != OutcomeHangup || out.Cause != call.CauseFailure || !errors.Is(out.Err, ErrStepLimit) || out.Node != "again" {
		t.Errorf("outcome = %+v", out)
	}
	sess := newFake(t)
	out = set.Run(context.Background(), "loop", sess, Env{})
	if !errors.Is(out.Err, ErrStepLimit) || len(sess.prompts) != DefaultMaxSteps/2 {
		t.Errorf("default limit: %+v after %d prompts", out, len(sess.prompts))
	}
}

func TestHangupDuringCollect(t *testing.T) {
	set := mustSet(t, map[string]string{"main.yaml": menuFlow})
	synctest.Test(t, func(t *testing.T) {
		sess := newFake(t, "9")
		sess.hangupAt = 2
		var rec recorder
		out := set.Run(context.Background(), "main", sess, Env{Events: rec.add})
		if out.Kind != OutcomeHangup || out.Cause != call.CauseNormalClearing || !errors.Is(out.Err, context.Canceled) || out.Node != "menu" {
			t.Errorf("outcome = %+v", out)
		}
		ev := rec.all()
		if last := ev[len(ev)-1]; last.Type != EventEnded || last.Data[DataNode] != "menu" {
			t.Errorf("last event = %+v", last)
		}
	})
}

func TestRunCancelled(t *testing.T) {
	set := mustSet(t, map[string]string{"main.yaml": menuFlow})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(3*time.Second, cancel)
		out := set.Run(ctx, "main", newFake(t), Env{})
		if !errors.Is(out.Err, context.Canceled) || out.Kind != OutcomeHangup {
			t.Errorf("outcome = %+v", out)
		}
	})
}

func TestNoFlow(t *testing.T) {
	var none *Set
	out := none.Run(context.Background(), "main", newFake(t), Env{})
	if !errors.Is(out.Err, ErrNoFlow) || out.Cause != call.CauseFailure || out.Kind != OutcomeHangup {
		t.Errorf("nil set: %+v", out)
	}
	set := mustSet(t, map[string]string{"main.yaml": menuFlow})
	if out := set.Run(context.Background(), "mian", newFake(t), Env{}); !errors.Is(out.Err, ErrNoFlow) {
		t.Errorf("unknown flow: %+v", out)
	}
}

func TestVoicemail(t *testing.T) {
	set := mustSet(t, map[string]string{"vm.yaml": `
start: vm
nodes:
  vm:
    type: voicemail
    box: "${box}"
    prompt: Leave a message.
    max_duration: 90s
    next: thanks
    failure: sorry
  thanks: {type: hangup}
  sorry: {type: hangup, cause: failure}
vars: {box: "1001"}
`})
	at := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	var got []Voicemail
	store := func(ctx context.Context, v Voicemail) error {
		if ctx.Err() != nil {
			t.Error("voicemail stored with an ended context")
		}
		got = append(got, v)
		return nil
	}
	sess := newFake(t)
	sess.record = Recording{Path: "vm/abc.wav", Duration: 12 * time.Second}
	out := set.Run(context.Background(), "vm", sess, Env{Now: func() time.Time { return at }, Voicemail: store})
	want := Voicemail{CallID: sess.CallID(), Caller: "+442071234567", Box: "1001", Flow: "vm", Node: "vm", Recording: sess.record, At: at}
	if out.Node != "thanks" || len(got) != 1 || got[0] != want || !slices.Equal(sess.recorded, []time.Duration{90 * time.Second}) {
		t.Errorf("outcome %+v, stored %+v, recorded %v", out, got, sess.recorded)
	}
	if texts := sess.texts(); !slices.Equal(texts, []string{"Leave a message."}) {
		t.Errorf("prompts = %q", texts)
	}

	// Recording fails, or there is no store: failure.
	sess = newFake(t)
	sess.recordErr = errors.New("disk full")
	if out := set.Run(context.Background(), "vm", sess, Env{Voicemail: store}); out.Node != "sorry" {
		t.Errorf("record error: %+v", out)
	}
	sess = newFake(t)
	sess.record = Recording{Path: "x.wav"}
	if out := set.Run(context.Background(), "vm", sess, Env{}); out.Node != "sorry" {
		t.Errorf("no store: %+v", out)
	}

	// The caller hangs up to end the message: it is still stored.
	got = nil
	sess = newFake(t)
	sess.record = Recording{Path: "vm/hungup.wav", Duration: 3 * time.Second}
	sess.recordEnd = true
	out = set.Run(context.Background(), "vm", sess, Env{Voicemail: store})
	if len(got) != 1 || got[0].Recording.Path != "vm/hungup.wav" || !errors.Is(out.Err, context.Canceled) {
		t.Errorf("hung up: %+v, stored %+v", out, got)
	}
}
