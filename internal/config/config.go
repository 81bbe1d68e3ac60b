// Package config connects the binaries to their services from the environment: PostgreSQL
// from DATABASE_URL, Temporal from the standard TEMPORAL_* variables and config profiles
// (address, namespace, TLS, API key) through the SDK's envconfig, and JSON logs through slog.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/log"

	"drives/codec"
)

// DefaultNamespace is the namespace the make targets create.
const DefaultNamespace = "enrolment-drives"

// Logger writes JSON logs to stderr at the level in LOG_LEVEL (default info).
func Logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// DatabaseURL is DATABASE_URL, which must be set.
func DatabaseURL() (string, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return "", errors.New("DATABASE_URL is not set (run `make up` and `. .dev/env`, or point it at your PostgreSQL)")
	}
	return url, nil
}

// Pool opens a connection pool to DATABASE_URL and checks it answers.
func Pool(ctx context.Context) (*pgxpool.Pool, error) {
	url, err := DatabaseURL()
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at DATABASE_URL: %w", err)
	}
	return pool, nil
}

// ClientOptions reads the Temporal connection from TEMPORAL_* variables and the default
// config profile; the namespace defaults to DefaultNamespace. With DRIVES_CODEC_KEYS set,
// every payload is encrypted by the codec of package codec.
func ClientOptions(logger *slog.Logger) (client.Options, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client configuration: %w", err)
	}
	if opts.Namespace == "" || (os.Getenv("TEMPORAL_NAMESPACE") == "" && opts.Namespace == client.DefaultNamespace) {
		opts.Namespace = DefaultNamespace
	}
	if logger != nil {
		opts.Logger = log.NewStructuredLogger(logger)
	}
	// Payloads encrypted when DRIVES_CODEC_KEYS is set (see package codec).
	c, err := codec.FromEnv()
	if err != nil {
		return client.Options{}, err
	}
	if c != nil {
		opts.DataConverter = codec.DataConverter(c)
	}
	return opts, nil
}

// Temporal dials the Temporal frontend; with adjusts the options (the worker adds metrics).
func Temporal(ctx context.Context, logger *slog.Logger, with ...func(*client.Options)) (client.Client, error) {
	opts, err := ClientOptions(logger)
	if err != nil {
		return nil, err
	}
	for _, f := range with {
		f(&opts)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		addr := opts.HostPort
		if addr == "" {
			addr = client.DefaultHostPort
		}
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %w", addr, opts.Namespace, err)
	}
	return c, nil
}
