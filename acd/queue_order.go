package acd

import (
	"slices"
	"time"

	"github.com/switchd/switchd/call"
)

// A queue keeps its waiting contacts in base order: priority descending,
// then first arrival ascending (the time a contact first joined any
// queue, so a transferred contact keeps its place; seq breaks ties).
// Routing and positions use the effective order, which adds priority
// aging; aging depends only on the time since a contact first joined, so
// it never reorders contacts of one base priority and FIFO holds within a
// priority level.

// before reports whether x comes before y in base order.
func before(x, y *contact) bool {
	if x.priority != y.priority {
		return x.priority > y.priority
	}
	return arrived(x, y)
}

// arrived reports whether x arrived before y: first joined earlier, or at
// the same instant with a lower sequence number. Every ordering of equal
// priorities (base order, positions, the routing pass) uses it.
func arrived(x, y *contact) bool {
	if !x.joined.Equal(y.joined) {
		return x.joined.Before(y.joined)
	}
	return x.seq < y.seq
}

func (q *queue) insert(c *contact) {
	i, _ := slices.BinarySearchFunc(q.waiting, c, func(x, t *contact) int {
		if before(x, t) {
			return -1
		}
		if x == t {
			return 0
		}
		return 1
	})
	q.waiting = slices.Insert(q.waiting, i, c)
}

func (q *queue) remove(c *contact) {
	if i := slices.Index(q.waiting, c); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
	}
}

// effPriority is c's priority with the queue's aging applied at now.
func (q *queue) effPriority(c *contact, now time.Time) int {
	a := q.cfg.PriorityAging
	p := c.priority
	if every := a.Every.D(); every > 0 && a.Step > 0 {
		p += a.Step * int(max(0, now.Sub(c.joined))/every)
		if a.Max > 0 && p > a.Max {
			p = max(c.priority, a.Max)
		}
	}
	return p
}

// position returns c's 1-based place in the effective order and how many
// contacts wait in the queue.
func (q *queue) position(c *contact, now time.Time) (int, int) {
	pc := q.effPriority(c, now)
	ahead := 0
	for _, d := range q.waiting {
		if d == c {
			continue
		}
		pd := q.effPriority(d, now)
		if pd > pc || pd == pc && arrived(d, c) {
			ahead++
		}
	}
	return ahead + 1, len(q.waiting)
}

// handleTimes keeps a queue's most recent handle times (talk + wrap-up).
type handleTimes struct {
	ring [defaultRecentHandleTimes]time.Duration
	n    int // samples held (≤ len(ring))
	next int
	sum  time.Duration
}

func (h *handleTimes) add(d time.Duration) {
	if h.n == len(h.ring) {
		h.sum -= h.ring[h.next]
	} else {
		h.n++
	}
	h.ring[h.next] = d
	h.sum += d
	h.next = (h.next + 1) % len(h.ring)
}

// mean returns the mean of the samples held, and false when there are none.
func (h *handleTimes) mean() (time.Duration, bool) {
	if h.n == 0 {
		return 0, false
	}
	return h.sum / time.Duration(h.n), true
}

// estimate is the expected wait of the contact at position pos of q
// (docs/ACD_METRICS.md): EWT = AHT × pos ÷ N, where AHT is the mean of the
// last 20 handle times of the queue (default_handle_time before any) and N
// the capacity for the medium of the queue's present agents. Known is
// false when N is 0.
func (s *core) estimate(q *queue, m call.Medium, pos int) (time.Duration, bool) {
	n := 0
	for _, mb := range q.order {
		if mb.a.present() && int(m) < numMedia {
			n += mb.a.cap[m]
		}
	}
	if n == 0 {
		return 0, false
	}
	aht, ok := q.handle.mean()
	if !ok {
		aht = q.cfg.DefaultHandleTime.D()
	}
	return (aht * time.Duration(pos) / time.Duration(n)).Round(time.Second), true
}
