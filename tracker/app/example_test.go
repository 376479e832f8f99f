package app_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

func ExampleService() {
	st := memstore.New()
	s := app.New(st, st, st)
	defer s.Close()
	ctx := es.WithMetadata(context.Background(), es.Metadata{Actor: "alice"})

	bug, _ := s.Create(ctx, tracker.NewItem{Title: "Fix the login timeout", Type: tracker.Bug, Priority: tracker.High})
	doc, _ := s.Create(ctx, tracker.NewItem{Title: "Write the migration guide"})
	s.Block(ctx, doc.State.ID, bug.State.ID, es.Any)
	// Claim it for an hour after alice's last write, and start it, in one
	// append.
	s.Claim(ctx, bug.State.ID, app.ClaimOptions{Lease: time.Hour, Start: true}, es.Any)

	// Another agent cannot take it while the claim holds.
	_, err := s.Claim(es.WithMetadata(ctx, es.Metadata{Actor: "bob"}), bug.State.ID, app.ClaimOptions{}, es.Any)
	var held *tracker.ClaimedError
	if errors.As(err, &held) {
		fmt.Println("held by", held.Holder, "for", held.ExpiresAt.Sub(held.Since).Round(time.Minute))
	}

	history, _ := s.History(ctx, bug.State.ID)
	for _, e := range history {
		fmt.Println(e.Record.Version, e.Record.Metadata.Actor, e.Summary)
	}
	ready, _ := s.Ready(ctx, 0)
	fmt.Println("ready:", len(ready))
	// Output:
	// held by alice for 1h0m0s
	// 1 alice created "Fix the login timeout" (bug, high)
	// 2 alice claimed by alice
	// 3 alice status backlog -> in_progress (picked up)
	// ready: 0
}
