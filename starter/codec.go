package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"drives/codec"
)

// keylessWhenUnset gives a client without DRIVES_CODEC_KEYS the codec that names the key an
// encrypted payload needs (and the variable), where the SDK alone says "payload encoding is not
// supported".
func keylessWhenUnset(o *client.Options) {
	if o.DataConverter == nil {
		o.DataConverter = converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec.Keyless{})
	}
}

// EnvCodecToken names the environment variable with the codec server's bearer token.
const EnvCodecToken = "DRIVES_CODEC_TOKEN"

func codecServerCommand(e *env) *cobra.Command {
	_ = e // the codec server needs neither PostgreSQL nor Temporal
	var addr, tokenFile string
	var origins []string
	defOrigin := os.Getenv("TEMPORAL_UI")
	if defOrigin == "" {
		defOrigin = "http://127.0.0.1:8233"
	}
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the payload codec to the Temporal Web UI and CLI, so that they can show decrypted payloads",
		Long: `Serves the payload codec of DRIVES_CODEC_KEYS over HTTP (POST /encode and /decode, the Temporal
remote codec protocol), for the Web UI (started with --ui-codec-endpoint, as 'make demo' does when
DRIVES_CODEC_KEYS is set) and the CLI (temporal … --codec-endpoint URL --codec-auth "Bearer TOKEN").

/encode and /decode need "Authorization: Bearer <token>": the token comes from --token-file or
DRIVES_CODEC_TOKEN, and the server does not start without one. A browser signs in once at /login
with the token (a session cookie), and the Web UI's codec settings then include cross-origin
credentials. CORS lets only --ui-origin call it from a browser. GET /healthz needs no token.

It holds the keys: run it where the people allowed to read personal data work (by default it
listens on 127.0.0.1 only).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := codec.FromEnv()
			if err != nil {
				return err
			}
			if c == nil {
				return fmt.Errorf("%s is not set: the codec server needs the keys the payloads are encrypted with", codec.EnvKeys)
			}
			token, err := codecToken(tokenFile)
			if err != nil {
				return err
			}
			h, err := codec.NewHTTPHandler(c, codec.ServerOptions{Token: token, UIOrigins: origins})
			if err != nil {
				return err
			}
			return serveCodec(cmd.Context(), cmd, addr, h, c, origins)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8081", "address to listen on")
	cmd.Flags().StringSliceVar(&origins, "ui-origin", []string{defOrigin},
		"origin of the Temporal Web UI allowed by CORS (several: comma-separated; default $TEMPORAL_UI)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the bearer token (default: $"+EnvCodecToken+")")
	return cmd
}

// codecToken reads the bearer token from file, else from DRIVES_CODEC_TOKEN.
func codecToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("--token-file %s: the file is empty", file)
		}
		if len(tok) < codec.MinTokenLength {
			return "", fmt.Errorf("--token-file %s: the token is %d characters; use at least %d (random)", file, len(tok), codec.MinTokenLength)
		}
		return tok, nil
	}
	tok := strings.TrimSpace(os.Getenv(EnvCodecToken))
	if tok == "" {
		return "", fmt.Errorf("no bearer token: give --token-file or set %s (the codec server refuses to run open)", EnvCodecToken)
	}
	if len(tok) < codec.MinTokenLength {
		return "", fmt.Errorf("%s is %d characters; use at least %d (random)", EnvCodecToken, len(tok), codec.MinTokenLength)
	}
	return tok, nil
}

func serveCodec(ctx context.Context, cmd *cobra.Command, addr string, h http.Handler, c *codec.Codec, origins []string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	out := cmd.OutOrStdout()
	base := "http://" + l.Addr().String()
	ids := c.KeyIDs()
	fmt.Fprintf(out, "codec server: %s (keys %s; new payloads use %q), for the Web UI at %s\n",
		base, strings.Join(ids, ", "), c.CurrentKeyID(), strings.Join(origins, ", "))
	fmt.Fprintf(out, "codec server: browsers sign in at %s/login; the CLI passes --codec-endpoint %s --codec-auth \"Bearer <token>\"\n", base, base)
	if host, _, _ := net.SplitHostPort(l.Addr().String()); !isLoopback(host) {
		fmt.Fprintf(cmd.ErrOrStderr(), "codec server: warning: listening on %s over plain HTTP: the token and decrypted data cross the network in the clear; put it behind TLS\n", host)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "codec server: stopped")
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
