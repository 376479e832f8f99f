package postgres_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// cutProxy forwards connections to the test server, and cuts the first one
// to send a statement containing a marker as soon as the server, having run
// the pipeline after the one that prepared it, says it is ready for the next
// query: the transaction has committed, and the client never hears so.
type cutProxy struct {
	ln     net.Listener
	target string
	marker []byte
	cut    atomic.Bool
}

func startCutProxy(t *testing.T, marker string) (dsn string, p *cutProxy) {
	t.Helper()
	u, err := url.Parse(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p = &cutProxy{ln: ln, target: u.Host, marker: []byte(marker)}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.serve(c) }()
		}
	}()
	u.Host = ln.Addr().String()
	return u.String(), p
}

func (p *cutProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	var armed atomic.Bool
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if !p.cut.Load() && bytes.Contains(buf[:n], p.marker) {
					armed.Store(true)
				}
				if _, err := s.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				s.Close()
				return
			}
		}
	}()
	ready := 0
	for {
		var head [5]byte
		if _, err := io.ReadFull(s, head[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(head[1:])-4)
		if _, err := io.ReadFull(s, body); err != nil {
			return
		}
		if head[0] == 'Z' && armed.Load() {
			if ready++; ready == 2 && p.cut.CompareAndSwap(false, true) {
				return // closes both sides
			}
		}
		if _, err := c.Write(append(head[:], body...)); err != nil {
			return
		}
	}
}

// TestGroupCommitReplyLost: the connection of a combined transaction drops
// after it committed, before its reply. Each append in it is run again on
// its own; each must return its stored records, as a retry of an append
// already stored, and nothing is stored twice.
func TestGroupCommitReplyLost(t *testing.T) {
	ctx := context.Background()
	dsn, proxy := startCutProxy(t, "FOR UPDATE")
	schema := newSchema(t)
	s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Hold head so that the appends below queue up behind a first one
	// and then run as one group.
	conn, release := holdHead(t, schema)
	first := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "x", es.Any, []es.Event{ev("a", `0`)})
		first <- err
	}()
	waitForLockWaiters(t, conn, 1)
	type result struct {
		sent, got []es.Record
		err       error
	}
	const n = 4
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := ev("b", `1`)
			e.ID = es.NewEventID()
			results[i].sent = []es.Record{{ID: e.ID}}
			// The same stream for all: each append's tail is another's.
			results[i].got, results[i].err = s.Append(ctx, "y", es.Any, []es.Event{e})
		}()
	}
	// Let all four queue behind the first; they cannot run before release.
	for postgres.Queued(s) < n {
		time.Sleep(time.Millisecond)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !proxy.cut.Load() {
		t.Fatal("no combined transaction ran")
	}
	for i, r := range results {
		if r.err != nil {
			t.Errorf("append %d: %v", i, r.err)
			continue
		}
		if len(r.got) != 1 || r.got[0].ID != r.sent[0].ID {
			t.Errorf("append %d returned %+v", i, r.got)
		}
	}
	recs, err := es.Collect(s.ReadStream(ctx, "y", 1, 0))
	if err != nil || len(recs) != n {
		t.Fatalf("stream y holds %d events (%v), want %d", len(recs), err, n)
	}
}
