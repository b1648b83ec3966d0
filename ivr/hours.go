package ivr

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones of hours nodes work on machines without a zoneinfo database

	"github.com/switchd/switchd/ivr/expr"
)

// loadLocation loads an IANA time zone ("Europe/London"); the embedded
// database (time/tzdata) is used when the system has none.
func loadLocation(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q is not an IANA time zone", name)
	}
	return time.LoadLocation(name)
}

// schedule is a weekly schedule of opening hours plus holiday dates.
type schedule struct {
	open     [7][]window     // by time.Weekday
	holidays map[string]bool // "2006-01-02" (that day) or "01-02" (every year)
}

// window is a span of a day in minutes since midnight, [from, to).
type window struct{ from, to int }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// addEntry reads one schedule line: days then one or more time ranges,
// such as "mon-fri 09:00-18:00", "sat 10:00-14:00",
// "mon,wed 09:00-12:00,13:00-17:00", "daily 08:00-20:00" or
// "fri 22:00-02:00" (past midnight: until 02:00 on Saturday).
func (s *schedule) addEntry(line string) error {
	f := strings.Fields(line)
	if len(f) < 2 {
		return fmt.Errorf("%q: write days then times, e.g. \"mon-fri 09:00-18:00\"", line)
	}
	days, err := parseDays(strings.ToLower(f[0]))
	if err != nil {
		return err
	}
	for _, r := range strings.Split(strings.Join(f[1:], ""), ",") {
		from, to, ok := strings.Cut(r, "-")
		a, okA := expr.ParseClock(from)
		b, okB := expr.ParseClock(to)
		if !ok || !okA || !okB {
			return fmt.Errorf("%q is not a time range (HH:MM-HH:MM, e.g. 09:00-18:00)", r)
		}
		if a == b {
			return fmt.Errorf("%q is an empty time range", r)
		}
		for _, d := range days {
			if a < b {
				s.open[d] = append(s.open[d], window{a, b})
			} else { // past midnight
				s.open[d] = append(s.open[d], window{a, 24 * 60})
				s.open[(d+1)%7] = append(s.open[(d+1)%7], window{0, b})
			}
		}
	}
	return nil
}

// parseDays reads "mon", "mon-fri", "fri-mon", "mon,wed,fri" or "daily".
func parseDays(s string) ([]time.Weekday, error) {
	if s == "daily" || s == "every_day" {
		return []time.Weekday{0, 1, 2, 3, 4, 5, 6}, nil
	}
	var out []time.Weekday
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, okA := dayNames[from]
		b, okB := dayNames[to]
		if !okA || isRange && !okB {
			return nil, fmt.Errorf("%q is not a day or a range of days (mon, tue, … sun; mon-fri; daily)", part)
		}
		if !isRange {
			b = a
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	return out, nil
}

// addHoliday reads a date: "2025-12-25" (that day) or "12-25" (every year).
func (s *schedule) addHoliday(d string) error {
	if _, err := time.Parse("2006-01-02", d); err == nil {
		s.holidays[d] = true
		return nil
	}
	if _, err := time.Parse("01-02", d); err == nil {
		s.holidays[d] = true
		return nil
	}
	return fmt.Errorf("%q is not a date (2006-01-02, or 01-02 for every year)", d)
}

// holiday reports whether t's date is a holiday.
func (s *schedule) holiday(t time.Time) bool {
	return s.holidays[t.Format("2006-01-02")] || s.holidays[t.Format("01-02")]
}

// isOpen reports whether t (already in the schedule's time zone) falls in
// the opening hours of its weekday.
func (s *schedule) isOpen(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	for _, w := range s.open[t.Weekday()] {
		if m >= w.from && m < w.to {
			return true
		}
	}
	return false
}
