package sip

import (
	"context"
	"time"
)

// RunExpiry removes expired bindings every interval until ctx is done.
func (r *Registrar) RunExpiry(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.logChanges(r.table.Expire(r.now()))
		}
	}
}
