package call

import (
	"fmt"
	"strconv"
)

// The enumerations of this package (Medium, Direction, State, Cause, Side)
// are small unsigned integers whose zero value means unknown, with one
// snake_case name each (pion/webrtc style). These helpers give them String,
// MarshalText and UnmarshalText from a table of names.

func enumString[T ~uint8](v T, kind string, names []string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return kind + "(" + strconv.Itoa(int(v)) + ")"
}

func enumMarshal[T ~uint8](v T, kind string, names []string) ([]byte, error) {
	if int(v) >= len(names) {
		return nil, fmt.Errorf("%w: %s %d", ErrInvalidValue, kind, v)
	}
	return []byte(names[v]), nil
}

// enumParse accepts a value's name; "" means unknown (the zero value).
func enumParse[T ~uint8](text []byte, kind string, names []string) (T, error) {
	s := string(text)
	if s == "" {
		return 0, nil
	}
	for i, n := range names {
		if n == s {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q is not a %s", ErrInvalidValue, s, kind)
}
