package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// dropLater drops schema when the test ends.
func dropLater(t *testing.T, schema string) {
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, testDSN(t))
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
}

// TestQuotedSearchPath reads the store's schema from search_paths that
// quote names, as PostgreSQL's own default ("$user", public) does.
func TestQuotedSearchPath(t *testing.T) {
	ctx := context.Background()
	existing := newSchema(t)
	conn, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{existing}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	withComma := newSchema(t) + ",Two"
	dropLater(t, withComma)
	// PostgreSQL folds only ASCII letters of unquoted names in UTF-8.
	nonASCII := newSchema(t) + "_Ä"
	dropLater(t, nonASCII)
	for _, c := range []struct{ path, want string }{
		// "$user" is PostgreSQL's placeholder, quoted or not: the store
		// then uses the connection's current schema.
		{`"$user", ` + existing, existing},
		{`"` + withComma + `", public`, withComma},
		{strings.ToUpper(nonASCII), nonASCII},
	} {
		sep := "?"
		if strings.Contains(testDSN(t), "?") {
			sep = "&"
		}
		s, err := postgres.Open(ctx, testDSN(t)+sep+"search_path="+strings.ReplaceAll(url.QueryEscape(c.path), "+", "%20"))
		if err != nil {
			t.Errorf("search_path %s: %v", c.path, err)
			continue
		}
		got := s.Schema()
		if got != c.want {
			dropLater(t, got)
			t.Errorf("search_path %s: schema %q, want %q", c.path, got, c.want)
		} else if _, err := s.Append(ctx, "a", es.Any, []es.Event{ev("x", `1`)}); err != nil {
			t.Errorf("search_path %s: append: %v", c.path, err)
		}
		s.Close()
	}
}

// TestLongSchemaNames opens two stores on schema names that differ only
// past PostgreSQL's 63-byte limit on names, so that both name the same
// schema: each must be woken by the other's appends, as stores on one
// schema are.
func TestLongSchemaNames(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	long := newSchema(t) + "_" + strings.Repeat("x", 63)
	dropLater(t, long)
	a, err := postgres.Open(ctx, testDSN(t), postgres.WithSchema(long+"_a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, testDSN(t), postgres.WithSchema(long+"_b"), postgres.WithPollInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Schema() != b.Schema() {
		t.Errorf("schemas %q and %q, which PostgreSQL takes for one", a.Schema(), b.Schema())
	}
	got := make(chan es.Record)
	go func() {
		for r, err := range b.Subscribe(ctx, 1) {
			if err != nil {
				return
			}
			got <- r
		}
	}()
	for v := range int64(2) {
		// The first event may be read without a wake-up; the second,
		// appended once the subscription has caught up, needs one.
		if _, err := a.Append(ctx, "s", es.Exact(v), []es.Event{ev("x", `1`)}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatalf("the subscription on the other name of the schema never saw event %d", v+1)
		}
	}
}
