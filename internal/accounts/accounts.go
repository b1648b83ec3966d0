// Package accounts manages extensions (phone accounts): it turns passwords
// into the HA1 digests the registrar checks, so the CLI and the API share
// one implementation and no password is ever stored.
package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/sip/digest"
)

// ErrWeakPassword is returned for passwords too easy to guess.
var ErrWeakPassword = errors.New("accounts: password too weak")

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 6

// Service manages extensions for one realm.
type Service struct {
	store *store.Store
	realm string
}

// New returns a service storing digests for realm.
func New(s *store.Store, realm string) *Service { return &Service{store: s, realm: realm} }

// CheckPassword rejects passwords that invite toll fraud.
func CheckPassword(number, password string) error {
	switch {
	case len(password) < MinPasswordLen:
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLen)
	case password == number:
		return fmt.Errorf("%w: it must not equal the extension number", ErrWeakPassword)
	}
	return nil
}

func (s *Service) digests(number, password string) (md5, sha string) {
	return digest.HA1(digest.MD5, number, s.realm, password), digest.HA1(digest.SHA256, number, s.realm, password)
}

// Add creates an extension with a password.
func (s *Service) Add(ctx context.Context, number, name, password string) error {
	return s.AddExtension(ctx, store.Extension{Number: number, Name: name}, password)
}

// AddExtension creates extension e (its number, name and routing
// attributes; the digests come from password) in one write: the store
// checks the attributes, so a refused one leaves nothing behind.
func (s *Service) AddExtension(ctx context.Context, e store.Extension, password string) error {
	if err := store.ValidNumber(e.Number); err != nil {
		return err
	}
	if err := CheckPassword(e.Number, password); err != nil {
		return err
	}
	e.Realm = s.realm
	e.HA1MD5, e.HA1SHA256 = s.digests(e.Number, password)
	return s.store.AddExtension(ctx, e)
}

// SetPassword replaces the digests of an extension (also re-keys it to the current realm).
func (s *Service) SetPassword(ctx context.Context, number, password string) error {
	if err := CheckPassword(number, password); err != nil {
		return err
	}
	md5, sha := s.digests(number, password)
	return s.store.SetDigests(ctx, number, s.realm, md5, sha)
}

// Remove deletes an extension (and its persisted bindings).
func (s *Service) Remove(ctx context.Context, number string) error {
	return s.store.RemoveExtension(ctx, number)
}

// List returns every extension.
func (s *Service) List(ctx context.Context) ([]store.Extension, error) {
	return s.store.Extensions(ctx)
}
