package call

import (
	"encoding"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

type textEnum interface {
	String() string
	encoding.TextMarshaler
}

// checkEnum round-trips every value 0..n-1 of an enumeration through its
// text form, and checks names are unique snake_case with "unknown" at 0.
func checkEnum[T ~uint8, P interface {
	*T
	encoding.TextUnmarshaler
}](t *testing.T, kind string, n int, want map[T]string) {
	t.Helper()
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	seen := map[string]bool{}
	for i := range n {
		v := T(i)
		e := any(v).(textEnum)
		name := e.String()
		if !snake.MatchString(name) || seen[name] {
			t.Errorf("%s %d: name %q is not unique snake_case", kind, i, name)
		}
		seen[name] = true
		if i == 0 && name != "unknown" {
			t.Errorf("%s zero value is %q, want unknown", kind, name)
		}
		if w, ok := want[v]; ok && w != name {
			t.Errorf("%s %d = %q, want %q", kind, i, name, w)
		}
		b, err := e.MarshalText()
		if err != nil || string(b) != name {
			t.Errorf("%s %d: MarshalText = %q, %v", kind, i, b, err)
		}
		var back T
		if err := P(&back).UnmarshalText(b); err != nil || back != v {
			t.Errorf("%s %q: UnmarshalText = %v, %v", kind, b, back, err)
		}
	}
	out := any(T(n)).(textEnum)
	if _, err := out.MarshalText(); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("%s %d (out of range): MarshalText err = %v", kind, n, err)
	}
	if !strings.HasPrefix(out.String(), kind+"(") {
		t.Errorf("%s out of range String = %q", kind, out.String())
	}
	var v T = 1
	if err := P(&v).UnmarshalText([]byte("no_such_value")); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("%s: unknown name accepted: %v", kind, err)
	}
	if err := P(&v).UnmarshalText(nil); err != nil || v != 0 {
		t.Errorf("%s: empty text = %v, %v; want the zero value", kind, v, err)
	}
}

func TestEnumsText(t *testing.T) {
	checkEnum[Medium](t, "medium", len(mediumNames), map[Medium]string{MediumVoice: "voice", MediumChat: "chat"})
	checkEnum[Direction](t, "direction", len(directionNames), map[Direction]string{
		DirectionInbound: "inbound", DirectionOutbound: "outbound", DirectionInternal: "internal"})
	checkEnum[Side](t, "side", len(sideNames), map[Side]string{SideCaller: "caller", SideCallee: "callee", SideSwitch: "switch"})
	checkEnum[State](t, "state", len(stateNames), map[State]string{StateEarlyMedia: "early_media", StateEnded: "ended"})
	checkEnum[Cause](t, "cause", len(causeNames), map[Cause]string{
		CauseNormalClearing: "normal_clearing", CauseSwitchRestart: "switch_restart",
		CauseOriginatorCancel: "originator_cancel", CauseNotAcceptable: "not_acceptable", CauseFailure: "failure", CauseTransferred: "transferred"})
	if len(causeNames) != int(CauseTransferred)+1 || len(stateNames) != int(StateEnded)+1 {
		t.Error("name tables out of step with the constants")
	}
	if c, err := ParseCause("busy"); err != nil || c != CauseBusy {
		t.Errorf("ParseCause(busy) = %v, %v", c, err)
	}
}

func TestEventJSON(t *testing.T) {
	e := Event{
		Seq: 7, Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Type: EventCallEnded,
		CallID: "0190f0e8-0000-7000-8000-000000000000", Medium: MediumVoice, Direction: DirectionInbound,
		State: StateEnded, Cause: CauseBusy, HangupSide: SideCallee, Caller: Party{Number: "+4420", Name: "A"},
		Data: map[string]string{DataCodecA: "PCMU"},
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":7,"time":"2025-01-02T03:04:05Z","type":"call_ended","call_id":"0190f0e8-0000-7000-8000-000000000000",` +
		`"medium":"voice","direction":"inbound","state":"ended","cause":"busy","hangup_side":"callee",` +
		`"caller":{"number":"+4420","name":"A"},"data":{"codec_a":"PCMU"}}`
	if string(b) != want {
		t.Fatalf("JSON\n got %s\nwant %s", b, want)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || back.Cause != CauseBusy || back.HangupSide != SideCallee || back.Callee != (Party{}) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	// Zero-valued enums are left out rather than written as "unknown".
	b, _ = json.Marshal(Event{Seq: 1, Type: "queue_joined"})
	if strings.Contains(string(b), "unknown") || strings.Contains(string(b), "caller") {
		t.Fatalf("zero fields written: %s", b)
	}
}
