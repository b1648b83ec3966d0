// Package storebench measures the registration writer: the SQLite cost of
// persisting binding refreshes, as a REGISTER load makes them (USERS
// extensions refreshing in turn, committed in batches).
//
//	go test ./bench/storebench -bench . -benchtime 40000x
package storebench

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchd/switchd/internal/store"
)

const users = 10000

func BenchmarkRegistrationRefresh(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "switchd.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range users {
		n := strconv.Itoa(100000 + i)
		if err := st.AddExtension(ctx, store.Extension{Number: n, Realm: "switchd", HA1MD5: "x", HA1SHA256: "y"}); err != nil {
			b.Fatal(err)
		}
	}
	reg := func(i int) store.RegistrationOp {
		n := strconv.Itoa(100000 + i%users)
		now := time.Now()
		return store.RegistrationOp{Reg: store.Registration{
			AOR: n, Key: "sip:" + n + "@127.0.0.1:5061;transport=udp", Contact: "sip:" + n + "@127.0.0.1:5061;transport=UDP",
			CallID: strconv.Itoa(i) + "-1234@127.0.0.1", CSeq: 2, Expires: now.Add(time.Hour),
			Source: "127.0.0.1:5061", Transport: "udp", Local: "127.0.0.1:5060", UserAgent: "sipp", Updated: now,
		}}
	}
	w := st.NewRegistrationWriter(50 * time.Millisecond)
	for i := range users { // every binding exists: what follows are refreshes
		w.Queue(reg(i))
	}
	w.Close()
	w = st.NewRegistrationWriter(50 * time.Millisecond)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Queue(reg(i))
	}
	w.Close()
}

// TestWriterRoundTrip checks that batched writes store exactly what was
// queued, in order, whatever the text: quotes, escapes, control
// characters, non-ASCII, invalid UTF-8 and NUL bytes, next to deletes,
// repeated keys and unknown extensions.
func TestWriterRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "switchd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, n := range []string{"1001", "1002", "1003"} {
		if err := st.AddExtension(ctx, store.Extension{Number: n, Realm: "switchd", HA1MD5: "x", HA1SHA256: "y"}); err != nil {
			t.Fatal(err)
		}
	}
	texts := []string{"", `quote " and \ backslash`, "tab\tnl\ncr\r\x01\x1f\x7f", "ünïcødé ☎ 𝄞", "bad \xff\xfe utf8", "nul \x00 byte",
		`\u0041 not an escape`, "</script>&amp;", "sip:1001@[2001:db8::1]:5060;transport=udp"}
	exp := time.UnixMilli(1_900_000_000_123)
	want := map[string]store.Registration{}
	var ops []store.RegistrationOp
	i := 0
	put := func(aor, key string) {
		r := store.Registration{AOR: aor, Key: key, Contact: texts[i%len(texts)], Instance: texts[(i+1)%len(texts)],
			Q: texts[(i+2)%len(texts)], RegID: i * 7, CallID: texts[(i+3)%len(texts)], CSeq: uint32(4_000_000_000 + i),
			Expires: exp.Add(time.Duration(i) * time.Millisecond), Source: texts[(i+4)%len(texts)], Transport: "udp",
			Local: texts[(i+5)%len(texts)], UserAgent: texts[(i+6)%len(texts)], Updated: exp.Add(-time.Duration(i) * time.Second)}
		i++
		ops = append(ops, store.RegistrationOp{Reg: r})
		if aor != "ghost" {
			want[aor+"/"+key] = r
		}
	}
	del := func(aor, key string) {
		ops = append(ops, store.RegistrationOp{Delete: true, Reg: store.Registration{AOR: aor, Key: key}})
		delete(want, aor+"/"+key)
	}
	for round := 0; round < 3; round++ {
		for _, aor := range []string{"1001", "1002", "1003", "ghost"} {
			for k := 0; k < len(texts); k++ {
				put(aor, "k"+strconv.Itoa(k))
			}
		}
		put("1001", "k1") // same key twice in a run: the last one wins
		del("1002", "k3")
		put("1003", "k0")
		del("1003", "k0")
		put("1002", "k3")
		del("1001", "k2")
	}
	w := st.NewRegistrationWriter(time.Hour) // one batch
	for _, op := range ops {
		w.Queue(op)
	}
	w.Close()
	got, err := st.Registrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d registrations stored, want %d", len(got), len(want))
	}
	for _, g := range got {
		w, ok := want[g.AOR+"/"+g.Key]
		if !ok {
			t.Fatalf("unexpected registration %s/%s", g.AOR, g.Key)
		}
		if !g.Expires.Equal(w.Expires) || !g.Updated.Equal(w.Updated) {
			t.Errorf("%s/%s: times %v %v, want %v %v", g.AOR, g.Key, g.Expires, g.Updated, w.Expires, w.Updated)
		}
		g.Expires, g.Updated, w.Expires, w.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if g != w {
			t.Errorf("%s/%s:\n got %#v\nwant %#v", g.AOR, g.Key, g, w)
		}
	}
}
