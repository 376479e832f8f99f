package natsjs_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es/natsjs"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The tests run nats-server in-process: one server for R1, and three
// clustered servers on loopback ports for R3. Each is started once per test
// binary, on first use, and every store gets a stream of its own.

// maxPayload lets a message hold the largest event es accepts
// (es.MaxEventSize) with its head line and headers.
const maxPayload = 4 << 20

type cluster struct {
	servers []*server.Server
	opts    []*server.Options
	urls    string
	dir     string
}

var (
	single, triple       *cluster
	singleErr, tripleErr error
	singleOnce, tripOnce sync.Once
	streamSeq            atomic.Int64
	allClusters          []*cluster
	clustersMu           sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	clustersMu.Lock()
	for _, c := range allClusters {
		c.shutdown()
		if os.Getenv("NATSJS_KEEP") == "" {
			os.RemoveAll(c.dir)
		}
	}
	clustersMu.Unlock()
	os.Exit(code)
}

func (c *cluster) shutdown() {
	for _, s := range c.servers {
		if s != nil {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}
}

// freePorts returns n loopback ports free at the time of the call.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startCluster starts n servers (n == 1: no clustering) with stores under
// dir, and waits until JetStream is ready.
func startCluster(dir string, n int) (*cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i]))
	}
	var urls []string
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   fmt.Sprintf("%s/n%d", dir, i+1),
			MaxPayload: maxPayload,
			NoSigs:     true,
			LogFile:    fmt.Sprintf("%s/n%d.log", dir, i+1),
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "jerry", Host: "127.0.0.1", Port: ports[n+i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		c.opts = append(c.opts, o)
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	c.urls = strings.Join(urls, ",")
	for i := range n {
		if err := c.start(i); err != nil {
			c.shutdown()
			return nil, err
		}
	}
	if err := c.waitReady(30 * time.Second); err != nil {
		c.shutdown()
		return nil, err
	}
	if err := c.keepAccountDir(n); err != nil {
		c.shutdown()
		return nil, err
	}
	clustersMu.Lock()
	allClusters = append(allClusters, c)
	clustersMu.Unlock()
	return c, nil
}

// start (re)starts server i with its original options.
func (c *cluster) start(i int) error {
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		return err
	}
	s.ConfigureLogger()
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("server %d not ready", i+1)
	}
	for len(c.servers) <= i {
		c.servers = append(c.servers, nil)
	}
	c.servers[i] = s
	return nil
}

// waitReady waits until a client can use JetStream.
func (c *cluster) waitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	nc, err := nats.Connect(c.urls, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("jetstream not ready: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keepAccountDir creates a stream that is never deleted. The server
// removes an account's stream directory when its last stream goes, and a
// stream created at that moment fails with "could not create storage
// directory" (seen under -race, as tests delete their streams one after
// another).
func (c *cluster) keepAccountDir(replicas int) error {
	nc, err := nats.Connect(c.urls)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep"}, Replicas: replicas})
	return err
}

func singleServer(t testing.TB) *cluster {
	t.Helper()
	singleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "natsjs-r1-")
		if err != nil {
			singleErr = err
			return
		}
		single, singleErr = startCluster(dir, 1)
	})
	if singleErr != nil {
		t.Fatalf("start embedded nats-server: %v", singleErr)
	}
	return single
}

func tripleCluster(t testing.TB) *cluster {
	t.Helper()
	tripOnce.Do(func() {
		dir, err := os.MkdirTemp("", "natsjs-r3-")
		if err != nil {
			tripleErr = err
			return
		}
		triple, tripleErr = startCluster(dir, 3)
	})
	if tripleErr != nil {
		t.Fatalf("start embedded nats-server cluster: %v", tripleErr)
	}
	return triple
}

// connect opens a connection to c that keeps trying to reconnect.
func connect(t testing.TB, c *cluster) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(c.urls, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// newStream returns a fresh stream name.
func newStream() string {
	return fmt.Sprintf("T%d_%d", os.Getpid(), streamSeq.Add(1))
}

// openStore opens a store on a new stream of c with the given replica
// count, closed and deleted at the end of the test.
func openStore(t testing.TB, c *cluster, replicas int) *natsjs.Store {
	t.Helper()
	return openNamed(t, c, newStream(), replicas, true)
}

func openNamed(t testing.TB, c *cluster, name string, replicas int, cleanup bool) *natsjs.Store {
	t.Helper()
	nc := connect(t, c)
	st, err := natsjs.New(context.Background(), nc, natsjs.Options{Stream: name, Replicas: replicas})
	if err != nil {
		t.Fatalf("natsjs.New: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if cleanup {
		t.Cleanup(func() { deleteStore(c, name) })
	}
	return st
}

// deleteStore removes a test store's stream and buckets.
func deleteStore(c *cluster, name string) {
	nc, err := nats.Connect(c.urls)
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, name)
	_ = js.DeleteKeyValue(ctx, name+"_snapshots")
	_ = js.DeleteKeyValue(ctx, name+"_checkpoints")
}
