package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a point in time as an operator types it, in a query or
// on the command line: an RFC 3339 time ("2025-06-01T09:00:00Z"), a date
// ("2025-06-01", midnight in now's location), or a duration before now
// ("90m", "24h", "7d"; d is 24 hours).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, now.Location()); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date (2006-01-02) or a duration such as 24h or 7d", s)
	}
	return now.Add(-d), nil
}

func parseAgo(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil {
			return 0, err
		}
		d = time.Duration(n * float64(24*time.Hour))
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, err
		}
	}
	if d < 0 {
		return 0, errors.New("negative duration")
	}
	return d, nil
}

// parseWindow reads the since, until and limit parameters of a listing:
// times as ParseTime takes them, limit 1..maxLimit (def when absent).
func parseWindow(v url.Values, now time.Time, def, maxLimit int) (since, until time.Time, limit int, err error) {
	limit = def
	if s := v.Get("since"); s != "" {
		if since, err = ParseTime(s, now); err != nil {
			return since, until, limit, fmt.Errorf("%w: since: %w", ErrInvalid, err)
		}
	}
	if s := v.Get("until"); s != "" {
		if until, err = ParseTime(s, now); err != nil {
			return since, until, limit, fmt.Errorf("%w: until: %w", ErrInvalid, err)
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return since, until, limit, fmt.Errorf("%w: limit: %q is not a number from 1 to %d", ErrInvalid, s, maxLimit)
		}
		limit = n
	}
	return since, until, limit, nil
}
