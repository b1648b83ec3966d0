package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Token is an API credential. Only the hash of its secret is stored.
type Token struct {
	Name string
	Role string
}

// NewTokenSecret returns a fresh random token secret.
func NewTokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	return "swd_" + base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken stores a token under name (replacing one of the same name).
func (s *Store) CreateToken(ctx context.Context, name, role, secret string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_tokens(name, token_hash, role, created_at) VALUES (?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET token_hash=excluded.token_hash, role=excluded.role, created_at=excluded.created_at`,
		name, hashToken(secret), role, ms(s.now()))
	if err != nil {
		return fmt.Errorf("store: create token %s: %w", name, err)
	}
	return nil
}

// TokenBySecret finds the token with this secret; ErrNotFound if none.
func (s *Store) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	var t Token
	err := s.r.QueryRowContext(ctx, `SELECT name, role FROM api_tokens WHERE token_hash=?`, hashToken(secret)).Scan(&t.Name, &t.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: token: %w", err)
	}
	return t, nil
}

// TokenCount returns how many tokens exist.
func (s *Store) TokenCount(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: tokens: %w", err)
	}
	return n, nil
}

// Tokens lists the API users (tokens by name; never their secrets).
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, role FROM api_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.Name, &t.Role); err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RemoveToken deletes the API user name; ErrNotFound if there is none.
func (s *Store) RemoveToken(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM api_tokens WHERE name=?`, name)
	return affectedOne(res, err, "token "+name)
}
