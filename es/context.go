package es

import "context"

type metadataKey struct{}

// WithMetadata returns a context that carries m; a [Repository] stores it on
// every event it saves with that context. It describes the request (who acts,
// what it correlates with), which is why it travels in the context rather than
// in each command's arguments.
func WithMetadata(ctx context.Context, m Metadata) context.Context {
	return context.WithValue(ctx, metadataKey{}, m)
}

// MetadataFrom returns the metadata carried by ctx, if any.
func MetadataFrom(ctx context.Context) Metadata {
	m, _ := ctx.Value(metadataKey{}).(Metadata)
	return m
}
