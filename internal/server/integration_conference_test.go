package server_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/server"
	"github.com/switchd/switchd/sip/siptest"
)

const toneC = 700.0 // Hz, the third phone of a conference

// TestConferenceThreeParties: three phones, each sending its own tone,
// dial a PIN-protected room; after the PIN (in-band DTMF) each hears the
// other two and not itself — the mix happens in switchd. Muted through the
// API, a phone's tone leaves the others' mix; kicked, it is hung up and
// the room lists two.
func TestConferenceThreeParties(t *testing.T) {
	t.Parallel()
	cs := startCallServer(t, func(c *server.Config) {
		c.Conferences = []server.ConferenceConfig{{Name: "team", Number: "*800", PIN: "4321"}}
	})
	cs.addExtension("1003", "secret-1003")
	tones := []float64{toneA, toneB, toneC}
	phones := []*siptest.Phone{cs.phone(ext1001, pw1001, toneA), cs.phone(ext1002, pw1002, toneB), cs.phone("1003", "secret-1003", toneC)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	calls := make([]*siptest.Call, 3)
	for i, p := range phones {
		c, err := p.Dial(ctx, "*800", siptest.DialOptions{})
		if err != nil {
			t.Fatalf("phone %d: %v", i, err)
		}
		time.Sleep(300 * time.Millisecond) // the PIN prompt starts
		if err := c.SendDTMF("4321#", 120*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		calls[i] = c
	}
	var confs struct {
		Conferences []struct {
			Name         string `json:"name"`
			Participants []struct {
				CallID string `json:"call_id"`
				Caller string `json:"caller"`
			} `json:"participants"`
		} `json:"conferences"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		cs.api("GET", "/api/v1/conferences", nil, &confs)
		if len(confs.Conferences) == 1 && len(confs.Conferences[0].Participants) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("room after the PINs: %+v", confs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // prompts over, the mix flows
	hears := func(i int, want map[float64]bool) {
		t.Helper()
		lv, err := calls[i].ToneLevels(ctx, time.Second, tones...)
		if err != nil {
			t.Fatal(err)
		}
		for j, f := range tones {
			if want[f] && lv[j] < siptest.ToneDetected/2 || !want[f] && lv[j] > siptest.ToneAbsent {
				t.Fatalf("phone %d hears %v Hz at %.2f (levels %v for %v), want heard=%v", i, f, lv[j], lv, tones, want[f])
			}
		}
	}
	for i := range calls {
		want := map[float64]bool{}
		for j, f := range tones {
			want[f] = i != j
		}
		hears(i, want)
	}
	callOf := map[string]string{}
	for _, p := range confs.Conferences[0].Participants {
		callOf[p.Caller] = p.CallID
	}
	path := fmt.Sprintf("/api/v1/conferences/team/participants/%s/", callOf["1003"])
	if code := cs.api("POST", path+"mute", map[string]bool{"muted": true}, nil); code/100 != 2 {
		t.Fatalf("mute: %d", code)
	}
	time.Sleep(200 * time.Millisecond)
	hears(0, map[float64]bool{toneB: true})
	if code := cs.api("POST", path+"kick", nil, nil); code/100 != 2 {
		t.Fatalf("kick: %d", code)
	}
	select {
	case <-calls[2].Done():
		if !calls[2].EndedByPeer() {
			t.Fatal("the kicked phone's call ended, but not by switchd")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the kicked phone is still in the call")
	}
	hears(1, map[float64]bool{toneA: true})

	// The room lists the two left. The kicked phone calls back: a wrong
	// PIN (SIP INFO digits, each answered when switchd has it) does not
	// let it in; the right one, typed ahead, does, and it is heard again.
	room := func() []string {
		t.Helper()
		var now struct {
			Conferences []struct {
				Participants []struct {
					Caller string `json:"caller"`
				} `json:"participants"`
			} `json:"conferences"`
		}
		if code := cs.api("GET", "/api/v1/conferences", nil, &now); code != 200 || len(now.Conferences) != 1 {
			t.Fatalf("GET /api/v1/conferences: %d %+v, want 200 and the one room", code, now)
		}
		var who []string
		for _, p := range now.Conferences[0].Participants {
			who = append(who, p.Caller)
		}
		return who
	}
	if who := room(); len(who) != 2 || slices.Contains(who, "1003") {
		t.Fatalf("room after the kick: %v, want 1001 and 1002", who)
	}
	back, err := phones[2].Dial(ctx, "*800", siptest.DialOptions{})
	if err != nil {
		t.Fatalf("1003 calls back: %v", err)
	}
	keys := func(digits string) {
		t.Helper()
		for _, d := range digits {
			body := fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", d)
			if code, err := back.SendInfo(ctx, "application/dtmf-relay", []byte(body)); err != nil || code != 200 {
				t.Fatalf("INFO %c: %d %v", d, code, err)
			}
		}
	}
	keys("9999#")
	for until := time.Now().Add(time.Second); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		if who := room(); len(who) != 2 {
			t.Fatalf("room after a wrong PIN: %v, want 1003 kept out", who)
		}
	}
	keys("4321#")
	for until := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if who := room(); len(who) == 3 && slices.Contains(who, "1003") {
			break
		}
		if time.Now().After(until) {
			t.Fatalf("room after the right PIN: %v, want 1003 back", room())
		}
	}
	calls[2] = back
	time.Sleep(500 * time.Millisecond) // the "not correct" prompt is over, the mix flows
	hears(0, map[float64]bool{toneB: true, toneC: true})
	hears(2, map[float64]bool{toneA: true, toneB: true})
}
