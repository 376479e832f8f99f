package memstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/jerry-es/jerry/es"
)

var _ es.ModelStore = (*Models)(nil)

// Models is an in-memory read model store: models are lost with it. Create
// one with [NewModels]; it is safe for concurrent use.
type Models struct {
	mu     sync.Mutex
	models map[string]model
}

type model struct {
	position int64
	state    []byte
}

// NewModels returns an empty read model store.
func NewModels() *Models { return &Models{models: make(map[string]model)} }

// LoadModel implements es.ModelStore.
func (m *Models) LoadModel(ctx context.Context, name string) ([]byte, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if err := es.ValidateModelName(name); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	md, ok := m.models[name]
	if !ok {
		return nil, 0, fmt.Errorf("%w: read model %q", es.ErrNotFound, name)
	}
	return bytes.Clone(md.state), md.position, nil
}

// SaveModel implements es.ModelStore.
func (m *Models) SaveModel(ctx context.Context, name string, position int64, state []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := es.ValidateModel(name, position); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if md, ok := m.models[name]; ok && md.position > position {
		return false, nil
	}
	m.models[name] = model{position: position, state: append([]byte{}, state...)}
	return true, nil
}
