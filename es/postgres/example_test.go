package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// Open a store in its own schema, append to a stream, and read the global
// log. (Not run by go test: it needs a server; see JERRY_TEST_POSTGRES.)
func ExampleOpen() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("JERRY_STORE_DSN"), postgres.WithSchema("jerry"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	recs, err := store.Append(ctx, "item-42", es.NoStream, []es.Event{
		{Type: "WorkItemCreated", Data: json.RawMessage(`{"title":"Fix the login page"}`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored at position", recs[0].Position)

	for r, err := range store.ReadLog(ctx, 1) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Position, r.Stream, r.Version, r.Type)
	}
}
