package jsonfile_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "jerry-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := jsonfile.Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	recs, err := s.Append(ctx, "item-1", es.NoStream, []es.Event{
		{Type: "ItemCreated", Data: []byte(`{"title":"Write the docs"}`)},
		{Type: "ItemStarted", Data: []byte(`{}`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored versions", recs[0].Version, "to", recs[1].Version)

	// A writer that loaded version 1 and saves now loses the race.
	_, err = s.Append(ctx, "item-1", es.Exact(1), []es.Event{{Type: "ItemDone", Data: []byte(`{}`)}})
	fmt.Println("stale write is a conflict:", errors.Is(err, es.ErrConcurrency))

	for r, err := range s.ReadStream(ctx, "item-1", 1, 0) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.Version, r.Type, string(r.Data))
	}
	rep, err := s.Verify(ctx)
	fmt.Println(rep.Events, "events, verify error:", err)
	// Output:
	// stored versions 1 to 2
	// stale write is a conflict: true
	// 1 ItemCreated {"title":"Write the docs"}
	// 2 ItemStarted {}
	// 2 events, verify error: <nil>
}
