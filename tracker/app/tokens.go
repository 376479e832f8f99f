package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jerry-es/jerry/es"
)

// API tokens: who may use jerry over HTTP, as whom, and for what.
//
// Tokens are events in one bookkeeping stream, TokenStream, rather than a
// table or file of their own. That needs no new code in any store adapter
// (the file store, PostgreSQL and NATS hold them as they hold everything),
// a token created by `jerry token create` in one process is seen by a
// server running in another (it reads the stream), every creation and
// revocation keeps who did it and when, and export and import carry them.
// The secret is never stored: only its SHA-256, which for a 256-bit random
// secret cannot be turned back into it.

// TokenStream is the bookkeeping stream that holds API tokens.
const TokenStream = "jerry-tokens"

// Event type names of the token stream.
const (
	EvTokenCreated = "access.token_created"
	EvTokenRevoked = "access.token_revoked"
)

// tokenPrefix begins every secret, so that one is recognised where it
// leaks (a log, a commit).
const tokenPrefix = "jerry_"

// tokenCacheTTL is how long a server trusts the tokens it read: a token
// revoked in another process stops working within this time.
const tokenCacheTTL = 500 * time.Millisecond

// Role is what a token may do.
type Role string

// The roles, each allowing what the one before it does and more.
const (
	// RoleRead reads: items, the log, history, search.
	RoleRead Role = "read"
	// RoleWrite also writes as the token's actor.
	RoleWrite Role = "write"
	// RoleAdmin also forces writes past claims, blockers and open members.
	RoleAdmin Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case RoleRead:
		return 1
	case RoleWrite:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a holder of role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() && need.rank() > 0 }

// ParseRole reads a role: read, write or admin.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.rank() == 0 {
		return "", fmt.Errorf("%w: role %q: want read, write or admin", es.ErrInvalidInput, s)
	}
	return r, nil
}

// TokenCreated records a new API token: its ID, the actor every event
// written with it records, its role, and the SHA-256 of its secret.
type TokenCreated struct {
	ID    string `json:"id"`
	Actor string `json:"actor"`
	Role  Role   `json:"role"`
	Hash  string `json:"hash"`
}

// TokenRevoked records that a token no longer works.
type TokenRevoked struct {
	ID string `json:"id"`
}

// Token is an API token as `jerry token list` shows it: never its secret.
type Token struct {
	ID    string
	Actor string
	Role  Role
	// Created is when it was made, and CreatedBy who made it.
	Created   time.Time
	CreatedBy string
	// Revoked is when it was revoked; zero while it works.
	Revoked time.Time

	hash [sha256.Size]byte
}

// Active reports whether the token works.
func (t Token) Active() bool { return t.Revoked.IsZero() }

// ErrUnauthorized means a token that is unknown or revoked.
var ErrUnauthorized = errors.New("unknown or revoked token")

func registerBookkeeping(reg *es.Registry) {
	es.Register[TokenCreated](reg, EvTokenCreated, 1)
	es.Register[TokenRevoked](reg, EvTokenRevoked, 1)
	es.Register[RequestStarted](reg, EvRequestStarted, 1)
	es.Register[RequestFinished](reg, EvRequestFinished, 1)
}

// tokenCache is the tokens as a server last read them.
type tokenCache struct {
	mu      sync.Mutex
	read    time.Time
	version int64
	tokens  []Token
}

// CreateToken makes a token for actor with role, and returns it with its
// secret, which is shown this once and stored nowhere.
func (s *Service) CreateToken(ctx context.Context, actor string, role Role) (Token, string, error) {
	actor = strings.TrimSpace(actor)
	if actor == "" || len(actor) > 100 || strings.ContainsFunc(actor, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return Token{}, "", fmt.Errorf("%w: token actor %q: want 1 to 100 printable characters", es.ErrInvalidInput, actor)
	}
	role, err := ParseRole(string(role))
	if err != nil {
		return Token{}, "", err
	}
	var raw [32]byte
	var idb [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", err
	}
	if _, err := rand.Read(idb[:]); err != nil {
		return Token{}, "", err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(secret))
	ev := TokenCreated{ID: "T-" + hex.EncodeToString(idb[:]), Actor: actor, Role: role, Hash: hex.EncodeToString(sum[:])}
	recs, err := s.appendBookkeeping(ctx, TokenStream, es.Any, ev)
	if err != nil {
		return Token{}, "", err
	}
	return Token{ID: ev.ID, Actor: actor, Role: role, Created: recs[0].Time, CreatedBy: recs[0].Metadata.Actor, hash: sum}, secret, nil
}

// RevokeToken makes token id stop working. Revoking a revoked token
// records nothing; an unknown one is a *NotFoundError.
func (s *Service) RevokeToken(ctx context.Context, id string) (Token, error) {
	for {
		toks, version, err := s.readTokens(ctx)
		if err != nil {
			return Token{}, err
		}
		i := indexToken(toks, strings.TrimSpace(id))
		if i < 0 {
			return Token{}, &NotFoundError{Kind: "token", ID: id}
		}
		if !toks[i].Active() {
			return toks[i], nil
		}
		recs, err := s.appendBookkeeping(ctx, TokenStream, es.Exact(version), TokenRevoked{ID: toks[i].ID})
		if errors.Is(err, es.ErrConcurrency) {
			continue // another token was made or revoked meanwhile: look again
		}
		if err != nil {
			return Token{}, err
		}
		t := toks[i]
		t.Revoked = recs[0].Time
		return t, nil
	}
}

func indexToken(toks []Token, id string) int {
	for i, t := range toks {
		if t.ID == id {
			return i
		}
	}
	return -1
}

// Tokens returns every token, revoked ones included, oldest first.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) {
	toks, _, err := s.readTokens(ctx)
	return toks, err
}

// HasTokens reports whether any token works.
func (s *Service) HasTokens(ctx context.Context) (bool, error) {
	toks, err := s.Tokens(ctx)
	for _, t := range toks {
		if t.Active() {
			return true, err
		}
	}
	return false, err
}

// Authenticate returns the working token whose secret is secret, or
// ErrUnauthorized. It reads the tokens at most every half second, so a
// token created or revoked by another process counts within that time.
func (s *Service) Authenticate(ctx context.Context, secret string) (Token, error) {
	c := &s.tokens
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.read) > tokenCacheTTL {
		v, err := s.events.StreamVersion(ctx, TokenStream)
		if err != nil {
			return Token{}, err
		}
		if v != c.version || c.read.IsZero() {
			toks, version, err := s.readTokens(ctx)
			if err != nil {
				return Token{}, err
			}
			c.tokens, c.version = toks, version
		}
		c.read = time.Now()
	}
	sum := sha256.Sum256([]byte(secret))
	for _, t := range c.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.hash[:]) == 1 && t.Active() {
			return t, nil
		}
	}
	return Token{}, ErrUnauthorized
}

// readTokens folds the token stream, and returns its version.
func (s *Service) readTokens(ctx context.Context) ([]Token, int64, error) {
	var toks []Token
	var version int64
	for rec, err := range s.events.ReadStream(ctx, TokenStream, 1, 0) {
		if err != nil {
			return nil, 0, err
		}
		version = rec.Version
		data, err := s.reg.Decode(rec)
		if err != nil {
			return nil, 0, err
		}
		switch d := data.(type) {
		case TokenCreated:
			t := Token{ID: d.ID, Actor: d.Actor, Role: d.Role, Created: rec.Time, CreatedBy: rec.Metadata.Actor}
			if b, err := hex.DecodeString(d.Hash); err == nil && len(b) == sha256.Size {
				copy(t.hash[:], b)
			} else {
				t.Revoked = rec.Time // a hash that cannot match: never works
			}
			toks = append(toks, t)
		case TokenRevoked:
			if i := indexToken(toks, d.ID); i >= 0 {
				toks[i].Revoked = rec.Time
			}
		}
	}
	return toks, version, nil
}

// appendBookkeeping appends one event of the service's own to stream, with
// the actor of ctx.
func (s *Service) appendBookkeeping(ctx context.Context, stream string, expected es.ExpectedVersion, data any) ([]es.Record, error) {
	ev, err := s.reg.Encode(data)
	if err != nil {
		return nil, err
	}
	ev.Metadata = es.MetadataFrom(ctx)
	return s.events.Append(ctx, stream, expected, []es.Event{ev})
}
