package server

import "github.com/switchd/switchd/media"

// MediaStatsForTest returns the media engine's resource counts (sessions,
// RTP/RTCP ports in use) for the call integration tests.
func (s *Server) MediaStatsForTest() media.EngineStats { return s.media.Stats() }

// ActiveCallsForTest returns the number of calls the B2BUA has in progress.
func (s *Server) ActiveCallsForTest() int { return s.sip.ActiveCalls() }
