package mixer_test

import (
	"github.com/switchd/switchd/media"
	"github.com/switchd/switchd/media/mixer"
)

// A participant's output is what its leg's Endpoint sends.
var _ media.FrameSource = (*mixer.Participant)(nil)
