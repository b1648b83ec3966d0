package call

import "testing"

func TestCauseSIPStatus(t *testing.T) {
	want := map[Cause]int{
		CauseUnknown: 500, CauseNormalClearing: 480, CauseBusy: 486, CauseNoAnswer: 480,
		CauseUnavailable: 480, CauseNotFound: 404, CauseInvalidNumber: 484, CauseOriginatorCancel: 487,
		CauseAnsweredElsewhere: 487, CauseDeclined: 603, CauseForbidden: 403, CauseNotAcceptable: 488,
		CauseMediaTimeout: 408, CauseSessionTimeout: 408, CauseSwitchRestart: 503, CauseShutdown: 503,
		CauseCongestion: 503, CauseFailure: 500, CauseTransferred: 487,
	}
	for c := range Cause(len(causeNames)) {
		w, ok := want[c]
		if !ok {
			t.Errorf("no expectation for %s", c)
			continue
		}
		if got := c.SIPStatus(); got != w {
			t.Errorf("%s.SIPStatus() = %d, want %d", c, got, w)
		}
	}
	// Causes with a status of their own map back to themselves.
	for _, c := range []Cause{CauseBusy, CauseNotFound, CauseInvalidNumber, CauseOriginatorCancel,
		CauseDeclined, CauseForbidden, CauseNotAcceptable, CauseUnavailable, CauseCongestion, CauseFailure} {
		if back := CauseFromSIP(c.SIPStatus()); back != c {
			t.Errorf("CauseFromSIP(%d) = %s, want %s", c.SIPStatus(), back, c)
		}
	}
}

func TestCauseFromSIP(t *testing.T) {
	cases := map[int]Cause{
		0: CauseUnknown, 99: CauseUnknown, 700: CauseUnknown,
		180: CauseNormalClearing, 200: CauseNormalClearing,
		302: CauseFailure,
		400: CauseFailure, 401: CauseForbidden, 403: CauseForbidden, 407: CauseForbidden,
		404: CauseNotFound, 410: CauseNotFound, 485: CauseNotFound, 604: CauseNotFound,
		408: CauseNoAnswer, 480: CauseUnavailable, 484: CauseInvalidNumber,
		486: CauseBusy, 600: CauseBusy, 487: CauseOriginatorCancel,
		488: CauseNotAcceptable, 606: CauseNotAcceptable, 603: CauseDeclined, 608: CauseDeclined,
		415: CauseFailure, 482: CauseFailure, 499: CauseFailure,
		500: CauseFailure, 501: CauseFailure, 505: CauseFailure,
		502: CauseCongestion, 503: CauseCongestion, 504: CauseCongestion, 580: CauseCongestion,
		699: CauseFailure,
	}
	for code, want := range cases {
		if got := CauseFromSIP(code); got != want {
			t.Errorf("CauseFromSIP(%d) = %s, want %s", code, got, want)
		}
	}
}
