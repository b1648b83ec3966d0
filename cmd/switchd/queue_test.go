package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchd/switchd/web"
)

func TestQueueList(t *testing.T) {
	cfg, _ := acdFixture(t)
	out, _, err := runCLI(t, "queue", "list", "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[0], "QUEUE") {
		t.Fatalf("queue list: %v\n%s", err, out)
	}
	if f := strings.Fields(lines[1]); strings.Join(f, " ") != "sales 3 1m35.5s 4 3 1 40s" {
		t.Errorf("sales: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "old" || f[1] != "(retired)" || f[len(f)-1] != "-" {
		t.Errorf("retired queue without estimate: %q", lines[2])
	}
	out, _, err = runCLI(t, "queue", "list", "--json", "-c", cfg)
	var qs []web.QueueStatus
	if err != nil || json.Unmarshal([]byte(out), &qs) != nil || len(qs) != 2 || *qs[0].EstimatedWaitS != 40 || qs[1].EstimatedWaitS != nil {
		t.Fatalf("queue list --json: %v\n%s", err, out)
	}
}

func TestQueueStats(t *testing.T) {
	cfg, f := acdFixture(t)
	out, _, err := runCLI(t, "queue", "stats", "--since", "1h", "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 4 || !strings.HasPrefix(lines[0], "since ") || !strings.HasPrefix(lines[1], "QUEUE") {
		t.Fatalf("queue stats: %v\n%s", err, out)
	}
	if ago := time.Since(f.since); ago < time.Hour-time.Minute || ago > time.Hour+time.Minute {
		t.Errorf("--since 1h asked for stats since %v", f.since)
	}
	if f := strings.Fields(lines[2]); strings.Join(f, " ") != "sales 10 7 2 1 75.0% 12.3s 3m20s 12.5% 1 20s" {
		t.Errorf("sales: %q", lines[2])
	}
	if f := strings.Fields(lines[3]); f[5] != "-" || f[8] != "-" {
		t.Errorf("a queue without answered or abandoned contacts has no service level: %q", lines[3])
	}
	out, _, err = runCLI(t, "queue", "stats", "--json", "-c", cfg)
	var rep web.QueueStatsReport
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Queues) != 2 || *rep.Queues[0].ServiceLevel != 0.75 {
		t.Fatalf("queue stats --json: %v\n%s", err, out)
	}
	if y, m, d := time.Now().UTC().Date(); !rep.Since.Equal(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) && time.Now().UTC().Hour() != 0 {
		t.Errorf("default since %v, want midnight UTC", rep.Since)
	}
	if _, _, err := runCLI(t, "queue", "stats", "--since", "last week", "-c", cfg); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("bad --since: %v", err)
	}
}

func TestQueueMoveAndPriority(t *testing.T) {
	cfg, f := acdFixture(t)
	out, _, err := runCLI(t, "queue", "move", "c2", "billing", "-c", cfg)
	if err != nil || !strings.Contains(out, "call c2 moved to queue billing") {
		t.Fatalf("queue move: %v %q", err, out)
	}
	out, _, err = runCLI(t, "-c", cfg, "queue", "priority", "c2", "--", "-5")
	if err != nil || !strings.Contains(out, "priority -5") {
		t.Fatalf("queue priority: %v %q", err, out)
	}
	if got := f.took(); strings.Join(got, "|") != "move c2 billing|priority c2 -5" {
		t.Fatalf("the switch was asked %q", got)
	}
	if _, _, err := runCLI(t, "queue", "move", "c2", "nowhere", "-c", cfg); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("move to an unknown queue: %v", err)
	}
	if _, _, err := runCLI(t, "queue", "priority", "c2", "high", "-c", cfg); err == nil || !strings.Contains(err.Error(), "whole number") {
		t.Errorf("priority high: %v", err)
	}
	if _, _, err := runCLI(t, "queue", "move", "c2", "sales", "--token", "alice-token", "-c", cfg); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("an agent moved a call: %v", err)
	}
	if got := f.took(); len(got) != 0 {
		t.Errorf("failed commands changed %q", got)
	}
}

func TestQueueTrace(t *testing.T) {
	cfg, f := acdFixture(t)
	out, _, err := runCLI(t, "queue", "trace", "c1", "-c", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") || f.query.CallID != "c1" {
		t.Fatalf("queue trace: %v %+v\n%s", err, f.query, out)
	}
	for i, want := range []string{"queue_joined", "queue_offered", "queue_answered"} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("line %d %q, want %s", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[1], "priority 5 from the IVR") ||
		!strings.Contains(lines[2], "alice") || !strings.Contains(lines[2], "longest idle of 2 eligible agents") {
		t.Errorf("the trace does not say why:\n%s", out)
	}
	if _, _, err := runCLI(t, "queue", "trace", "c9", "-c", cfg); err == nil || !strings.Contains(err.Error(), "no queue events") {
		t.Errorf("trace of an unknown call: %v", err)
	}
	out, _, err = runCLI(t, "queue", "trace", "c9", "--json", "-c", cfg)
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("trace --json of an unknown call: %v %q", err, out)
	}
}
