package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/httpapi"
	"github.com/jerry-es/jerry/tracker/webui"
)

// jerry serve and jerry token: the HTTP face and who may use it.

// shutdownGrace is how long jerry serve waits for requests in flight when
// told to stop.
const shutdownGrace = 30 * time.Second

func (c *cli) serveCmd() *cobra.Command {
	var addr string
	var perSecond float64
	var burst int
	var maxBody int64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the store over HTTP: the JSON API (docs/http.md) and the web board",
		Long: `Serve the store over HTTP until SIGINT or SIGTERM: the JSON API under /api/
(see docs/http.md) and the web board at /. On a signal it stops accepting
connections, lets requests in flight finish (up to 30 s), ends the
/api/events streams, and exits.

It listens on loopback (127.0.0.1:7070) by default. Another address is
refused unless tokens exist (jerry token create): requests then need one,
and only loopback clients may come without, acting as you. A browser on
another machine signs in at /login with a token's secret (kept in a cookie)
and out at /logout.`,
		Example: `  jerry serve
  jerry token create --actor ci-agent --role write && jerry serve --addr 0.0.0.0:7070`,
		Args: args(0, 0, "no arguments"),
	}
	cmd.PreRun = func(*cobra.Command, []string) { c.turns = true }
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, _ []string) error {
		if !loopbackAddr(addr) {
			has, err := s.HasTokens(ctx)
			if err != nil {
				return err
			}
			if !has {
				return usagef("serve --addr %s: not a loopback address, and no tokens exist: create one with jerry token create, or serve on 127.0.0.1", addr)
			}
		}
		lim := rate.Limit(perSecond)
		if perSecond <= 0 {
			lim = rate.Inf
		}
		api := httpapi.New(s, httpapi.Options{Actor: resolveActor(c.actorFlag), MaxBody: maxBody, Rate: lim, Burst: burst})
		mux := http.NewServeMux()
		mux.Handle("/api/", api)
		// A browser on another machine signs in here: its token then
		// travels in a cookie, as links and live streams cannot add a
		// header.
		mux.Handle("/login", api.Session())
		mux.Handle("/logout", api.Session())
		// The web board at "/", behind the API's tokens, loopback rule and
		// limits; done ends its live streams when the server shuts down.
		done := make(chan struct{})
		mux.Handle("/", api.Guard(webui.Handler(s, webui.Options{Done: done})))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		url, _ := resolveStore(c.storeFlag)
		fmt.Fprintf(c.out, "jerry: serving %s on http://%s (SIGINT or SIGTERM to stop)\n", redact(url), ln.Addr())
		c.flush()
		return serve(ctx, ln, mux, func() { api.Close(); close(done) })
	})
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:7070", "address to listen on; a non-loopback one needs tokens")
	f.Float64Var(&perSecond, "rate", httpapi.DefaultRate, "requests per second allowed to each client (token, else address); 0 for no limit")
	f.IntVar(&burst, "burst", httpapi.DefaultBurst, "requests a client may make at once above the rate")
	f.Int64Var(&maxBody, "max-body", httpapi.DefaultMaxBody, "largest request body accepted, in bytes")
	return cmd
}

// serve serves h on ln until ctx ends, then shuts down gracefully: no new
// connections, requests in flight finish, onShutdown ends the streams.
func serve(ctx context.Context, ln net.Listener, h http.Handler, onShutdown func()) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	srv.RegisterOnShutdown(onShutdown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loopbackAddr reports whether addr (HOST:PORT) listens on loopback only.
// It is the rule the server applies to a request's Host, so that the two
// cannot drift apart.
func loopbackAddr(addr string) bool { return httpapi.LoopbackHost(addr) }

func (c *cli) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage the bearer tokens of jerry serve: create, list, revoke",
		Long: `Manage who may use jerry serve. A token names the actor every event written
with it records, and a role: read (reads only), write (reads and writes),
admin (also force=true). Tokens are kept in the store (the stream
jerry-tokens) as the SHA-256 of their secret; the secret is printed once, by
create. A running server sees a new or revoked token within a second.`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(creates(c.tokenCreateCmd()), readOnly(c.tokenListCmd(), ""), c.tokenRevokeCmd())
	return cmd
}

type tokenJSON struct {
	ID        string     `json:"id"`
	Actor     string     `json:"actor"`
	Role      string     `json:"role"`
	Created   time.Time  `json:"created"`
	CreatedBy string     `json:"created_by"`
	Revoked   *time.Time `json:"revoked,omitempty"`
	Secret    string     `json:"secret,omitempty"`
}

func tokenView(t app.Token, secret string) tokenJSON {
	v := tokenJSON{ID: t.ID, Actor: t.Actor, Role: string(t.Role), Created: t.Created.UTC(), CreatedBy: t.CreatedBy, Secret: secret}
	if !t.Active() {
		r := t.Revoked.UTC()
		v.Revoked = &r
	}
	return v
}

func (c *cli) tokenCreateCmd() *cobra.Command {
	var actor, role string
	cmd := &cobra.Command{
		Use:     "create --actor NAME --role read|write|admin",
		Short:   "Make a token and print its secret (shown this once)",
		Example: `  jerry token create --actor ci-agent --role write`,
		Args:    args(0, 0, "no arguments (--actor and --role)"),
	}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, _ []string) error {
		if strings.TrimSpace(actor) == "" {
			return usagef("token create: --actor is required: who the token's writes are recorded as")
		}
		r, err := app.ParseRole(role)
		if err != nil {
			return err
		}
		t, secret, err := s.CreateToken(ctx, actor, r)
		if err != nil {
			return err
		}
		return c.emit(func() any { return tokenView(t, secret) }, func(w io.Writer) {
			fmt.Fprintf(w, "%s\t%s\t%s\n%s\n", t.ID, t.Actor, t.Role, secret)
		})
	})
	cmd.Flags().StringVar(&actor, "actor", "", "who the token acts as (recorded on every event it writes)")
	cmd.Flags().StringVar(&role, "role", "", "read, write or admin")
	return cmd
}

func (c *cli) tokenListCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List tokens (never their secrets)", Args: args(0, 0, "no arguments")}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, _ []string) error {
		toks, err := s.Tokens(ctx)
		if err != nil {
			return err
		}
		views := make([]tokenJSON, len(toks))
		for i, t := range toks {
			views[i] = tokenView(t, "")
		}
		return c.emit(func() any { return views }, func(w io.Writer) {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tACTOR\tROLE\tCREATED\tBY\tREVOKED")
			for _, t := range toks {
				rev := "-"
				if !t.Active() {
					rev = t.Revoked.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, display(t.Actor), t.Role, t.Created.UTC().Format(time.RFC3339), display(t.CreatedBy), rev)
			}
			tw.Flush()
		})
	})
	return cmd
}

func (c *cli) tokenRevokeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "revoke ID", Short: "Make a token stop working", Args: args(1, 1, "ID")}
	cmd.RunE = c.do(func(ctx context.Context, s *app.Service, cmd *cobra.Command, a []string) error {
		t, err := s.RevokeToken(ctx, a[0])
		if err != nil {
			return err
		}
		return c.emit(func() any { return tokenView(t, "") }, func(w io.Writer) { fmt.Fprintf(w, "%s revoked\n", t.ID) })
	})
	return cmd
}
