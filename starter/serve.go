package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"drives/internal/config"
	"drives/store"
	"drives/web"
)

func serveCommand(e *env) *cobra.Command {
	var addr, users, ui string
	var secure, forwarded bool
	defUI := os.Getenv("TEMPORAL_UI")
	cmd := &cobra.Command{
		Use:   "serve [--users FILE] [--addr HOST:PORT]",
		Short: "Serve the drive's web page and its JSON API",
		Long: `Serves the web page over the campaigns (list, attainment by unit, chart, target groups, agents,
events, reviews, imports, traces) and the JSON API under it (docs/API.md). It reads and acts through
the same workflows, Updates, Queries and tables as the other commands.

People sign in with their accounts, kept in PostgreSQL and managed by 'starter users': city
coordinators, district officers, commune staff, agents, auditors and administrators, each seeing
and acting on their own part of the drive. A YAML users file (--users, or $` + web.EnvUsers + `)
may bootstrap the first city coordinators and auditors before their accounts exist; an account
of the same name wins over a file's entry:

  users:
    - name: lan
      role: coordinator            # or auditor
      password_bcrypt: "$2a$10$…"  # the login form's password
      token_sha256: "9f86d0…"      # optional: SHA-256 (hex) of a bearer token for the API

'starter serve user --users FILE --name NAME --role ROLE' adds or replaces an entry with a new random
password and API token and prints them once (or reads the password from stdin with --password-stdin).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if users == "" {
				users = os.Getenv(web.EnvUsers)
			}
			var u *web.Users
			if users != "" {
				var err error
				if u, err = web.LoadUsers(users); err != nil {
					return err
				}
			}
			if err := e.connect(cmd.Context(), true); err != nil {
				return err
			}
			opts, err := config.ClientOptions(nil)
			if err != nil {
				return err
			}
			h, err := web.New(web.Config{DB: e.db, Temporal: e.tc, Users: u, TemporalUI: ui, Namespace: opts.Namespace,
				SecureCookies: secure, TrustForwardedFor: forwarded, Logger: config.Logger()})
			if err != nil {
				return err
			}
			return serveWeb(cmd, addr, h)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&users, "users", "", "users file (default $"+web.EnvUsers+")")
	cmd.Flags().StringVar(&ui, "temporal-ui", defUI, "base URL of the Temporal Web UI, for links to workflows (default $TEMPORAL_UI)")
	cmd.Flags().BoolVar(&secure, "secure-cookies", false, "mark cookies Secure (when served behind HTTPS)")
	cmd.Flags().BoolVar(&forwarded, "trust-forwarded-for", false,
		"limit failed sign-ins by the last address of X-Forwarded-For (only behind a proxy that appends it and is the only way in)")
	cmd.AddCommand(serveUserCommand(), endSessionsCommand(e))
	return cmd
}

func endSessionsCommand(e *env) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "end-sessions --user NAME",
		Short: "End every open session of a user of the web page (on every web process): they must sign in again",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--user: give the user name whose sessions to end")
			}
			if err := e.connect(cmd.Context(), false); err != nil {
				return err
			}
			n, err := store.EndUserWebSessions(cmd.Context(), e.db, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ended %d open session(s) of %s\n", n, name)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "user", "", "user name")
	return cmd
}

func serveUserCommand() *cobra.Command {
	var users, name, role string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "user --users FILE --name NAME --role coordinator|auditor",
		Short: "Add or replace a user of the web page: a new password (printed once, or from stdin) and API token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			password := web.RandomSecret()
			if stdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return errors.New("--password-stdin: no password on stdin")
				}
				password = strings.TrimRight(line, "\r\n")
			}
			token := web.RandomSecret()
			u, err := web.NewUser(name, role, password, token)
			if err != nil {
				return err
			}
			if err := web.AddUser(users, u); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if stdin {
				fmt.Fprintf(out, "user %s (%s) written to %s; API token: %s\n", name, role, users, token)
			} else {
				fmt.Fprintf(out, "user %s (%s) written to %s; password: %s  API token: %s\n", name, role, users, password, token)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&users, "users", "", "users file to write (created readable by you alone)")
	cmd.Flags().StringVar(&name, "name", "", "user name (lower-case letters, digits, . _ -)")
	cmd.Flags().StringVar(&role, "role", web.RoleCoordinator, "coordinator (acts) or auditor (reads)")
	cmd.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of stdin instead of making one")
	for _, f := range []string{"users", "name"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func serveWeb(cmd *cobra.Command, addr string, h http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, WriteTimeout: 5 * time.Minute}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "web: listening on http://%s (sign in at http://%s/login)\n", l.Addr(), l.Addr())
	if host, _, _ := net.SplitHostPort(l.Addr().String()); !isLoopback(host) {
		fmt.Fprintf(cmd.ErrOrStderr(), "web: warning: listening on %s over plain HTTP: passwords and personal data cross the network in the clear; put it behind TLS (and use --secure-cookies)\n", host)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-cmd.Context().Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "web: stopped")
	return nil
}
