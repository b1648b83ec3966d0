package media

import "errors"

// Sentinel errors of the media package; callers test them with errors.Is.
var (
	// ErrNoPorts means every RTP/RTCP port pair of media.rtp_ports is in
	// use (by switchd or by another process).
	ErrNoPorts = errors.New("media: no free RTP port pair")
	// ErrClosed is returned by operations on a closed Engine or Session.
	ErrClosed = errors.New("media: closed")
	// ErrBusy means a session is already read by another relay (a session
	// has at most one reader at a time).
	ErrBusy = errors.New("media: session already has a reader")
	// ErrRunning means Engine.Run or Relay.Start was called a second time.
	ErrRunning = errors.New("media: already running")
	// ErrCodec means a relay was asked for a payload mapping it cannot do
	// (a transcoding other than PCMU↔PCMA, or clock rates that differ).
	ErrCodec = errors.New("media: unsupported payload mapping")
	// ErrNoCommonCodec means two legs' negotiated codecs share no audio
	// codec and none can be transcoded into the other.
	ErrNoCommonCodec = errors.New("media: no common or transcodable codec")
)

// errNoRemote means a packet could not be sent because the session has
// neither a latched nor a signalled remote address yet; relays count it.
var errNoRemote = errors.New("media: remote address not known")
