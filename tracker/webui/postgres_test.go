package webui_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/internal/pgtest"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/webui"
)

// On a PostgreSQL store, /live tells of a write made through another
// connection (as another process would), woken by LISTEN/NOTIFY.
func TestLivePostgres(t *testing.T) {
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	open := func() *app.Service {
		st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		svc := app.New(st, st, st)
		t.Cleanup(func() { svc.Close(); st.Close() })
		return svc
	}
	page, other := open(), open()
	if _, err := other.Create(ctxActor("ann"), tracker.NewItem{Title: "first"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webui.Handler(page, webui.Options{}))
	defer srv.Close()
	code, body := get(t, srv, "/")
	if code != http.StatusOK || !strings.Contains(body, `id="card-J-1"`) {
		t.Fatalf("GET /: %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/live?from=3", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ids := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
				ids <- id
			}
		}
	}()
	if _, err := other.ChangeStatus(ctxActor("bob"), "J-1", tracker.Ready, "", es.Any); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	select {
	case id := <-ids:
		if id != "3" {
			t.Fatalf("id %s, want 3", id)
		}
		t.Logf("told %v after the write returned", time.Since(written).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("no event on /live in 10 s")
	}
	if _, body := get(t, srv, "/board?status=ready"); !strings.Contains(body, `id="card-J-1"`) {
		t.Error("the board does not show the other connection's write")
	}
}
