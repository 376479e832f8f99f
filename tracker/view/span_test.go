package view_test

import (
	"fmt"
	"time"

	"github.com/jerry-es/jerry/tracker/view"
)

func ExampleSpan() {
	for _, d := range []time.Duration{76 * time.Hour, 5*time.Hour + 12*time.Minute, 250 * time.Second, 1500 * time.Millisecond} {
		fmt.Println(view.Span(d))
	}
	// Output:
	// 3d 4h
	// 5h 12m
	// 4m 10s
	// 1.5s
}
