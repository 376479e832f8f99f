package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkMCPVsCLI measures one tool call to a running "jerry mcp" over
// stdio beside the same command run as a jerry process, on one file store
// of 1,000 items (10,000 events), in one run:
//
//	go test -run '^$' -bench MCPVsCLI -benchtime 100x ./cmd/jerry
//
// Each round times one MCP call and one CLI run, in alternating order, so
// that the machine's noise falls on both alike; it reports the median of
// each and the median of the per-round ratios cli/mcp. The MCP call is
// what an agent waits for with the server already running; the CLI run
// includes starting the process and opening the store, which is the cost
// the server saves.
func BenchmarkMCPVsCLI(b *testing.B) {
	dir := b.TempDir()
	env := append(os.Environ(), "JERRY_STORE=file:"+filepath.Join(dir, "store"), "JERRY_ACTOR=bench")
	jerry := func(args ...string) {
		cmd := exec.Command(jerryBin, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("jerry %v: %v\n%s", args, err, out)
		}
	}
	jerry("dev", "seed", "--items", "1000", "--events", "10000")
	jerry("list") // the read model, made once

	cmd := exec.Command(jerryBin, "mcp")
	cmd.Dir, cmd.Env = dir, env
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).
		Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	call := func(name string, args map[string]any) {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			b.Fatalf("%s: %v %+v", name, err, res)
		}
	}

	for _, c := range []struct {
		name string
		tool string
		args map[string]any
		cli  []string
	}{
		{"show", "show", map[string]any{"id": "J-500"}, []string{"show", "J-500", "--json"}},
		{"ready", "ready", map[string]any{"limit": 20}, []string{"ready", "--limit", "20", "--json"}},
		{"comment", "comment", map[string]any{"id": "J-500", "text": "a note"}, []string{"comment", "J-500", "a note", "--json"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var mcpT, cliT, ratio []float64
			round := 0
			for b.Loop() {
				var m, l time.Duration
				timeMCP := func() { t := time.Now(); call(c.tool, c.args); m = time.Since(t) }
				timeCLI := func() { t := time.Now(); jerry(c.cli...); l = time.Since(t) }
				if round%2 == 0 {
					timeMCP()
					timeCLI()
				} else {
					timeCLI()
					timeMCP()
				}
				round++
				mcpT = append(mcpT, float64(m.Microseconds()))
				cliT = append(cliT, float64(l.Microseconds()))
				ratio = append(ratio, float64(l)/float64(m))
			}
			b.ReportMetric(median(mcpT), "mcp-µs")
			b.ReportMetric(median(cliT), "cli-µs")
			b.ReportMetric(median(ratio), "cli/mcp")
		})
	}
}

func median(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return s[len(s)/2]
}
