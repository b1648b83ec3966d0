package ivr

import (
	"context"
	"fmt"
	"time"
)

var hoursKeys = []string{"timezone", "schedule", "holidays", "open", "closed", "holiday"}

// hoursNode branches on opening hours: holiday (when set, else closed) on
// a holiday date, open within the weekly schedule, closed outside it.
type hoursNode struct {
	loc     *time.Location // nil: the flow's, else the clock's
	sched   schedule
	open    string
	closed  string
	holiday string
}

func parseHours(np *nodeParser) action {
	a := &hoursNode{
		sched:   schedule{holidays: map[string]bool{}},
		open:    np.ref("open", true),
		closed:  np.ref("closed", true),
		holiday: np.ref("holiday", false),
	}
	if s, ok := np.str("timezone"); ok {
		loc, err := loadLocation(s)
		if err != nil {
			np.p.errf(np.val["timezone"], np.at("timezone"), "%q is not a time zone (IANA name such as \"Europe/London\")", s)
		}
		a.loc = loc
	} else if np.f.loc == nil {
		np.p.warnf(np.key["type"], np.path, "no timezone: (here or at the top of the flow): the switch's local time is used")
	}
	if !np.has("schedule") {
		np.missing("schedule")
	}
	for i, it := range np.list("schedule") {
		at := fmt.Sprintf("%s[%d]", np.at("schedule"), i)
		if s, ok := np.p.scalar(it, at); ok {
			if err := a.sched.addEntry(s); err != nil {
				np.p.errf(it, at, "%v", err)
			}
		}
	}
	for i, it := range np.list("holidays") {
		at := fmt.Sprintf("%s[%d]", np.at("holidays"), i)
		if s, ok := np.p.scalar(it, at); ok {
			if err := a.sched.addHoliday(s); err != nil {
				np.p.errf(it, at, "%v", err)
			}
		}
	}
	return a
}

func (a *hoursNode) exec(_ context.Context, r *run) result {
	t := r.now()
	if a.loc != nil {
		t = t.In(a.loc)
	}
	switch {
	case a.sched.holiday(t):
		if a.holiday != "" {
			return result{next: a.holiday, reason: "holiday"}
		}
		return result{next: a.closed, reason: "holiday"}
	case a.sched.isOpen(t):
		return result{next: a.open, reason: "open"}
	}
	return result{next: a.closed, reason: "closed"}
}
