package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// TestQueryExecModes runs a store made by New on pools in each of pgx's query
// modes: the simple protocol and QueryExecModeExec are what a pool behind
// PgBouncer in transaction mode uses.
func TestQueryExecModes(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		cfg, _ := pgxpool.ParseConfig(testDSN(t))
		cfg.ConnConfig.DefaultQueryExecMode = mode
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s, err := postgres.New(ctx, pool, postgres.WithSchema(newSchema(t)))
		if err != nil {
			t.Fatal(mode, err)
		}
		in := []es.Event{{Type: "x", Data: json.RawMessage(`{"a":1}`), Metadata: es.Metadata{Actor: "me", Extra: map[string]string{"k": "v"}}, Time: time.Date(1990, 1, 2, 3, 4, 5, 6000, time.UTC)}, ev("y", `2`)}
		recs, err := s.Append(ctx, "a", es.NoStream, in)
		if err != nil {
			t.Error(mode, "append many", err)
		}
		if _, err := s.Append(ctx, "a", es.Any, in[:1]); err != nil {
			t.Error(mode, "append one", err)
		}
		got, err := es.Collect(s.ReadStream(ctx, "a", 1, 0))
		if err != nil || len(got) != 3 {
			t.Error(mode, "read", err, len(got))
		} else if len(recs) == 2 && (got[0].ID != recs[0].ID || !got[0].Time.Equal(recs[0].Time) || got[0].Metadata.Extra["k"] != "v" || string(got[0].Data) != `{"a":1}`) {
			t.Errorf("%v: %+v vs %+v", mode, got[0], recs[0])
		}
		s.Close()
		pool.Close()
	}
}
