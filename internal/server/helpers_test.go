package server

import (
	"testing"

	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/store"
)

func openTestStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func addExtension(t *testing.T, st *store.Store, realm, number, password string) {
	t.Helper()
	if err := accounts.New(st, realm).Add(t.Context(), number, "", password); err != nil {
		t.Fatal(err)
	}
}
