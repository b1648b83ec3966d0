package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	callpkg "github.com/switchd/switchd/call"
)

func newEventsServer(t *testing.T, bus *callpkg.Bus, maxLag int) *httptest.Server {
	t.Helper()
	d := Deps{
		Tokens: fakeTokens{"good": {Name: "admin", Role: "admin"}},
		Live:   &fakeLive{}, Extensions: fakeExts{}, Gatherer: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler), EventMaxLag: maxLag,
	}
	if bus != nil {
		d.Events = bus
	}
	srv := httptest.NewServer(NewHandler(Config{}, d))
	t.Cleanup(srv.Close)
	return srv
}

func wsURL(srv *httptest.Server, query string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/events" + query
}

// dial connects with the token in the Authorization header.
func dial(t *testing.T, srv *httptest.Server, query string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, wsURL(srv, query), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer good"}},
	})
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", query, err, res)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// message is an event or a gap message.
type message struct {
	callpkg.Event
	Error      string  `json:"error"`
	ResumeFrom *uint64 `json:"resume_from"`
}

func read(t *testing.T, c *websocket.Conn) message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m message
	if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil {
		t.Fatalf("message %v %q is not JSON text", typ, b)
	}
	return m
}

func expectEvents(t *testing.T, c *websocket.Conn, from, to uint64) {
	t.Helper()
	for want := from; want <= to; want++ {
		if m := read(t, c); m.Seq != want || m.Error != "" {
			t.Fatalf("got %+v, want event %d", m, want)
		}
	}
}

// expectClose reads until the server closes and returns its status.
func expectClose(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err == nil {
		t.Fatalf("message %q instead of a close", b)
	}
	return websocket.CloseStatus(err)
}

func publish(bus *callpkg.Bus, n int, data map[string]string) {
	for range n {
		bus.Publish(callpkg.Event{Type: callpkg.EventCallMedia, CallID: "0190f0e8-0000-7000-8000-000000000001", Data: data})
	}
}

func TestEventsAuthentication(t *testing.T) {
	srv := newEventsServer(t, callpkg.NewBus(), 0)
	for _, c := range []struct {
		name, query string
		header      http.Header
		want        int
	}{
		{"no token", "", nil, http.StatusUnauthorized},
		{"wrong header token", "", http.Header{"Authorization": {"Bearer bad"}}, http.StatusUnauthorized},
		{"wrong query token", "?token=bad", nil, http.StatusUnauthorized},
		{"query token", "?token=good", nil, http.StatusSwitchingProtocols},
		{"header token", "", http.Header{"Authorization": {"Bearer good"}}, http.StatusSwitchingProtocols},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		conn, res, err := websocket.Dial(ctx, wsURL(srv, c.query), &websocket.DialOptions{HTTPHeader: c.header})
		cancel()
		if res == nil || res.StatusCode != c.want {
			t.Errorf("%s: response %v, err %v; want %d", c.name, res, err, c.want)
		}
		if conn != nil {
			conn.Close(websocket.StatusNormalClosure, "")
		}
	}
}

func TestEventsNeedWebSocketAndSource(t *testing.T) {
	srv := newEventsServer(t, callpkg.NewBus(), 0)
	if code, body := call(t, srv, "GET", "/api/v1/events", "good", ""); code != http.StatusUpgradeRequired || body["error"] == nil {
		t.Errorf("plain GET: %d %v", code, body)
	}
	if code, _ := call(t, srv, "GET", "/api/v1/events?from=x", "good", ""); code != http.StatusBadRequest {
		t.Errorf("bad from: %d", code)
	}
	none := newEventsServer(t, nil, 0)
	if code, body := call(t, none, "GET", "/api/v1/events", "good", ""); code != http.StatusServiceUnavailable || body["error"] == nil {
		t.Errorf("no event source: %d %v", code, body)
	}
}

func TestEventsResumeFromSeq(t *testing.T) {
	bus := callpkg.NewBus()
	srv := newEventsServer(t, bus, 0)
	publish(bus, 5, nil)

	c := dial(t, srv, "?from=2")
	m := read(t, c)
	if m.Seq != 3 || m.Type != callpkg.EventCallMedia || m.CallID == "" || m.Time.IsZero() {
		t.Fatalf("first message %+v", m)
	}
	expectEvents(t, c, 4, 5)
	publish(bus, 1, nil)
	expectEvents(t, c, 6, 6)

	// Without from, only new events. The handler reads LastSeq before it
	// answers the upgrade, so whatever is published after Dial returns is new.
	live := dial(t, srv, "")
	publish(bus, 1, nil)
	expectEvents(t, live, 7, 7)
	expectEvents(t, c, 7, 7)
}

func TestEventsGapWhenHistoryIsGone(t *testing.T) {
	bus := callpkg.NewBus(callpkg.WithHistory(4))
	srv := newEventsServer(t, bus, 0)
	publish(bus, 10, nil) // 7..10 kept
	c := dial(t, srv, "?from=1")
	m := read(t, c)
	if m.Error != "gap" || m.ResumeFrom == nil || *m.ResumeFrom != 6 {
		t.Fatalf("got %+v, want a gap resuming from 6", m)
	}
	if st := expectClose(t, c); st != websocket.StatusTryAgainLater {
		t.Fatalf("close status %v", st)
	}
	again := dial(t, srv, "?from=6")
	expectEvents(t, again, 7, 10)
}

// smallBuffers shrinks the kernel socket buffers of accepted connections,
// so a client that stops reading blocks the server's writes quickly.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// TestEventsGapOnSlowClient: a client that stops reading while the switch
// is busy is cut off with a gap instead of holding the publisher or
// memory, and resuming from the last event it saw loses nothing.
func TestEventsGapOnSlowClient(t *testing.T) {
	bus := callpkg.NewBus(callpkg.WithHistory(1000))
	srv := httptest.NewUnstartedServer(NewHandler(Config{}, Deps{
		Tokens: fakeTokens{"good": {Name: "sup", Role: RoleSupervisor}}, Gatherer: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler), Events: bus, EventMaxLag: 4,
	}))
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	slowClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(8 << 10)
		}
		return c, err
	}}}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(srv, "?from=0"), &websocket.DialOptions{
		HTTPClient: slowClient, HTTPHeader: http.Header{"Authorization": {"Bearer good"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)

	// Keeping up: no gap.
	for i := range uint64(10) {
		publish(bus, 1, nil)
		expectEvents(t, c, i+1, i+1)
	}
	// Then the client stops reading during a burst of 400 events of 8 KiB:
	// far more than the socket buffers hold, so the handler blocks and
	// falls more than 4 events behind.
	const total = 410
	publish(bus, total-10, map[string]string{"pad": strings.Repeat("x", 8<<10)})

	last := uint64(10)
	for {
		m := read(t, c)
		if m.Error == "gap" {
			if m.ResumeFrom == nil || *m.ResumeFrom != last {
				t.Fatalf("gap resumes from %v; the last event received was %d", m.ResumeFrom, last)
			}
			break
		}
		if m.Seq != last+1 {
			t.Fatalf("event %d after %d", m.Seq, last)
		}
		last = m.Seq
	}
	if last == total {
		t.Fatal("no gap: the slow client got everything")
	}
	if st := expectClose(t, c); st != websocket.StatusTryAgainLater {
		t.Fatalf("close status %v", st)
	}
	t.Logf("gap after event %d", last)
	again := dial(t, srv, "?from="+strconv.FormatUint(last, 10))
	expectEvents(t, again, last+1, total)
}

func TestEventsEndWhenBusCloses(t *testing.T) {
	bus := callpkg.NewBus()
	srv := newEventsServer(t, bus, 0)
	c := dial(t, srv, "?from=0")
	publish(bus, 1, nil)
	expectEvents(t, c, 1, 1) // subscribed
	publish(bus, 2, nil)
	bus.Close()
	expectEvents(t, c, 2, 3) // what was published before Close is delivered
	if st := expectClose(t, c); st != websocket.StatusGoingAway {
		t.Fatalf("close status %v", st)
	}
}

// TestEventsHandlersDoNotLeak: once clients leave, their handlers and
// subscriptions are gone.
func TestEventsHandlersDoNotLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	bus := callpkg.NewBus()
	srv := newEventsServer(t, bus, 0)
	for range 10 {
		c := dial(t, srv, "?from=0")
		publish(bus, 1, nil)
		read(t, c)
		c.Close(websocket.StatusNormalClosure, "bye")
	}
	srv.Close()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
	if e := bus.Publish(callpkg.Event{Type: "x"}); e.Seq == 0 {
		t.Fatal("bus closed by a handler")
	}
}
