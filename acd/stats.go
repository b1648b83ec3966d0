package acd

import (
	"strconv"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
)

// Stats computes the queue metrics of docs/ACD_METRICS.md from the
// engine's events (a lossless bus subscription, or events replayed from
// the store for a report interval). Add events in order; read any time.
// It is safe for concurrent use (a small mutex-guarded struct).
type Stats struct {
	mu     sync.Mutex
	limits map[string][2]time.Duration // queue → service level threshold, short abandon
	queues map[string]*tally
}

type tally struct {
	QueueStats
	waitSum   time.Duration
	talkSum   time.Duration
	holdSum   time.Duration
	wrapSum   time.Duration
	wrapped   int
	waitingAt map[call.ID]time.Time // contacts waiting now → when they joined
}

// QueueStats are one queue's counters and metrics.
type QueueStats struct {
	Queue string
	// Counters of contacts leaving the queue, by how.
	Joined, Answered, AnsweredInSL, Abandoned, ShortAbandoned int
	Overflowed, Cancelled, MovedOut, Lost                     int
	// Completed counts answered contacts that ended.
	Completed int
	// ServiceLevel is AnsweredInSL ÷ (Answered + Abandoned − ShortAbandoned),
	// 0..1; SLKnown is false when the divisor is 0.
	ServiceLevel float64
	SLKnown      bool
	// ASA is the mean wait of answered contacts.
	ASA time.Duration
	// AHT is the mean of talk (hold included) + wrap-up of completed
	// contacts; AvgTalk, AvgHold and AvgWrap are its parts.
	AHT, AvgTalk, AvgHold, AvgWrap time.Duration
	// AbandonRate is (Abandoned − ShortAbandoned) ÷ (Answered + Abandoned −
	// ShortAbandoned), 0..1.
	AbandonRate float64
	// Waiting and LongestWaiting are the contacts waiting now and the
	// longest of their waits; LongestAnswered the longest wait of an
	// answered contact.
	Waiting         int
	LongestWaiting  time.Duration
	LongestAnswered time.Duration
}

// NewStats returns an empty aggregator using cfg's service-level and
// short-abandon thresholds (defaults for queues not in cfg).
func NewStats(cfg Config) *Stats {
	s := &Stats{limits: map[string][2]time.Duration{}, queues: map[string]*tally{}}
	for _, q := range cfg.Queues {
		q = q.withDefaults()
		s.limits[q.Name] = [2]time.Duration{q.ServiceLevel.D(), q.ShortAbandon.D()}
	}
	return s
}

func (s *Stats) tally(q string) *tally {
	t := s.queues[q]
	if t == nil {
		t = &tally{QueueStats: QueueStats{Queue: q}, waitingAt: map[call.ID]time.Time{}}
		s.queues[q] = t
	}
	return t
}

func dataMS(e call.Event, key string) time.Duration {
	n, _ := strconv.ParseInt(e.Data[key], 10, 64)
	return time.Duration(n) * time.Millisecond
}

// Add accounts for one event; events of other types are ignored.
func (s *Stats) Add(e call.Event) {
	q, ok := e.Data[DataQueue]
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lim, ok := s.limits[q]
	if !ok {
		lim = [2]time.Duration{DefaultServiceLevel, DefaultShortAbandon}
	}
	t := s.tally(q)
	wait := dataMS(e, DataWaitMS)
	switch e.Type {
	case EventQueueJoined:
		t.Joined++
		t.waitingAt[e.CallID] = e.Time
	case EventQueueMoved:
		from := s.tally(e.Data[DataFrom])
		from.MovedOut++
		delete(from.waitingAt, e.CallID)
		t.Joined++
		t.waitingAt[e.CallID] = e.Time
	case EventQueueAnswered:
		t.Answered++
		t.waitSum += wait
		t.LongestAnswered = max(t.LongestAnswered, wait)
		if wait <= lim[0] {
			t.AnsweredInSL++
		}
	case EventQueueAbandoned:
		t.Abandoned++
		if wait < lim[1] {
			t.ShortAbandoned++
		}
	case EventQueueOverflowed:
		t.Overflowed++
	case EventQueueCancelled:
		t.Cancelled++
	case EventQueueLost:
		t.Lost++
	case EventQueueCompleted:
		t.Completed++
		t.talkSum += dataMS(e, DataTalkMS)
		t.holdSum += dataMS(e, DataHoldMS)
		return
	case EventQueueWrapUpEnded:
		t.wrapped++
		t.wrapSum += dataMS(e, DataWrapMS)
		return
	default:
		return
	}
	if e.Type != EventQueueJoined && e.Type != EventQueueMoved {
		delete(t.waitingAt, e.CallID)
	}
}

// Queue returns the metrics of one queue, with waits measured at now.
func (s *Stats) Queue(name string, now time.Time) QueueStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.queues[name]
	if t == nil {
		return QueueStats{Queue: name}
	}
	r := t.QueueStats
	counted := r.Answered + r.Abandoned - r.ShortAbandoned
	if counted > 0 {
		r.ServiceLevel, r.SLKnown = float64(r.AnsweredInSL)/float64(counted), true
		r.AbandonRate = float64(r.Abandoned-r.ShortAbandoned) / float64(counted)
	}
	if r.Answered > 0 {
		r.ASA = t.waitSum / time.Duration(r.Answered)
	}
	if r.Completed > 0 {
		r.AvgTalk = t.talkSum / time.Duration(r.Completed)
		r.AvgHold = t.holdSum / time.Duration(r.Completed)
	}
	if t.wrapped > 0 {
		r.AvgWrap = t.wrapSum / time.Duration(t.wrapped)
	}
	r.AHT = r.AvgTalk + r.AvgWrap
	r.Waiting = len(t.waitingAt)
	for _, at := range t.waitingAt {
		r.LongestWaiting = max(r.LongestWaiting, now.Sub(at))
	}
	return r
}

// Queues returns the metrics of every queue seen, by name.
func (s *Stats) Queues(now time.Time) []QueueStats {
	s.mu.Lock()
	names := sortedKeys(s.queues)
	s.mu.Unlock()
	out := make([]QueueStats, 0, len(names))
	for _, n := range names {
		out = append(out, s.Queue(n, now))
	}
	return out
}
