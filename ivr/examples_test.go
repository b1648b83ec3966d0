package ivr

import (
	"testing"
)

// TestExamplesValidate loads configs/ivr/, the annotated examples: they
// must have no problem at all, warnings included.
func TestExamplesValidate(t *testing.T) {
	names, problems := Validate("../configs/ivr", Checker{})
	for _, p := range problems {
		t.Error(p.Error())
	}
	if len(names) != 4 {
		t.Errorf("Validate read flows %v, want 4", names)
	}
	lib, _, err := NewLibrary("../configs/ivr", Checker{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"business-hours", "main-menu", "order-status", "vip-routing"}
	if got := lib.Current().Names(); !equalStrings(got, want) {
		t.Errorf("flows = %v, want %v", got, want)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
