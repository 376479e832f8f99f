package xprobe

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMicro2(t *testing.T) {
	if os.Getenv("PROBE_MICRO") == "" {
		t.Skip()
	}
	ctx := context.Background()
	path := t.TempDir() + "/m.db"
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-200000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE f (pos INTEGER PRIMARY KEY, time INTEGER NOT NULL, a INTEGER NOT NULL, b INTEGER NOT NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	const N = 1000000
	for _, per := range []int{1, 100} {
		db.Exec("DELETE FROM f")
		one := "(?,?,?,?)"
		q := "INSERT INTO f VALUES " + one + strings.Repeat(","+one, per-1)
		start := time.Now()
		tx, _ := db.BeginTx(ctx, nil)
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		args := make([]any, 0, per*4)
		for i := 1; i <= N; i++ {
			args = append(args, int64(i), int64(1700000000000000+i*36000000), int64(i%8), int64(i%20))
			if len(args) == per*4 {
				if _, err := st.ExecContext(ctx, args...); err != nil {
					t.Fatal(err)
				}
				args = args[:0]
			}
		}
		tx.Commit()
		t.Logf("per %d insert %d narrow: %v", per, N, time.Since(start))
	}
}
