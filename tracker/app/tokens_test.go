package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker/app"
)

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		have, need app.Role
		ok         bool
	}{
		{app.RoleRead, app.RoleRead, true}, {app.RoleRead, app.RoleWrite, false}, {app.RoleWrite, app.RoleWrite, true},
		{app.RoleWrite, app.RoleAdmin, false}, {app.RoleAdmin, app.RoleWrite, true}, {"", app.RoleRead, false}, {app.RoleAdmin, "", false},
	} {
		if got := tc.have.Allows(tc.need); got != tc.ok {
			t.Errorf("%q allows %q: %v, want %v", tc.have, tc.need, got, tc.ok)
		}
	}
	if r, err := app.ParseRole(" Write "); err != nil || r != app.RoleWrite {
		t.Errorf("ParseRole(Write): %v %v", r, err)
	}
	if _, err := app.ParseRole("root"); !errors.Is(err, es.ErrInvalidInput) {
		t.Errorf("ParseRole(root): %v", err)
	}
}

// A token authenticates as its actor until it is revoked; only its hash is
// stored; bad input and unknown tokens are refused.
func TestTokens(t *testing.T) {
	st := memstore.New()
	s := newApp(t, st, st, st)
	defer s.Close()
	ctx := es.WithMetadata(context.Background(), es.Metadata{Actor: "admin-user"})
	if has, err := s.HasTokens(ctx); err != nil || has {
		t.Fatalf("HasTokens on an empty store: %v %v", has, err)
	}
	tok, secret, err := s.CreateToken(ctx, "ci-agent", app.RoleWrite)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "jerry_") || len(secret) < 40 || tok.Actor != "ci-agent" || tok.CreatedBy != "admin-user" {
		t.Fatalf("token %+v, secret %q", tok, secret)
	}
	for rec, err := range st.ReadLog(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(rec.Data), secret) || strings.Contains(string(rec.Data), secret[6:]) {
			t.Fatalf("the secret is stored: %s", rec.Data)
		}
	}
	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Actor != "ci-agent" || got.Role != app.RoleWrite {
		t.Fatalf("Authenticate: %+v %v", got, err)
	}
	if _, err := s.Authenticate(ctx, secret+"x"); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("a wrong secret: %v", err)
	}
	if _, err := s.RevokeToken(ctx, "T-000000000000"); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("revoke an unknown token: %v", err)
	}
	rev, err := s.RevokeToken(ctx, tok.ID)
	if err != nil || rev.Active() {
		t.Fatalf("revoke: %+v %v", rev, err)
	}
	// A second Service (another process) sees the revocation at once; this
	// one within its cache time.
	other := newApp(t, st, st, st)
	defer other.Close()
	if _, err := other.Authenticate(ctx, secret); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("a revoked token in another service: %v", err)
	}
	toks, err := s.Tokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].Active() {
		t.Fatalf("Tokens: %+v %v", toks, err)
	}
	for _, bad := range []struct {
		actor string
		role  app.Role
	}{{"", app.RoleRead}, {"a\nb", app.RoleRead}, {strings.Repeat("a", 101), app.RoleRead}, {"ok", "root"}} {
		if _, _, err := s.CreateToken(ctx, bad.actor, bad.role); !errors.Is(err, es.ErrInvalidInput) {
			t.Errorf("CreateToken(%q, %q): %v", bad.actor, bad.role, err)
		}
	}
}
