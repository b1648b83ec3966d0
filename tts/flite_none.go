//go:build !flite

package tts

import "fmt"

// FliteName is the Name of the flite engine.
const FliteName = "flite"

// NewFlite reports ErrEngineUnavailable: this binary was built without
// -tags flite, the documented build without cgo speech (no libflite
// needed). The Router then speaks English with espeak-ng.
func NewFlite() (Synthesizer, error) {
	return nil, fmt.Errorf("%w: flite: built without -tags flite", ErrEngineUnavailable)
}
