// Package enum gives small enumerations their text forms: each is an
// unsigned integer whose zero value means unknown, with one name per value
// in a table. The domain packages (routing, ivr, acd) build String,
// MarshalText and UnmarshalText from these; package call keeps its own
// copy because it imports only the standard library.
package enum

import (
	"fmt"
	"strconv"
)

// String is v's name, or "kind(n)" for a value past the table.
func String[T ~uint8](v T, kind string, names []string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return kind + "(" + strconv.Itoa(int(v)) + ")"
}

// Marshal is v's name; a value past the table is an error wrapping invalid.
func Marshal[T ~uint8](v T, kind string, names []string, invalid error) ([]byte, error) {
	if int(v) >= len(names) {
		return nil, fmt.Errorf("%w: %s %d", invalid, kind, v)
	}
	return []byte(names[v]), nil
}

// Parse returns the value named s; "" is the zero value (unknown). An
// unknown name is an error wrapping invalid.
func Parse[T ~uint8](s, kind string, names []string, invalid error) (T, error) {
	if s == "" {
		return 0, nil
	}
	for i, n := range names {
		if n == s {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q is not a %s", invalid, s, kind)
}
