package memstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
)

func ExampleStore() {
	ctx := context.Background()
	store := memstore.New()

	placed := es.Event{ID: es.NewEventID(), Type: "OrderPlaced", Data: []byte(`{"total":42}`)}
	recs, err := store.Append(ctx, "order-1", es.NoStream, []es.Event{placed})
	if err != nil {
		panic(err)
	}
	fmt.Println("stored at version", recs[0].Version, "position", recs[0].Position)

	// A second writer that expected a new stream loses.
	_, err = store.Append(ctx, "order-1", es.NoStream, []es.Event{{Type: "OrderPlaced", Data: []byte(`{}`)}})
	var conflict *es.ConcurrencyError
	if errors.As(err, &conflict) {
		fmt.Println("conflict: expected", conflict.Expected, "actual", conflict.Actual)
	}

	// Retrying the first append, after a timeout say, stores nothing twice.
	again, err := store.Append(ctx, "order-1", es.NoStream, []es.Event{placed})
	fmt.Println("retry:", err, "same record:", again[0].ID == recs[0].ID)

	for r, err := range store.ReadStream(ctx, "order-1", 1, 0) {
		if err != nil {
			panic(err)
		}
		fmt.Println(r.Version, r.Type, string(r.Data))
	}
	// Output:
	// stored at version 1 position 1
	// conflict: expected no stream actual 1
	// retry: <nil> same record: true
	// 1 OrderPlaced {"total":42}
}
