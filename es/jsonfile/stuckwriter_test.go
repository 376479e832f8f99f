//go:build unix

package jsonfile_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// TestReadsDoNotWaitForStuckWriter reproduces issue 15's fourth defect:
// every command took the directory's exclusive lock, so a process holding
// it (a writer stuck in fsync, or stopped) made reads hang with no message.
// A child process takes the lock and is stopped with SIGSTOP; this process
// then opens the store and reads it every way while the child holds the
// lock, and a writer waiting for the lock is told the child's pid. It logs
// the reads' latencies; the 20 s bound only keeps a regression from hanging
// the run.
func TestReadsDoNotWaitForStuckWriter(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir)
	for i := range 20 {
		recs, err := s.Append(ctx, fmt.Sprintf("item-%d", i%4), es.Any, []es.Event{{Type: "T", Data: []byte(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 3 {
			r := recs[0]
			s.SaveSnapshot(ctx, es.Snapshot{Stream: r.Stream, Version: r.Version, Type: "A", Schema: 1, State: []byte(`{}`), Time: r.Time})
		}
	}
	s.Close()
	cmd, out := child(t, "hold-lock", dir)
	defer cmd.Wait()
	defer cmd.Process.Kill()
	for {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatal("child died before taking the lock")
		}
		if strings.TrimSpace(line) == "locked" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Signal(syscall.SIGCONT)

	notices := make(chan jsonfile.LockWait, 4)
	done := make(chan []time.Duration)
	go func() {
		var lat []time.Duration
		for range 50 {
			t0 := time.Now()
			r, err := jsonfile.Open(dir, jsonfile.OnLockWait(50*time.Millisecond, func(w jsonfile.LockWait) {
				select {
				case notices <- w:
				default:
				}
			}))
			if err != nil {
				t.Error(err)
				break
			}
			if err := readAll(r); err != nil {
				t.Error(err)
			}
			if v, err := r.StreamVersion(ctx, "item-1"); err != nil || v != 5 {
				t.Errorf("version %d, %v", v, err)
			}
			if sn, err := r.LoadSnapshot(ctx, "item-3", 0); err != nil || sn.Version != 5 {
				t.Errorf("snapshot %+v, %v", sn, err)
			}
			if last, err := r.LastPosition(ctx); err != nil || last != 20 {
				t.Errorf("last position %d, %v", last, err)
			}
			lat = append(lat, time.Since(t0))
			r.Close()
		}
		done <- lat
	}()
	var lat []time.Duration
	select {
	case lat = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("reads wait for the process that holds the lock")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("open + read everything while another process holds the lock: median %v, max %v over %d rounds", lat[len(lat)/2], lat[len(lat)-1], len(lat))

	// A writer waits, and says who holds the lock.
	w, err := jsonfile.Open(dir, jsonfile.OnLockWait(50*time.Millisecond, func(lw jsonfile.LockWait) {
		select {
		case notices <- lw:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appended := make(chan error, 1)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, err := w.Append(actx, "item-9", es.Any, []es.Event{{Type: "T", Data: []byte(`{}`)}})
		appended <- err
	}()
	select {
	case lw := <-notices:
		if lw.PID != cmd.Process.Pid || !strings.Contains(lw.String(), fmt.Sprint(cmd.Process.Pid)) {
			t.Fatalf("notice %v names pid %d, want the holder %d", lw, lw.PID, cmd.Process.Pid)
		}
		t.Log(lw)
	case err := <-appended:
		t.Fatalf("append returned %v while another process held the lock", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no notice of the lock's holder")
	}
	cancel()
	if err := <-appended; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled append: %v", err)
	}
	// Once the holder is gone, the writer goes on. (The cancelled append
	// had been taken by a commit, so it may have been stored: its error
	// said so.)
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Process.Kill()
	cmd.Wait()
	recs, err := w.Append(ctx, "item-9", es.Any, []es.Event{{Type: "T", Data: []byte(`{}`)}})
	if err != nil || recs[0].Position != 20+recs[0].Version {
		t.Fatalf("append after the holder died: %+v, %v", recs, err)
	}
}
