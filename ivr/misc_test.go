package ivr

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/switchd/switchd/call"
)

func TestEnums(t *testing.T) {
	for _, tc := range []struct {
		v    interface{ MarshalText() ([]byte, error) }
		name string
	}{
		{OutcomeTransfer, "transfer"}, {TargetExternal, "external"}, {NodeVoicemail, "voicemail"}, {OutcomeUnknown, "unknown"},
	} {
		b, err := tc.v.MarshalText()
		if err != nil || string(b) != tc.name {
			t.Errorf("%v: %q %v", tc.v, b, err)
		}
	}
	var k OutcomeKind
	var tk TargetKind
	var nk NodeKind
	if k.UnmarshalText([]byte("enqueue")) != nil || k != OutcomeEnqueue ||
		tk.UnmarshalText([]byte("extension")) != nil || tk != TargetExtension ||
		nk.UnmarshalText([]byte("goto")) != nil || nk != NodeGoto {
		t.Error("UnmarshalText")
	}
	if err := k.UnmarshalText([]byte("bridge")); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := OutcomeKind(9).MarshalText(); !errors.Is(err, ErrInvalidValue) || OutcomeKind(9).String() != "outcome kind(9)" {
		t.Error("out of range")
	}
}

func TestFlowAccessors(t *testing.T) {
	set := mustSet(t, map[string]string{"main.yaml": menuFlow, "x.yaml": "name: other\ndescription: D\nstart: a\nnodes:\n  a: {type: hangup}\n"})
	if !slices.Equal(set.Names(), []string{"main", "other"}) {
		t.Errorf("names %v", set.Names())
	}
	f, ok := set.Flow("main")
	if !ok || f.Name() != "main" || f.Language() != "en-GB" || f.Start() != "welcome" || !slices.Contains(f.Nodes(), "quiet") {
		t.Errorf("flow %v", f)
	}
	if k, ok := f.NodeKind("menu"); !ok || k != NodeMenu {
		t.Errorf("kind %v", k)
	}
	if _, ok := f.NodeKind("nope"); ok {
		t.Error("unknown node has a kind")
	}
	o, _ := set.Flow("other")
	if o.Description() != "D" || o.File() == "" || o.String() == "" {
		t.Errorf("other: %q %q", o.Description(), o.File())
	}
	var none *Set
	if _, ok := none.Flow("main"); ok || none.Names() != nil || none.Version() != "" {
		t.Error("nil set")
	}
}

// failingSession fails prompts and collects with errors other than the
// context's: the run logs them and goes on.
type failingSession struct{ *fakeSession }

func (f failingSession) Prompt(context.Context, call.Prompt) error { return errors.New("no such file") }
func (f failingSession) Collect(context.Context, call.CollectSpec) (string, error) {
	return "", errors.New("media gone")
}

func TestPromptAndCollectErrors(t *testing.T) {
	set := mustSet(t, map[string]string{"main.yaml": menuFlow})
	out := set.Run(context.Background(), "main", failingSession{newFake(t)}, Env{})
	if out.Node != "quiet" || out.Err != nil {
		t.Errorf("outcome = %+v", out)
	}
}

func TestTemplate(t *testing.T) {
	tp, err := parseTemplate("a $$ ${ x } ${customer.vip}$")
	if err != nil {
		t.Fatal(err)
	}
	got := tp.expand(func(n string) string { return "<" + n + ">" }, nil)
	if got != "a $ <x> <customer.vip>$" || !slices.Equal(tp.vars(), []string{"x", "customer.vip"}) {
		t.Errorf("expand = %q, vars %v", got, tp.vars())
	}
	for _, bad := range []string{"${", "${a b}", "${customer.}", "${1x}"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if urlEscape("+44 1/2&x") != "%2B44%201%2F2%26x" || jsonEscape(`a"b\`) != `a\"b\\` || headerEscape("a\r\nb") != "ab" {
		t.Error("escapes")
	}
}
