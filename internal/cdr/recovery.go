package cdr

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
)

// RecoverAfterCrash closes the CDRs a previous run left open (the switch
// stopped mid-call without recording the end): cause switch_restart, hangup
// side switch, ended now. Call it at start-up before the Recorder runs, so
// it cannot close calls of this run. It returns how many it closed.
func RecoverAfterCrash(ctx context.Context, st Recoverer, now time.Time, log *slog.Logger) (int, error) {
	n, err := st.CloseOpenCDRs(ctx, call.CauseSwitchRestart.String(), now)
	if err != nil {
		return 0, fmt.Errorf("cdr: recover after crash: %w", err)
	}
	if n > 0 && log != nil {
		log.Warn("cdrs_closed_after_restart", "count", n, "cause", call.CauseSwitchRestart.String())
	}
	return n, nil
}

// Recoverer closes CDRs left open (*store.Store).
type Recoverer interface {
	CloseOpenCDRs(ctx context.Context, cause string, at time.Time) (int, error)
}

var _ Recoverer = (*store.Store)(nil)
