package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"testing"
)

// BenchmarkServer measures requests through a real loopback socket on the
// file store: reads of an item and comments on one, from several clients
// at once (b.SetParallelism), over items picked at random. Run with
// -cpuprofile to see where a request's time goes; cmd/jerry-load measures
// the jerry serve process beside jerry processes.
func BenchmarkServer(b *testing.B) {
	const items = 100
	for _, clients := range []int{8, 32} {
		for _, op := range []string{"read", "write"} {
			b.Run(fmt.Sprintf("%s/clients=%d", op, clients), func(b *testing.B) {
				f := newFixture(b, "file")
				for i := range items {
					f.ok(http.StatusCreated, req{method: "POST", path: "/api/items", body: fmt.Sprintf(`{"title":"Item %d"}`, i)})
				}
				hc := client()
				b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						id := fmt.Sprintf("J-%d", 1+rand.IntN(items))
						rq := req{method: "GET", path: "/api/items/" + id}
						want := http.StatusOK
						if op == "write" {
							rq = req{method: "POST", path: "/api/items/" + id + "/comments", body: `{"text":"bench"}`}
						}
						r, err := f.send(hc, rq)
						if err != nil || r.status != want {
							b.Errorf("%s %s: %v %d %s", rq.method, rq.path, err, r.status, r.body)
							return
						}
					}
				})
			})
		}
	}
}
