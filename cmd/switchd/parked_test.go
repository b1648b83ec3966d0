package main

import (
	"strings"
	"testing"
)

// TestLiveParked runs a switch and lists its park lot as an admin would:
// nothing parked is the header alone (and [] with --json).
func TestLiveParked(t *testing.T) {
	cfg, _ := startLive(t, "")
	out, _, err := runCLI(t, "parked", "-c", cfg)
	if err != nil || strings.Join(strings.Fields(strings.TrimSpace(out)), " ") != "SLOT CALL CALLER PARKED BY SINCE" {
		t.Fatalf("parked: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "parked", "--json", "-c", cfg)
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("parked --json: %v\n%s, want []", err, out)
	}
}
