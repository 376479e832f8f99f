package pgtest_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/internal/pgtest"
)

func exists(t *testing.T, dsn, schema string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestSchemaDroppedAtEnd creates the schema a subtest gets, and checks that
// it is gone once the subtest has ended.
func TestSchemaDroppedAtEnd(t *testing.T) {
	dsn := pgtest.DSN(t)
	var name string
	t.Run("inner", func(t *testing.T) {
		name = pgtest.Schema(t)
		if exists(t, dsn, name) {
			t.Fatalf("schema %s exists before anyone made it", name)
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()+"; CREATE TABLE "+pgx.Identifier{name, "t"}.Sanitize()+" (x int)"); err != nil {
			t.Fatal(err)
		}
	})
	if exists(t, dsn, name) {
		t.Fatalf("schema %s left behind", name)
	}
}

// TestURLSetsSearchPath checks that a connection made with URL's string
// has the schema as its search_path.
func TestURLSetsSearchPath(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t, "some_schema"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("search_path"); got != "some_schema" {
		t.Fatalf("search_path %q in %s", got, u)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var sp string
	if err := conn.QueryRow(ctx, "SHOW search_path").Scan(&sp); err != nil || sp != "some_schema" {
		t.Fatalf("search_path on the connection: %q, %v", sp, err)
	}
}
