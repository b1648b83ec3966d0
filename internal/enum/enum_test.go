package enum

import (
	"errors"
	"testing"
)

type color uint8

var names = []string{"unknown", "red", "green"}

var errBad = errors.New("bad value")

func TestRoundTrip(t *testing.T) {
	for v := color(0); v < 3; v++ {
		b, err := Marshal(v, "color", names, errBad)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse[color](string(b), "color", names, errBad)
		if err != nil || got != v || String(v, "color", names) != names[v] {
			t.Fatalf("%d: %q %d %v", v, b, got, err)
		}
	}
	if got, err := Parse[color]("", "color", names, errBad); err != nil || got != 0 {
		t.Fatalf("empty: %d %v", got, err)
	}
	if _, err := Parse[color]("blue", "color", names, errBad); !errors.Is(err, errBad) {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := Marshal(color(7), "color", names, errBad); !errors.Is(err, errBad) {
		t.Fatalf("out of range: %v", err)
	}
	if s := String(color(7), "color", names); s != "color(7)" {
		t.Fatalf("String out of range: %q", s)
	}
}
