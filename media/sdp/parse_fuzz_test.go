package sdp

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error wraps
// ErrMalformed, and that anything accepted survives Marshal and Parse
// unchanged; the helpers and Answer run on it too. The seed corpus is the
// input part of every golden file.
func FuzzParse(f *testing.F) {
	for _, path := range goldenFiles(f) {
		in, _ := splitGolden(f, path)
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if s != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse returned %v, %v", s, err)
			}
			return
		}
		out := s.Marshal()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal output rejected: %v\n%q", err, out)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("Parse(Marshal(s)) != s\n%q\n%#v\n%#v", out, s, s2)
		}
		if out2 := s2.Marshal(); string(out2) != string(out) {
			t.Fatalf("Marshal not stable:\n%q\n%q", out, out2)
		}
		for _, m := range s.Media {
			_ = m.Codecs()
			_, _ = m.RTCP()
			_ = m.String()
			_ = s.Hold(m)
			_ = s.Ptime(m) + s.MaxPtime(m)
			_, _ = s.RTPAddr(m)
			_ = m.Rejected().String()
		}
		if c := Compare(s, s2); c.Any() {
			t.Fatalf("Compare of equal sessions = %s", c)
		}
		if ans, err := Answer(s, goldenLocal); err == nil {
			if _, err := Parse(ans.Marshal()); err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, ans)
			}
		} else if !errors.Is(err, ErrNoAudio) && !errors.Is(err, ErrNoCommonCodec) {
			t.Fatalf("Answer: unexpected error %v", err)
		}
	})
}
