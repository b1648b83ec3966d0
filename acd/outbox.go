package acd

import (
	"context"
	"log/slog"
	"sync"
)

// outbox hands the engine's effects to the Connector and Publisher from its
// own goroutine, in order, so that the engine's goroutine never waits on
// the wiring and the wiring may call the engine back from inside Offer. It
// is a small mutex-guarded queue with no I/O under the lock.
type outbox struct {
	conn Connector
	pub  Publisher
	log  *slog.Logger

	mu     sync.Mutex
	queue  []effect
	closed bool
	wake   chan struct{}
}

func newOutbox(conn Connector, pub Publisher, log *slog.Logger) *outbox {
	return &outbox{conn: conn, pub: pub, log: log, wake: make(chan struct{}, 1)}
}

func (b *outbox) push(effects []effect) {
	if len(effects) == 0 {
		return
	}
	b.mu.Lock()
	b.queue = append(b.queue, effects...)
	b.mu.Unlock()
	b.signal()
}

func (b *outbox) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// close makes run return once the queue is drained.
func (b *outbox) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

func (b *outbox) run(ctx context.Context) {
	for {
		b.mu.Lock()
		batch, closed := b.queue, b.closed
		b.queue = nil
		b.mu.Unlock()
		for _, ef := range batch {
			b.deliver(ctx, ef)
		}
		if len(batch) == 0 {
			if closed {
				return
			}
			<-b.wake
		}
	}
}

func (b *outbox) deliver(ctx context.Context, ef effect) {
	switch ef.kind {
	case effectEvent:
		if b.pub != nil {
			b.pub.Publish(ef.event)
		}
	case effectOffer:
		if b.conn != nil {
			b.conn.Offer(ctx, ef.offer)
		}
	case effectWithdraw:
		if b.conn != nil {
			b.conn.Withdraw(ctx, ef.withdraw)
		}
	case effectExit:
		if b.conn != nil {
			b.conn.Overflow(ctx, ef.exit)
		} else {
			b.log.Warn("acd_exit_dropped", "call_id", ef.exit.Contact, "queue", ef.exit.Queue)
		}
	case effectAnnounce:
		if b.conn != nil {
			b.conn.Announce(ctx, ef.announce)
		}
	}
}
