package sip

import (
	"errors"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Binding is one registered contact of an address-of-record (RFC 3261 §10.3).
type Binding struct {
	AOR      string `json:"aor"`      // extension number
	Key      string `json:"-"`        // instance+reg-id (RFC 5626) or the contact URI
	Contact  string `json:"contact"`  // contact URI as the phone sent it, without header params
	Instance string `json:"instance"` // +sip.instance, when sent
	RegID    int    `json:"reg_id"`   // reg-id, when sent
	Q        string `json:"q,omitempty"`

	CallID string `json:"call_id"`
	CSeq   uint32 `json:"cseq"`

	Expires   time.Time      `json:"expires"`
	Source    netip.AddrPort `json:"source"`    // where the REGISTER came from (NAT-mapped address)
	Transport string         `json:"transport"` // "udp" or "tcp"
	Local     string         `json:"local"`     // listener address that received it
	UserAgent string         `json:"user_agent"`
	Updated   time.Time      `json:"updated"`

	// Qualify results (OPTIONS pings), not persisted.
	Reachable   Reachability  `json:"reachable"`
	RTT         time.Duration `json:"rtt_ns,omitempty"`
	LastQualify time.Time     `json:"last_qualify,omitzero"`
}

// Reachability is the qualify state of a binding.
type Reachability uint8

// Reachability values; the zero value means not yet checked.
const (
	ReachUnknown Reachability = iota
	Reachable
	Unreachable
)

// String names the state.
func (r Reachability) String() string {
	switch r {
	case Reachable:
		return "reachable"
	case Unreachable:
		return "unreachable"
	default:
		return "unknown"
	}
}

// MarshalText writes the name.
func (r Reachability) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads the name.
func (r *Reachability) UnmarshalText(b []byte) error {
	switch string(b) {
	case "reachable":
		*r = Reachable
	case "unreachable":
		*r = Unreachable
	default:
		*r = ReachUnknown
	}
	return nil
}

// ChangeOp says what happened to a binding.
type ChangeOp uint8

// Binding change operations.
const (
	OpUnknown ChangeOp = iota
	OpAdd              // a new binding
	OpRefresh          // an existing binding re-registered
	OpRemove           // removed by the phone (expires=0 or Contact: *)
	OpExpire           // timed out
	OpPurge            // removed by an administrator (extension deleted)
)

// String names the operation for logs.
func (o ChangeOp) String() string {
	switch o {
	case OpAdd:
		return "added"
	case OpRefresh:
		return "refreshed"
	case OpRemove:
		return "removed"
	case OpExpire:
		return "expired"
	case OpPurge:
		return "purged"
	default:
		return "unknown"
	}
}

// Change is one binding change, for persistence and logging.
type Change struct {
	Op      ChangeOp
	Binding Binding
}

// ContactUpdate is one Contact of a REGISTER, already checked and with its
// effective expiry (0 = remove).
type ContactUpdate struct {
	Key, Contact, Instance, Q string
	RegID                     int
	Expires                   time.Duration
}

// Update is the binding part of one REGISTER request.
type Update struct {
	AOR       string
	CallID    string
	CSeq      uint32
	Wildcard  bool // "Contact: *" with Expires: 0
	Contacts  []ContactUpdate
	Source    netip.AddrPort
	Transport string
	Local     string
	UserAgent string
}

// Errors from BindingTable.Apply.
var (
	ErrCSeqOutOfOrder  = errors.New("sip: CSeq out of order for this Call-ID")
	ErrTooManyContacts = errors.New("sip: too many contacts for this address-of-record")
)

// BindingTable holds the registrar's bindings in memory. It is safe for
// concurrent use. Each change is passed to the sink given to
// NewBindingTable, in order, while the table's lock is held, so the sink
// sees changes in the order they were made; the sink must only queue them.
type BindingTable struct {
	maxPerAOR int
	sink      func(Change)

	mu    sync.Mutex
	byAOR map[string]map[string]*Binding
	count int
	// sources counts bindings per source IP, so an INVITE can tell a
	// registered phone's address from a stranger's without a walk.
	sources map[netip.Addr]int
	// earliest is at or before the expiry of every binding, so Expire
	// need not walk the table before then.
	earliest time.Time
}

// noExpiry is the earliest expiry of an empty table.
var noExpiry = time.Unix(1<<62, 0)

// NewBindingTable returns an empty table. sink may be nil.
func NewBindingTable(maxPerAOR int, sink func(Change)) *BindingTable {
	if sink == nil {
		sink = func(Change) {}
	}
	return &BindingTable{maxPerAOR: maxPerAOR, sink: sink, byAOR: make(map[string]map[string]*Binding),
		sources: make(map[netip.Addr]int), earliest: noExpiry}
}

// Apply performs the binding steps of RFC 3261 §10.3 (6–8) for one REGISTER
// atomically: all contacts are checked before any is changed. A request
// with the Call-ID and CSeq of the stored binding is a retransmission and
// changes nothing. It returns the changes made and the AOR's bindings after them.
func (t *BindingTable) Apply(u Update, now time.Time) ([]Change, []Binding, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.byAOR[u.AOR]
	before := len(set)

	// Step 7: Call-ID/CSeq ordering, checked for every affected binding first.
	check := func(b *Binding) (retransmit bool, err error) {
		if b.CallID != u.CallID {
			return false, nil
		}
		if u.CSeq == b.CSeq {
			return true, nil
		}
		if u.CSeq < b.CSeq {
			return false, ErrCSeqOutOfOrder
		}
		return false, nil
	}
	var changes []Change
	if u.Wildcard {
		for _, b := range set {
			if _, err := check(b); err != nil {
				return nil, nil, err
			}
		}
		for key, b := range set {
			if b.CallID == u.CallID && b.CSeq == u.CSeq {
				continue
			}
			changes = append(changes, Change{Op: OpRemove, Binding: *b})
			t.dropSource(b.Source)
			delete(set, key)
		}
	} else {
		skip := make([]bool, len(u.Contacts))
		adds := 0
		for i, c := range u.Contacts {
			b := set[c.Key]
			if b == nil {
				if c.Expires > 0 {
					adds++
				}
				continue
			}
			retransmit, err := check(b)
			if err != nil {
				return nil, nil, err
			}
			skip[i] = retransmit
		}
		if adds > 0 && len(set)+adds > t.maxPerAOR {
			return nil, nil, ErrTooManyContacts
		}
		for i, c := range u.Contacts {
			if skip[i] {
				continue
			}
			b := set[c.Key]
			if c.Expires <= 0 {
				if b != nil {
					changes = append(changes, Change{Op: OpRemove, Binding: *b})
					t.dropSource(b.Source)
					delete(set, c.Key)
				}
				continue
			}
			op := OpRefresh
			if b == nil {
				if set == nil {
					set = make(map[string]*Binding)
					t.byAOR[u.AOR] = set
				}
				b = &Binding{AOR: u.AOR, Key: c.Key}
				set[c.Key] = b
				op = OpAdd
				t.addSource(u.Source)
			} else if b.Source != u.Source {
				t.dropSource(b.Source)
				t.addSource(u.Source)
			}
			if op == OpRefresh && (b.Contact != c.Contact || b.Source != u.Source || b.Transport != u.Transport) {
				op = OpAdd // the phone moved: log it as a new binding
				b.Reachable, b.RTT = ReachUnknown, 0
			}
			b.Contact, b.Instance, b.RegID, b.Q = c.Contact, c.Instance, c.RegID, c.Q
			b.CallID, b.CSeq = u.CallID, u.CSeq
			b.Expires = now.Add(c.Expires)
			if b.Expires.Before(t.earliest) {
				t.earliest = b.Expires
			}
			b.Source, b.Transport, b.Local, b.UserAgent = u.Source, u.Transport, u.Local, u.UserAgent
			b.Updated = now
			changes = append(changes, Change{Op: op, Binding: *b})
		}
	}
	if len(set) == 0 {
		delete(t.byAOR, u.AOR)
	}
	t.count += len(set) - before // only this AOR changed: no walk over every AOR per REGISTER
	for _, c := range changes {
		t.sink(c)
	}
	return changes, sortedBindings(set), nil
}

func (t *BindingTable) recount() {
	n := 0
	for _, set := range t.byAOR {
		n += len(set)
	}
	t.count = n
}

// Expire removes bindings whose expiry is not after now and returns them.
func (t *BindingTable) Expire(now time.Time) []Change {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Before(t.earliest) {
		return nil // nothing can have expired: no walk over the whole table every second
	}
	var changes []Change
	earliest := noExpiry
	for aor, set := range t.byAOR {
		for key, b := range set {
			if !b.Expires.After(now) {
				changes = append(changes, Change{Op: OpExpire, Binding: *b})
				t.dropSource(b.Source)
				delete(set, key)
			} else if b.Expires.Before(earliest) {
				earliest = b.Expires
			}
		}
		if len(set) == 0 {
			delete(t.byAOR, aor)
		}
	}
	t.earliest = earliest
	if len(changes) > 0 {
		t.count -= len(changes)
		for _, c := range changes {
			t.sink(c)
		}
	}
	return changes
}

// Purge removes every binding of aor (the extension was deleted).
func (t *BindingTable) Purge(aor string) []Change {
	t.mu.Lock()
	defer t.mu.Unlock()
	var changes []Change
	for _, b := range t.byAOR[aor] {
		changes = append(changes, Change{Op: OpPurge, Binding: *b})
		t.dropSource(b.Source)
	}
	delete(t.byAOR, aor)
	t.count -= len(changes)
	for _, c := range changes {
		t.sink(c)
	}
	return changes
}

// Restore loads bindings (from the database at start-up) without telling the sink.
// Bindings already expired at now are dropped and returned as expiry changes.
func (t *BindingTable) Restore(bs []Binding, now time.Time) []Change {
	t.mu.Lock()
	defer t.mu.Unlock()
	var expired []Change
	for _, b := range bs {
		if !b.Expires.After(now) {
			expired = append(expired, Change{Op: OpExpire, Binding: b})
			continue
		}
		set := t.byAOR[b.AOR]
		if set == nil {
			set = make(map[string]*Binding)
			t.byAOR[b.AOR] = set
		}
		b := b
		if old := set[b.Key]; old != nil {
			t.dropSource(old.Source)
		}
		set[b.Key] = &b
		t.addSource(b.Source)
		if b.Expires.Before(t.earliest) {
			t.earliest = b.Expires
		}
	}
	t.recount()
	for _, c := range expired {
		t.sink(c)
	}
	return expired
}

func (t *BindingTable) addSource(ap netip.AddrPort) { t.sources[ap.Addr().Unmap()]++ }

func (t *BindingTable) dropSource(ap netip.AddrPort) {
	a := ap.Addr().Unmap()
	if t.sources[a] <= 1 {
		delete(t.sources, a)
		return
	}
	t.sources[a]--
}

// HasSource reports whether any binding was registered from IP a: a phone
// of ours sends from there.
func (t *BindingTable) HasSource(a netip.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sources[a.Unmap()] > 0
}

// Lookup returns the bindings of aor, ordered by contact.
func (t *BindingTable) Lookup(aor string) []Binding {
	t.mu.Lock()
	defer t.mu.Unlock()
	return sortedBindings(t.byAOR[aor])
}

// All returns every binding, ordered by AOR then contact.
func (t *BindingTable) All() []Binding {
	t.mu.Lock()
	out := make([]Binding, 0, t.count)
	for _, set := range t.byAOR {
		for _, b := range set {
			out = append(out, *b)
		}
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].AOR != out[j].AOR {
			return out[i].AOR < out[j].AOR
		}
		return out[i].Contact < out[j].Contact
	})
	return out
}

// Len returns the number of bindings.
func (t *BindingTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count
}

// SetReachability records a qualify result; it reports whether the state changed.
func (t *BindingTable) SetReachability(aor, key string, r Reachability, rtt time.Duration, at time.Time) (Binding, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.byAOR[aor][key]
	if b == nil {
		return Binding{}, false
	}
	changed := b.Reachable != r
	b.Reachable, b.LastQualify = r, at
	if r == Reachable {
		b.RTT = rtt
	}
	return *b, changed
}

func sortedBindings(set map[string]*Binding) []Binding {
	out := make([]Binding, 0, len(set))
	for _, b := range set {
		out = append(out, *b)
	}
	if len(out) > 1 {
		slices.SortFunc(out, func(a, b Binding) int { return strings.Compare(a.Contact, b.Contact) })
	}
	return out
}
