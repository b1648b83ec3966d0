package server

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/sip"
)

// TestCredentialCacheExtensionRouting: routing attributes are served from
// the cache like the digests, and dropped with them.
func TestCredentialCacheExtensionRouting(t *testing.T) {
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	ctx := t.Context()
	a := accounts.New(st, "switchd")
	want := ExtensionRouting{Class: store.ClassInternational, CallerID: "+862155550101", Privacy: true}
	if err := AddExtension(ctx, a, "1001", "Desk", "s3cret1", want); err != nil {
		t.Fatal(err)
	}
	if err := AddExtension(ctx, a, "1002", "", "s3cret2", ExtensionRouting{}); err != nil {
		t.Fatal(err)
	}
	c := newCredentialCache(st)
	if got, err := c.ExtensionRouting(ctx, "1001"); err != nil || got != want {
		t.Fatalf("1001: %+v %v, want %+v", got, err, want)
	}
	if got, err := c.ExtensionRouting(ctx, "1002"); err != nil || got != (ExtensionRouting{Class: store.ClassNational}) {
		t.Fatalf("1002 defaults: %+v %v", got, err)
	}
	if _, err := c.ExtensionRouting(ctx, "9999"); !errors.Is(err, sip.ErrUnknownUser) {
		t.Fatalf("unknown: %v", err)
	}
	if cr, err := c.Credentials(ctx, "1001"); err != nil || cr.HA1MD5 == "" {
		t.Fatalf("credentials beside routing: %+v %v", cr, err)
	}

	internal := store.ClassInternal
	if err := st.SetExtensionRouting(ctx, "1001", &internal, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.ExtensionRouting(ctx, "1001"); got != want {
		t.Fatalf("served %+v before invalidation; the cache should still hold %+v", got, want)
	}
	c.invalidate()
	want.Class = store.ClassInternal
	if got, err := c.ExtensionRouting(ctx, "1001"); err != nil || got != want {
		t.Fatalf("after invalidation: %+v %v, want %+v", got, err, want)
	}
}

// TestAddExtensionChecksBeforeWriting: a bad class or caller ID leaves no
// extension behind.
func TestAddExtensionChecksBeforeWriting(t *testing.T) {
	st := openTestStore(t, filepath.Join(t.TempDir(), "switchd.db"))
	ctx := t.Context()
	a := accounts.New(st, "switchd")
	for _, r := range []ExtensionRouting{{Class: "premium"}, {CallerID: "021555501"}} {
		err := AddExtension(ctx, a, "1001", "", "s3cret1", r)
		if !errors.Is(err, store.ErrInvalidClass) && !errors.Is(err, store.ErrInvalidCallerID) {
			t.Fatalf("%+v: %v", r, err)
		}
		if _, err := st.Extension(ctx, "1001"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%+v: extension written: %v", r, err)
		}
	}
	if err := AddExtension(ctx, a, "1001", "", "1001", ExtensionRouting{}); !errors.Is(err, accounts.ErrWeakPassword) {
		t.Fatalf("weak password: %v", err)
	}
}
