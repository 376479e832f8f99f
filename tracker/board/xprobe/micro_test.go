package xprobe

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestMicro(t *testing.T) {
	if os.Getenv("PROBE_MICRO") == "" {
		t.Skip()
	}
	ctx := context.Background()
	path := t.TempDir() + "/m.db"
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode("+os.Getenv("JM")+")&_pragma=synchronous(OFF)&_pragma=cache_size(-200000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE feed (pos INTEGER PRIMARY KEY, time INTEGER NOT NULL, at INTEGER NOT NULL, stream TEXT NOT NULL, version INTEGER NOT NULL, actor TEXT NOT NULL, type TEXT NOT NULL, summary TEXT NOT NULL, book INTEGER NOT NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	const N = 1000000
	per := 100
	one := "(?,?,?,?,?,?,?,?,?)"
	q := "INSERT INTO feed VALUES " + one + strings.Repeat(","+one, per-1)
	start := time.Now()
	tx, _ := db.BeginTx(ctx, nil)
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, 0, per*9)
	for i := 1; i <= N; i++ {
		args = append(args, i, 1700000000000000+i*36000000, 1700000000000000+i*36000000, fmt.Sprintf("workitem-J-%d", i/10), i%10+1, "alice", "workitem.commented", "commented: notes on the billing part", 0)
		if len(args) == per*9 {
			if _, err := st.ExecContext(ctx, args...); err != nil {
				t.Fatal(err)
			}
			args = args[:0]
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("insert %d: %v", N, time.Since(start))
	for _, ix := range []string{"CREATE INDEX a ON feed(time)", "CREATE INDEX b ON feed(stream, pos)", "CREATE INDEX c ON feed(actor, pos)", "CREATE INDEX d ON feed(type,pos)"} {
		start = time.Now()
		if _, err := db.Exec(ix); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v", ix, time.Since(start))
	}
	fi, _ := os.Stat(path)
	t.Logf("size %d", fi.Size())
}
