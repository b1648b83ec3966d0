//go:build !flite

package tts

import (
	"errors"
	"strings"
	"testing"
)

// TestFliteNotBuilt: without -tags flite there is no flite, by design,
// and the Router speaks English with espeak-ng.
func TestFliteNotBuilt(t *testing.T) {
	s, err := NewFlite()
	if s != nil || !errors.Is(err, ErrEngineUnavailable) || !strings.Contains(err.Error(), "-tags flite") {
		t.Fatalf("NewFlite() = %v, %v; want ErrEngineUnavailable naming the build tag", s, err)
	}
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Engines(), ","); got != EspeakName {
		t.Errorf("default engines %s, want espeak-ng only", got)
	}
}
