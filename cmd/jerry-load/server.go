package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// server is a jerry serve process.
type server struct {
	base   string
	cmd    *exec.Cmd
	client *http.Client
}

// startServer runs jerry serve on store, on a free loopback port, without
// a rate limit.
func startServer(ctx context.Context, cfg config, store, dir string) (*server, error) {
	cmd := exec.Command(cfg.jerry, "serve", "--addr", "127.0.0.1:0", "--rate", "0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "JERRY_STORE="+store, "JERRY_ACTOR=load")
	cmd.Stderr = cfg.progress
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", cfg.jerry, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	i, j := strings.Index(line, "http://"), strings.Index(line, " (")
	if err != nil || i < 0 || j < i {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("jerry serve said %q: %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return &server{base: line[i:j], cmd: cmd, client: &http.Client{
		Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512},
		Timeout:   time.Minute,
	}}, nil
}

// stop ends the server as a user would: SIGTERM, then wait.
func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func (s *server) do(ctx context.Context, method, path, body string, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %w %d: %s", method, path, errStatus, resp.StatusCode, b)
	}
	return nil
}

// seed creates n work items, 8 at a time.
func (s *server) seed(ctx context.Context, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := s.do(ctx, "POST", "/api/items", fmt.Sprintf(`{"title":"Load item %d"}`, i), http.StatusCreated); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

func (s *server) read(items int) func(context.Context, *mrand.Rand) error {
	return func(ctx context.Context, rng *mrand.Rand) error {
		return s.do(ctx, "GET", fmt.Sprintf("/api/items/J-%d", 1+rng.IntN(items)), "", http.StatusOK)
	}
}

func (s *server) write(items int) func(context.Context, *mrand.Rand) error {
	return func(ctx context.Context, rng *mrand.Rand) error {
		return s.do(ctx, "POST", fmt.Sprintf("/api/items/J-%d/comments", 1+rng.IntN(items)), `{"text":"load from a client"}`, http.StatusOK)
	}
}
