package main

import (
	"context"
	"errors"
	"io"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/mcpserver"
)

func (c *cli) mcpCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the board to AI agents over the Model Context Protocol (stdio)",
		Long: `Serve jerry's work items to an AI agent as Model Context Protocol tools,
over stdin and stdout, until the client closes stdin (or SIGINT, SIGTERM).
Register it in an MCP client as the command "jerry mcp" (see the README).

The actor recorded on every event is fixed now: --actor, else $JERRY_ACTOR,
else the OS user; no tool takes it as an argument. The store is chosen as
for every command, and so is the default lease of claims. Tools: ready
(claim: true takes and starts the first), claim, heartbeat, release, show,
list, create, status, comment, block, unblock, history, changes_since,
blocked, whoami. Failed calls are tool errors carrying the --json error:
its code and fields.`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, _ *cobra.Command, _ []string) error {
		url, _ := resolveStore(c.storeFlag)
		srv := mcpserver.New(s, mcpserver.Options{Actor: resolveActor(c.actorFlag), Store: redact(url), Version: jerryVersion()})
		err := srv.Run(ctx, &mcp.StdioTransport{})
		if ctx.Err() != nil || errors.Is(err, io.EOF) {
			return nil // the client went away or we were told to stop: a normal end
		}
		return err
	})
	return cmd
}

// jerryVersion is the module version jerry was built from, or "dev".
func jerryVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
