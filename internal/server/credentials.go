package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/switchd/switchd/call"
	"github.com/switchd/switchd/internal/store"
	"github.com/switchd/switchd/sip"
)

// credentialCache serves digests to the registrar, and the outbound
// routing attributes of extensions to call routing, from memory. It is
// emptied when the extensions table changes — also when the CLI changes it
// directly in the database while the switch runs (see watchExtensions).
type credentialCache struct {
	st *store.Store
	mu sync.RWMutex
	m  map[string]credEntry
}

type credEntry struct {
	c       sip.Credentials
	name    string
	routing ExtensionRouting
	ok      bool
}

// ExtensionRouting is what outbound routing needs to know about the
// extension that places a call.
type ExtensionRouting struct {
	Class    string // outbound permission class: store.ClassInternal, ClassNational or ClassInternational
	CallerID string // the extension's own outside number (E.164); "" for none
	Privacy  bool   // withhold the caller ID on outside calls (RFC 3325 §9.3 Privacy: id)
}

// maxCredEntries bounds the cache (unknown user names sprayed by an attacker are cached too).
const maxCredEntries = 100_000

var (
	_ sip.CredentialStore = (*credentialCache)(nil)
	_ sip.Directory       = (*credentialCache)(nil)
)

func newCredentialCache(st *store.Store) *credentialCache {
	return &credentialCache{st: st, m: make(map[string]credEntry)}
}

// Credentials implements sip.CredentialStore.
func (c *credentialCache) Credentials(ctx context.Context, user string) (sip.Credentials, error) {
	e, err := c.entry(ctx, user)
	if err != nil {
		return sip.Credentials{}, err
	}
	return e.c, nil
}

// Extension implements sip.Directory.
func (c *credentialCache) Extension(ctx context.Context, number string) (call.Party, error) {
	e, err := c.entry(ctx, number)
	if err != nil {
		return call.Party{}, err
	}
	return call.Party{Number: number, Name: e.name}, nil
}

// ExtensionRouting returns the outbound routing attributes of extension
// number; sip.ErrUnknownUser if there is no such extension.
func (c *credentialCache) ExtensionRouting(ctx context.Context, number string) (ExtensionRouting, error) {
	e, err := c.entry(ctx, number)
	if err != nil {
		return ExtensionRouting{}, err
	}
	return e.routing, nil
}

func (c *credentialCache) entry(ctx context.Context, user string) (credEntry, error) {
	c.mu.RLock()
	e, hit := c.m[user]
	c.mu.RUnlock()
	if !hit {
		ext, err := c.st.Extension(ctx, user)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return credEntry{}, err
		default:
			e = credEntry{
				c: sip.Credentials{Realm: ext.Realm, HA1MD5: ext.HA1MD5, HA1SHA256: ext.HA1SHA256}, name: ext.Name,
				routing: ExtensionRouting{Class: ext.Class, CallerID: ext.CallerID, Privacy: ext.Privacy}, ok: true,
			}
		}
		c.mu.Lock()
		if len(c.m) >= maxCredEntries {
			clear(c.m)
		}
		c.m[user] = e
		c.mu.Unlock()
	}
	if !e.ok {
		return credEntry{}, sip.ErrUnknownUser
	}
	return e, nil
}

func (c *credentialCache) invalidate() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// watchExtensions notices changes to the extensions table made by anyone
// (API or CLI in another process): it drops cached digests and routing
// attributes, and the bindings of extensions that no longer exist.
func (s *Server) watchExtensions(ctx context.Context, every time.Duration) {
	w, err := s.store.WatchDataVersion(ctx)
	if err != nil {
		s.log.Error("extension_watch_failed", "error", err)
		return
	}
	defer w.Close()
	last, _ := s.store.ExtensionsFingerprint(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := w.Changed(ctx)
		if err != nil || !changed {
			continue
		}
		fp, err := s.store.ExtensionsFingerprint(ctx)
		if err != nil || fp == last {
			continue
		}
		last = fp
		s.extensionsChanged(ctx)
	}
}

// extensionsChanged drops cached digests and routing attributes and purges
// bindings of removed extensions.
func (s *Server) extensionsChanged(ctx context.Context) {
	s.creds.invalidate()
	exts, err := s.store.Extensions(ctx)
	if err != nil {
		s.log.Error("extension_reload_failed", "error", err)
		return
	}
	exist := make(map[string]bool, len(exts))
	for _, e := range exts {
		exist[e.Number] = true
	}
	table := s.sip.Registrar().Table()
	seen := map[string]bool{}
	for _, b := range table.All() {
		if !exist[b.AOR] && !seen[b.AOR] {
			seen[b.AOR] = true
			s.sip.Registrar().LogChanges(table.Purge(b.AOR))
		}
	}
	s.log.Info("extensions_reloaded", "extensions", len(exts))
}
