package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Workflow teaches an agent how to work with Jerry's tools, in a few lines.
// The server gives it as its instructions, as the resource WorkflowURI and
// as the prompt "workflow".
const Workflow = `Jerry tracks work items (IDs like J-42). You act as one fixed actor (see whoami).
1. Pick: call ready with claim=true. You get the most urgent ready item, held by you; agents calling at once each get a different one. Code not_found: nothing is ready, so wait or look at blocked.
2. Start: status with status=in_progress.
3. While working: comment with what you found or did. Keep each item's writes to yourself: if a write fails with code conflict and a holder, another agent holds the item; leave it and pick again.
4. Finish: status with status=done (or cancelled, with a reason). Then pick again.
If you cannot go on, say why with comment and status=blocked, or block the item on the one it waits for; then release it so that others can take it.
Code blocked: the item has blockers that are not done (see show, blocked); pick another item. Code conflict with expected_version/actual_version: the item changed since you read it; show it again and decide. Code invalid_input: fix the arguments.
changes_since with the next_position of your last call tells you what other agents changed.`

// WorkflowURI is the resource that holds [Workflow].
const WorkflowURI = "jerry://workflow"

// addWorkflow serves Workflow as a resource and as a prompt.
func addWorkflow(srv *mcp.Server) {
	srv.AddResource(&mcp.Resource{URI: WorkflowURI, Name: "workflow", Title: "How to work with Jerry",
		Description: "The loop an agent follows: pick with ready+claim, work, comment, done; what to do on each error code.",
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
