package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/media/tap"
	"github.com/switchd/switchd/recordings"
	"github.com/switchd/switchd/sip"
	"github.com/switchd/switchd/web"
)

// recorder records calls as `recordings:` says: from the answer (mode
// always, or extensions when one of the parties is listed) or from the
// moment a call enters a listed queue (mode queues). A recording follows
// the customer's leg — customer left, what they hear right (prompts, music,
// then the agent) — until the call ends, pauses while the IVR collects
// sensitive digits and on request, and is indexed in SQLite.
type recorder struct {
	s   *Server
	cfg recordings.Config
	dir string
	log *slog.Logger

	mu     sync.Mutex
	active map[call.ID]*activeRecording
	wg     sync.WaitGroup
}

// activeRecording is a call being recorded.
type activeRecording struct {
	feed *recordings.Feed
	mu   sync.Mutex
	rec  recordings.Record
}

var _ web.Recordings = (*recorder)(nil)

func newRecorder(s *Server) *recorder {
	return &recorder{s: s, cfg: s.cfg.Recordings, dir: s.cfg.Recordings.Path(s.cfg.DataDir),
		log: s.log.With("component", "recordings"), active: map[call.ID]*activeRecording{}}
}

// recover repairs the recordings a crash left (their WAV headers, from
// the files' lengths) and closes their index rows; New calls it before
// any call starts. A failure is logged, not fatal: calls matter more.
func (r *recorder) recover(ctx context.Context) {
	repaired, err := recordings.Recover(ctx, r.s.store, r.dir, r.s.now(), r.log)
	if err != nil {
		r.log.Error("recordings_recover_failed", "error", err)
	}
	if len(repaired) > 0 {
		r.log.Warn("recordings_repaired", "count", len(repaired))
	}
}

// start runs the retention sweeper until ctx ends.
func (r *recorder) start(ctx context.Context, wg *sync.WaitGroup) {
	if r.cfg.RetentionDays > 0 {
		sw := &recordings.Sweeper{Store: r.s.store, Dir: r.dir, RetentionDays: r.cfg.RetentionDays, Logger: r.log}
		wg.Go(func() {
			if err := sw.Run(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("recordings_sweeper_failed", "error", err)
			}
		})
	}
}

// onAnswer is sip.B2BUA.OnAnswer: mode always, or extensions.
func (r *recorder) onAnswer(a sip.Answered) {
	if r.cfg.ModeValue() == recordings.ModeQueues || !r.cfg.Wants("", a.Caller.Number, a.Callee.Number) {
		return
	}
	r.record(a.CallID, a.CallerTap, a.Leg, recordings.Record{Caller: a.Caller.Number, Callee: a.Callee.Number})
}

// enteredQueue is a call joining a queue: recorded from now on in mode
// queues; an existing recording learns the queue.
func (r *recorder) enteredQueue(leg *sip.AppLeg, queue string) {
	r.mu.Lock()
	ar := r.active[leg.CallID()]
	r.mu.Unlock()
	if ar != nil {
		ar.mu.Lock()
		ar.rec.Queue = queue
		ar.mu.Unlock()
		return
	}
	if r.cfg.ModeValue() != recordings.ModeQueues || !r.cfg.Wants(queue) {
		return
	}
	r.record(leg.CallID(), leg.Tap(), leg, recordings.Record{Queue: queue, Caller: leg.Caller().Number, Callee: leg.Dialled()})
}

// agentAnswered notes the agent of a recorded call.
func (r *recorder) agentAnswered(id call.ID, agent string) {
	r.mu.Lock()
	ar := r.active[id]
	r.mu.Unlock()
	if ar != nil {
		ar.mu.Lock()
		ar.rec.Agent = agent
		ar.mu.Unlock()
	}
}

// record starts recording a call from its customer leg's tap.
func (r *recorder) record(id call.ID, tp *tap.Point, leg *sip.AppLeg, rec recordings.Record) {
	log := r.log.With("call_id", string(id))
	o := r.cfg.Options()
	o.Logger, o.Now = log, r.s.now
	feed, err := recordings.Start(context.Background(), r.dir, string(id), tp, o)
	if err != nil {
		log.Error("recording_not_started", "error", err)
		return
	}
	w := feed.Writer()
	rec.CallID, rec.Path, rec.Format, rec.Start = string(id), w.Path(), w.Format(), w.Start()
	if rec.ID, err = r.s.store.AddRecording(context.Background(), rec); err != nil {
		log.Error("recording_not_indexed", "path", rec.Path, "error", err)
	}
	ar := &activeRecording{feed: feed, rec: rec}
	r.mu.Lock()
	r.active[id] = ar
	r.mu.Unlock()
	if leg != nil {
		leg.OnSensitive(sensitivePause(w))
	}
	log.Info("recording_started", "path", rec.Path, "format", rec.Format.String())
	r.wg.Add(1)
	go r.finish(id, ar, log)
}

// sensitiveTail keeps a recording paused after sensitive input ends: the
// tail of the last key (the terminator often) and the jitter buffer's
// delay must not reach the file.
const sensitiveTail = 500 * time.Millisecond

// sensitivePause pauses w while a leg is sensitive, and sensitiveTail
// after.
func sensitivePause(w *recordings.Writer) func(on bool) {
	var mu sync.Mutex
	gen := 0
	return func(on bool) {
		mu.Lock()
		defer mu.Unlock()
		gen++
		if on {
			w.Pause(recordings.PauseSensitive)
			return
		}
		g := gen
		time.AfterFunc(sensitiveTail, func() {
			mu.Lock()
			defer mu.Unlock()
			if gen == g {
				w.Resume(recordings.PauseSensitive)
			}
		})
	}
}

// finish indexes a recording once its call ended (the taps closed).
func (r *recorder) finish(id call.ID, ar *activeRecording, log *slog.Logger) {
	defer r.wg.Done()
	<-ar.feed.Done()
	res, err := ar.feed.Stop()
	if err != nil {
		log.Error("recording_close_failed", "error", err)
	}
	r.mu.Lock()
	delete(r.active, id)
	r.mu.Unlock()
	ar.mu.Lock()
	rec := ar.rec
	ar.mu.Unlock()
	rec.Finish(res)
	if rec.ID != 0 {
		if err := r.s.store.FinishRecording(context.Background(), rec); err != nil {
			log.Error("recording_not_indexed", "path", rec.Path, "error", err)
		}
	}
	log.Info("recording_finished", "path", rec.Path, "duration", res.Duration.Round(time.Millisecond).String(),
		"dropped", res.Dropped, "lost", res.Lost, "paused", len(res.Paused))
}

// wait waits (bounded) for the recordings of ended calls to be indexed.
func (r *recorder) wait(d time.Duration) bool { return waitTimeout(&r.wg, d) }

// PauseRecording implements web.Recordings.
func (r *recorder) PauseRecording(_ context.Context, callID string, pause bool) error {
	r.mu.Lock()
	ar := r.active[call.ID(callID)]
	r.mu.Unlock()
	if ar == nil {
		return fmt.Errorf("%w: call %s is not being recorded", web.ErrNotFound, callID)
	}
	if pause {
		ar.feed.Writer().Pause(recordings.PauseAPI)
	} else {
		ar.feed.Writer().Resume(recordings.PauseAPI)
	}
	return nil
}
