package routing

import "fmt"

// Outbound routes a number dialled by an extension of class have.
//
// The first dial rule whose match expression matches dialled applies
// (a rule that would strip more digits than the number has is passed
// over). The number sent is dialled with the rule's strip digits removed
// and its prepend put in front; it is normalised with the home plan to give
// Route.E164, and each trunk gets it in its own NumberFormat and plan.
//
// The class required is the higher of the rule's class and the class of
// the number: E.164 with the home country code is national, another
// country code is international, and a number that cannot be normalised
// (a short code, a subscriber number without prefix) takes the rule's class,
// or national when the rule has none. A rule of class emergency is allowed
// to every extension, whatever its class.
//
// Errors: ErrNoRoute (wrapped) when no rule applies; ErrForbidden (wrapped,
// naming the class required) when have is lower than required, with the
// Route filled in for logging. Attempts list every trunk of the rule: the
// caller decides about busy channels.
func (t *Table) Outbound(dialled string, have Class) (Route, error) {
	if t == nil {
		return Route{}, fmt.Errorf("%w for %q", ErrNoRoute, dialled)
	}
	for _, r := range t.rules {
		if !r.match.MatchString(dialled) || r.strip > len(dialled) {
			continue
		}
		num := r.prepend + dialled[r.strip:]
		if num == "" {
			continue
		}
		rt := Route{Rule: r.name, Dialled: dialled}
		e164, ok := t.home.E164(num)
		number := ClassNational
		switch {
		case ok && !t.home.home(e164):
			number = ClassInternational
		case !ok && r.class != ClassUnknown:
			number = r.class
		}
		if ok {
			rt.E164 = e164
		}
		rt.Class = max(r.class, number)
		if r.class == ClassEmergency {
			rt.Class = ClassEmergency
		}
		for _, tr := range r.trunks {
			a := Attempt{Trunk: tr, Number: num}
			if ok {
				a.Number = tr.Numbering.Format(e164, tr.NumberFormat)
			}
			rt.Attempts = append(rt.Attempts, a)
		}
		if rt.Class != ClassEmergency && have < rt.Class {
			return rt, fmt.Errorf("%w: %q (dial rule %s) needs class %s, the extension has %s",
				ErrForbidden, dialled, r.name, rt.Class, have)
		}
		return rt, nil
	}
	return Route{}, fmt.Errorf("%w for %q", ErrNoRoute, dialled)
}
