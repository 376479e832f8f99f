package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Workflow teaches an agent how to work with Jerry's tools, in a few lines.
// The server gives it as its instructions, as the resource WorkflowURI and
// as the prompt "workflow".
const Workflow = `Jerry tracks work items (IDs like J-42). You act as one fixed actor (see whoami).
1. Pick: call ready with claim=true (and a lease like 1h if your work is long). You get the most urgent ready item, held by you and moved to in_progress; agents calling at once each get a different one. Code not_found: nothing is ready; look at blocked, or wait.
2. Work: your claim holds for its lease after your last write to the item. Call heartbeat on it while you work longer than that, and comment with what you found or did.
3. Finish: status with status=done (or cancelled, with a reason). Then pick again.
If you cannot finish, comment why, then release the item (it goes back to the pool), or block it on the item it waits for.
Code claimed: another agent holds the item (holder, expires_at); leave it and pick another. Code blocked: it waits on blockers that are not done (listed); pick another. Code conflict (expected_version, actual_version): the item changed since you read it; show it and decide again. Codes usage and invalid_input: fix the arguments.
changes_since, given the next_position of your last call, tells you what other agents changed.`

// WorkflowURI is the resource that holds [Workflow].
const WorkflowURI = "jerry://workflow"

// addWorkflow serves Workflow as a resource and as a prompt.
func addWorkflow(srv *mcp.Server) {
	srv.AddResource(&mcp.Resource{URI: WorkflowURI, Name: "workflow", Title: "How to work with Jerry",
		Description: "The loop an agent follows: pick with ready+claim, heartbeat and comment while working, done; what to do on each error code.",
		MIMEType:    "text/plain"},
		func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: WorkflowURI, MIMEType: "text/plain", Text: Workflow}}}, nil
		})
	srv.AddPrompt(&mcp.Prompt{Name: "workflow", Title: "Work on Jerry's board",
		Description: "Instructions for an agent taking work from Jerry."},
		func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Description: "How to work with Jerry",
				Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: Workflow}}}}, nil
		})
}
