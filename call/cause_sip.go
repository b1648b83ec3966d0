package call

// This file is the one place that maps causes to and from SIP status codes
// (RFC 3261 §21). The choices follow RFC 3398 §7.2.4.1 / §8.2.6.1 (ISUP
// cause ↔ SIP status) and what Asterisk (hangup_cause2sip, hangup_sip2cause)
// and FreeSWITCH (sofia_glue_sip_cause_to_freeswitch) do.

// SIPStatus is the final response a switch sends to reject an unanswered
// INVITE for this cause (an answered call is ended with BYE whatever the
// cause). Notable choices:
//
//   - NoAnswer → 480 Temporarily Unavailable, not 408: the callee was
//     alerted and did not answer (Q.850 cause 19, which RFC 3398 maps to
//     480); 408 is a transaction timeout, a different thing.
//   - NormalClearing → 480, as FreeSWITCH answers for causes without a
//     specific response.
//   - OriginatorCancel, AnsweredElsewhere and Transferred → 487 Request Terminated
//     (RFC 3261 §9.2: the answer to an INVITE that was CANCELled).
//   - MediaTimeout and SessionTimeout → 408 (a timer expired).
//   - SwitchRestart, Shutdown and Congestion → 503 Service Unavailable
//     (a client may retry elsewhere, RFC 3261 §21.5.4).
//   - Unknown and Failure → 500.
func (c Cause) SIPStatus() int {
	switch c {
	case CauseNormalClearing, CauseNoAnswer, CauseUnavailable:
		return 480
	case CauseBusy:
		return 486
	case CauseNotFound:
		return 404
	case CauseInvalidNumber:
		return 484
	case CauseOriginatorCancel, CauseAnsweredElsewhere, CauseTransferred:
		return 487
	case CauseDeclined:
		return 603
	case CauseForbidden:
		return 403
	case CauseNotAcceptable:
		return 488
	case CauseMediaTimeout, CauseSessionTimeout:
		return 408
	case CauseSwitchRestart, CauseShutdown, CauseCongestion:
		return 503
	default:
		return 500
	}
}

// CauseFromSIP classifies the final response a called party (or the next
// hop) sent to an INVITE. Codes with no specific cause fall back by class:
// 1xx/2xx → NormalClearing, 3xx (a redirect switchd did not follow) and
// other 4xx and 6xx → Failure, other 5xx → Congestion (as Asterisk does).
// Outside 100–699 the cause is Unknown.
func CauseFromSIP(code int) Cause {
	switch code {
	case 401, 403, 407:
		return CauseForbidden
	case 404, 410, 485, 604:
		return CauseNotFound
	case 408:
		return CauseNoAnswer
	case 480:
		return CauseUnavailable
	case 484:
		return CauseInvalidNumber
	case 486, 600:
		return CauseBusy
	case 487:
		return CauseOriginatorCancel
	case 488, 606:
		return CauseNotAcceptable
	case 603, 608:
		return CauseDeclined
	case 503:
		return CauseCongestion
	}
	switch {
	case code >= 100 && code < 300:
		return CauseNormalClearing
	case code >= 500 && code < 600 && code != 500 && code != 501 && code != 505:
		return CauseCongestion
	case code >= 300 && code < 700:
		return CauseFailure
	default:
		return CauseUnknown
	}
}
