package media

// Metrics receives the engine's session events, so the caller can keep
// counters (Prometheus collectors are built and registered by the wiring
// package; media holds no global registry). Live gauges come from
// Engine.Stats and Session.Stats. Methods are called from many goroutines
// and must be cheap and must not block; none is called per packet.
type Metrics interface {
	// SessionOpened is called when NewSession succeeds.
	SessionOpened()
	// SessionClosed is called once per session with its final counters.
	SessionClosed(SessionStats)
	// RTPTimeout is called when a session's RTP timeout fires.
	RTPTimeout()
}

// nopMetrics is the default Metrics: it records nothing.
type nopMetrics struct{}

var _ Metrics = nopMetrics{}

func (nopMetrics) SessionOpened()             {}
func (nopMetrics) SessionClosed(SessionStats) {}
func (nopMetrics) RTPTimeout()                {}
