package board_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/jerry-es/jerry/es/natsjs"
	"github.com/jerry-es/jerry/tracker/board/boardtest"
)

// The suite on NATS JetStream: one nats-server in this process (on a
// loopback port, so that the suite's child processes reach it too), a
// JetStream stream of its own for each store.

var (
	natsOnce sync.Once
	natsURL  string
	natsErr  error
	natsSrv  *server.Server
	natsDir  string
	natsSeq  atomic.Int64
)

// stopNATS shuts the shared server down, if one started, and removes its
// files.
func stopNATS() {
	if natsSrv != nil {
		natsSrv.Shutdown()
		natsSrv.WaitForShutdown()
	}
	if natsDir != "" {
		os.RemoveAll(natsDir)
	}
}

func natsServer(t testing.TB) string {
	natsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "board-nats-")
		if err != nil {
			natsErr = err
			return
		}
		natsDir = dir
		o := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: dir,
			MaxPayload: 4 << 20, NoSigs: true, NoLog: true}
		if natsSrv, natsErr = server.NewServer(o); natsErr != nil {
			return
		}
		go natsSrv.Start()
		if !natsSrv.ReadyForConnections(30 * time.Second) {
			natsErr = fmt.Errorf("nats-server not ready")
			return
		}
		natsURL = natsSrv.ClientURL()
	})
	if natsErr != nil {
		t.Fatalf("nats-server: %v", natsErr)
	}
	return natsURL
}

var natsConfig = boardtest.Config{
	New: func(t testing.TB) (boardtest.Store, string) {
		loc := fmt.Sprintf("%s?stream=BOARD_%d_%d&replicas=1", natsServer(t), os.Getpid(), natsSeq.Add(1))
		s, err := natsjs.Open(context.Background(), loc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, loc
	},
	Open: func(loc string) (boardtest.Store, func(), error) {
		s, err := natsjs.Open(context.Background(), loc)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	},
	Events: 400,
}

func TestNATS(t *testing.T) { boardtest.Run(t, natsConfig) }
