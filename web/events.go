package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	// Named callpkg: the package's tests declare a function call.
	callpkg "github.com/switchd/switchd/call"
)

// EventSource is the call event bus as the API needs it; *call.Bus is one.
type EventSource interface {
	Subscribe(from uint64, opts ...callpkg.SubscribeOption) (*callpkg.Subscription, error)
	LastSeq() uint64
}

var _ EventSource = (*callpkg.Bus)(nil)

const (
	// DefaultEventMaxLag is how many events a WebSocket client may fall
	// behind before its stream ends with a gap (Deps.EventMaxLag).
	DefaultEventMaxLag = 1024
	eventWriteTimeout  = 10 * time.Second
	eventPingInterval  = 30 * time.Second
)

// GapMessage is the last message of an event stream that cannot continue
// without a gap: the client reconnects with ?from=ResumeFrom. When
// ResumeFrom is more than the last seq the client saw, the events in
// between are no longer kept and are lost to it.
type GapMessage struct {
	Error      string `json:"error"` // always "gap"
	ResumeFrom uint64 `json:"resume_from"`
}

// events streams call events over a WebSocket (RFC 6455), one JSON
// call.Event per text message, starting after ?from=SEQ (default: only
// new events). A stream that falls behind, or asks for events no longer
// kept, gets a GapMessage and is closed with status 1013 (try again
// later); when the switch stops, the stream is closed with 1001.
func (a *api) events(w http.ResponseWriter, r *http.Request) {
	if a.d.Events == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("call events are not available"))
		return
	}
	from := a.d.Events.LastSeq()
	if s := r.URL.Query().Get("from"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("from: %q is not a sequence number", s))
			return
		}
		from = n
	}
	if !strings.Contains(strings.ToLower(r.Header.Get("Upgrade")), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		writeError(w, http.StatusUpgradeRequired, errors.New("GET /api/v1/events is a WebSocket: connect with Upgrade: websocket"))
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		a.d.Logger.Debug("events_upgrade_failed", "error", err)
		return
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context()) // answers pings and close frames; ends when the client goes
	lag := a.d.EventMaxLag
	if lag <= 0 {
		lag = DefaultEventMaxLag
	}
	log := a.d.Logger.With("from", from, "remote", r.RemoteAddr)
	sub, err := a.d.Events.Subscribe(from, callpkg.MaxLag(lag))
	if err != nil {
		a.endEvents(ctx, c, err)
		return
	}
	defer sub.Close()
	log.Debug("events_stream_started")
	ping := time.NewTicker(eventPingInterval)
	defer ping.Stop()
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				a.endEvents(ctx, c, sub.Err())
				return
			}
			if err := writeWS(ctx, c, ev); err != nil {
				log.Debug("events_stream_write_failed", "seq", ev.Seq, "error", err)
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, eventWriteTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				log.Debug("events_stream_ping_failed", "error", err)
				return
			}
		case <-ctx.Done():
			log.Debug("events_stream_client_gone")
			return
		}
	}
}

// endEvents closes a stream for the reason its subscription gave.
func (a *api) endEvents(ctx context.Context, c *websocket.Conn, err error) {
	var gap *callpkg.GapError
	switch {
	case errors.As(err, &gap):
		a.d.Logger.Debug("events_stream_gap", "last_seq", gap.From, "resume_from", gap.Resume)
		if writeWS(ctx, c, GapMessage{Error: "gap", ResumeFrom: gap.Resume}) == nil {
			c.Close(websocket.StatusTryAgainLater, "gap")
		}
	case errors.Is(err, callpkg.ErrBusClosed):
		c.Close(websocket.StatusGoingAway, "switch stopping")
	case err == nil:
		c.Close(websocket.StatusNormalClosure, "")
	default:
		a.d.Logger.Error("events_stream_failed", "error", err)
		c.Close(websocket.StatusInternalError, "")
	}
}

func writeWS(ctx context.Context, c *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, eventWriteTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}

// authQueryToken is auth that also takes the token from ?token=, for
// browsers, which cannot set headers on a WebSocket. Only the events stream
// uses it: tokens in URLs end up in logs and histories.
func (a *api) authQueryToken(next http.Handler) http.Handler {
	inner := a.require(RoleSupervisor, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("token"); tok != "" && r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		inner.ServeHTTP(w, r)
	})
}
