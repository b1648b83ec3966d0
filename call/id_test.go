package call

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// freshTime is a time later than every ID issued so far in this process
// (the generator is process-wide and monotonic), so a test's IDs carry the
// timestamp it asks for whatever ran before.
func freshTime() time.Time {
	idGen.mu.Lock()
	defer idGen.mu.Unlock()
	return time.UnixMilli(max(idGen.ms, time.Now().UnixMilli())).Add(time.Second).UTC()
}

func TestNewIDFormatAndTime(t *testing.T) {
	now := freshTime().Add(123_456_789 * time.Nanosecond)
	id := NewID(now)
	s := string(id)
	if len(s) != 36 || s[14] != '7' || !strings.ContainsAny(s[19:20], "89ab") || strings.ToLower(s) != s {
		t.Fatalf("%s is not a canonical lowercase UUIDv7", s)
	}
	if got := id.Time(); !got.Equal(now.Truncate(time.Millisecond)) {
		t.Fatalf("Time() = %v, want %v", got, now.Truncate(time.Millisecond))
	}
	if p, err := ParseID(strings.ToUpper(s)); err != nil || p != id {
		t.Fatalf("ParseID(upper) = %q, %v", p, err)
	}
}

func TestNewIDMonotonicWithinMillisecond(t *testing.T) {
	now := freshTime()
	prev := NewID(now)
	// 10,000 IDs in one millisecond overflow the 12-bit counter several
	// times; the timestamp is borrowed forward and order still holds.
	for i := range 10_000 {
		id := NewID(now)
		if id <= prev {
			t.Fatalf("id %d: %s not after %s", i, id, prev)
		}
		prev = id
	}
	if d := prev.Time().Sub(now); d <= 0 || d > 10*time.Millisecond {
		t.Fatalf("after 10,000 IDs the timestamp moved %v; want a few borrowed ms", d)
	}
}

func TestNewIDMonotonicWhenClockGoesBack(t *testing.T) {
	now := freshTime()
	a := NewID(now)
	b := NewID(now.Add(-time.Hour))
	c := NewID(now.Add(time.Millisecond))
	if !(a < b && b < c) {
		t.Fatalf("not increasing: %s %s %s", a, b, c)
	}
}

func TestNewIDConcurrentUnique(t *testing.T) {
	const workers, each = 8, 2000
	var mu sync.Mutex
	seen := make(map[ID]bool, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			local := make([]ID, 0, each)
			for range each {
				local = append(local, NewID(time.Now()))
			}
			for i := 1; i < len(local); i++ {
				if local[i] <= local[i-1] {
					t.Errorf("goroutine saw %s after %s", local[i], local[i-1])
				}
			}
			mu.Lock()
			for _, id := range local {
				seen[id] = true
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d unique IDs of %d", len(seen), workers*each)
	}
}

func TestParseIDRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"not-a-uuid",
		"01890a5d-ac96-4ed1-8b2a-c8f5e2a4b0f1", // version 4
		"01890a5d-ac96-7ed1-cb2a-c8f5e2a4b0f1", // variant 110
		"01890a5d-ac96-7ed1-8b2a-c8f5e2a4b0fz", // not hex
		"01890a5dac96-7ed1-8b2a-c8f5e2a4b0f1-", // hyphens misplaced
	} {
		if _, err := ParseID(s); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("ParseID(%q) = %v, want ErrInvalidValue", s, err)
		}
	}
	if !ID("junk").Time().IsZero() || !ID("").IsZero() {
		t.Error("Time of a non-UUID should be zero; empty ID should be zero")
	}
}
