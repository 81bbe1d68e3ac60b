// Command temporal-pg runs the drives against a Temporal server of its own, backed by
// PostgreSQL, rather than the CLI's dev server: the server and its SQL tool are built from
// go.temporal.io/server (`make temporal-server-tools`); this command starts a private
// PostgreSQL cluster, sets up the server's two databases with temporal-sql-tool, renders the
// server's configuration, starts the server, registers the namespace and the drives' search
// attributes, and writes an environment file for the worker and the starter. Its state lives
// in .dev/temporal-pg/ under the current directory, which the Makefile sets to the
// repository root. docs/temporal-postgres.md walks through the same steps by hand.
//
//	go run ./cmd/temporal-pg up       start what is not running yet, write .dev/temporal-pg/env
//	go run ./cmd/temporal-pg status   say what runs
//	go run ./cmd/temporal-pg down     stop the server and the cluster; data is kept
//
// `go run ./cmd/bench -temporal ADDRESS -workers N` measures the drives on it (BENCHMARKS.md).
//
// Environment: TEMPORAL_SERVER (the server binary), TEMPORAL_SQL_TOOL (temporal-sql-tool),
// TEMPORAL_CLI (.tools/bin/temporal), TEMPORAL_PG_PORT (the frontend's port; default: the one
// used before, else a free one), TEMPORAL_PG_PGPORT (the cluster's port, likewise),
// TEMPORAL_NAMESPACE (enrolment-drives), TEMPORAL_PG_LOG_LEVEL (warn).
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"drives/audit"
	"drives/internal/devstack"
)

//go:embed config.yaml.tmpl
var configTemplate string

//go:embed dynamicconfig.yaml
var dynamicConfig []byte

const (
	baseDir       = ".dev/temporal-pg"
	stateFile     = baseDir + "/state.json"
	envFile       = baseDir + "/env"
	lockFile      = baseDir + "/lock"
	pgDataDir     = baseDir + "/pgdata"
	pgLogFile     = baseDir + "/postgres.log"
	configDir     = baseDir + "/config"
	serverLogFile = baseDir + "/server.log"

	defaultServer    = ".tools-server/bin/temporal-server"
	defaultSQLTool   = ".tools-server/bin/temporal-sql-tool"
	defaultCLI       = ".tools/bin/temporal"
	defaultNamespace = "enrolment-drives"

	// The server's role and databases, and the drives' own database, in the one cluster.
	serverRole     = "temporal"
	defaultDB      = "temporal"
	visibilityDB   = "temporal_visibility"
	drivesDB       = "drives"
	historyShards  = 4
	defaultSchema  = "postgresql/v12/temporal"
	visibilitySchm = "postgresql/v12/visibility"
)

// state is what up started and the ports it chose, as state.json records them. The ports
// are kept after down, so that the server comes back where it was (the frontend's address is
// stored in the cluster's metadata on its first start).
type state struct {
	ServerPID int    `json:"server_pid,omitempty"`
	Namespace string `json:"namespace"`
	Version   string `json:"server_version,omitempty"`
	PGPort    int    `json:"pg_port"`
	Ports     ports  `json:"ports"`
	// Started is when the server was last started.
	Started time.Time `json:"started,omitzero"`
}

// ports are the server's listening ports, all on 127.0.0.1.
type ports struct {
	Frontend, FrontendHTTP, FrontendMembership int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
	Metrics                                    int
}

func (s *state) address() string { return fmt.Sprintf("127.0.0.1:%d", s.Ports.Frontend) }

// serverAlive reports whether the recorded PID still is this server.
func (s *state) serverAlive() bool {
	return devstack.ProcessMatches(s.ServerPID, "start", devstack.AbsPath(baseDir))
}

func main() {
	devstack.Main("temporal-pg", devstack.Commands{
		"up":     func(ctx context.Context) error { return withLock(func() error { return up(ctx) }) },
		"down":   func(ctx context.Context) error { return withLock(func() error { return down(ctx) }) },
		"status": status,
	}, usage)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: go run ./cmd/temporal-pg up|down|status   (from the repository root; make temporal-pg-up builds what it needs)

  up      start a private PostgreSQL in .dev/temporal-pg/pgdata, set up or update the Temporal
          server's databases with temporal-sql-tool, start the server, register the namespace and
          the search attributes, write .dev/temporal-pg/env; what already runs is reused
  status  say what runs
  down    stop the server and the cluster; their data is kept

env: TEMPORAL_SERVER (.tools-server/bin/temporal-server) TEMPORAL_SQL_TOOL (.tools-server/bin/temporal-sql-tool)
     TEMPORAL_CLI (.tools/bin/temporal) TEMPORAL_PG_PORT (frontend) TEMPORAL_PG_PGPORT (PostgreSQL)
     TEMPORAL_NAMESPACE (enrolment-drives) TEMPORAL_PG_LOG_LEVEL (warn)`)
	os.Exit(2)
}

func withLock(f func() error) error { return devstack.Locked("temporal-pg", baseDir, lockFile, f) }

func up(ctx context.Context) error {
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository root (no go.mod here); `make temporal-pg-up` does")
	}
	server := devstack.EnvOr("TEMPORAL_SERVER", defaultServer)
	sqlTool := devstack.EnvOr("TEMPORAL_SQL_TOOL", defaultSQLTool)
	cli := devstack.EnvOr("TEMPORAL_CLI", defaultCLI)
	for _, b := range []struct{ what, path, how string }{
		{"Temporal server", server, "make temporal-server-tools"},
		{"temporal-sql-tool", sqlTool, "make temporal-server-tools"},
		{"Temporal CLI", cli, "make tools"},
	} {
		if st, err := os.Stat(b.path); err != nil || st.IsDir() {
			return fmt.Errorf("%s not found at %s: run `%s`", b.what, b.path, b.how)
		}
	}
	st, err := loadState()
	if err != nil {
		return err
	}
	namespace := devstack.EnvOr("TEMPORAL_NAMESPACE", defaultNamespace)
	if st.Namespace != "" && st.Namespace != namespace && st.serverAlive() {
		fmt.Printf("Temporal: note: the running server was set up for namespace %s; registering %s too\n", st.Namespace, namespace)
	}
	st.Namespace = namespace

	// 1. PostgreSQL: the server's databases and the drives' own, in one private cluster.
	pgPort := 0 // a cluster that runs already is adopted on its port
	if _, running := devstack.PostgresStatus(pgDataDir); !running {
		if pgPort, err = chosenPort("TEMPORAL_PG_PGPORT", st.PGPort); err != nil {
			return err
		}
	}
	began := time.Now()
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{
		Dir: pgDataDir, Port: pgPort, Database: drivesDB, LogFile: pgLogFile,
	})
	if err != nil {
		return err
	}
	pgMoved := st.PGPort != 0 && st.PGPort != pg.Port()
	st.PGPort = pg.Port()
	if err := saveState(st); err != nil {
		return err
	}
	if pg.Reused() {
		fmt.Printf("PostgreSQL: reusing the cluster running in %s on 127.0.0.1:%d\n", pgDataDir, pg.Port())
	} else {
		fmt.Printf("PostgreSQL: cluster in %s ready on 127.0.0.1:%d in %.1fs, log %s\n", pgDataDir, pg.Port(), time.Since(began).Seconds(), pgLogFile)
	}
	if err := devstack.EnsureRole(ctx, pg.URL(), audit.AppRole); err != nil {
		return err
	}
	if err := ensureServerRole(ctx, pg.URLFor("postgres")); err != nil {
		return err
	}

	// 2. The server's schemas, set up or brought to the binary's version by its SQL tool.
	for _, db := range []struct{ name, schema string }{{defaultDB, defaultSchema}, {visibilityDB, visibilitySchm}} {
		v, err := setupSchema(ctx, sqlTool, pg, db.name, db.schema)
		if err != nil {
			return err
		}
		fmt.Printf("PostgreSQL: database %s at schema version %s (%s)\n", db.name, v, db.schema)
	}

	// 3. The server: reused when it runs and answers on the cluster it was configured for.
	if st.serverAlive() && !pgMoved {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := devstack.WaitTemporal(wctx, st.address(), devstack.SystemNamespace)
		cancel()
		if err == nil {
			fmt.Printf("Temporal: reusing the running server (pid %d) on %s\n", st.ServerPID, st.address())
		} else {
			fmt.Printf("Temporal: the recorded server (pid %d) does not answer (%v); restarting it\n", st.ServerPID, err)
			if err := devstack.StopPID(st.ServerPID); err != nil {
				return err
			}
			st.ServerPID = 0
		}
	} else if st.serverAlive() {
		fmt.Printf("Temporal: PostgreSQL moved to port %d; restarting the server (pid %d)\n", pg.Port(), st.ServerPID)
		if err := devstack.StopPID(st.ServerPID); err != nil {
			return err
		}
		st.ServerPID = 0
	} else {
		st.ServerPID = 0
	}
	if st.ServerPID == 0 {
		if err := startServer(ctx, st, server); err != nil {
			return err
		}
	}

	// 4. The namespace and the search attributes of the drives.
	if err := ensureNamespace(ctx, cli, st.address(), namespace); err != nil {
		return err
	}

	// 5. The environment of the worker and the starter.
	if err := writeEnv(st, pg); err != nil {
		return err
	}
	fmt.Printf("\nWrote %s. Run the worker and the starter against this server with:\n\n    . %s\n\n", envFile, envFile)
	fmt.Printf("Server metrics (Prometheus): http://127.0.0.1:%d/metrics\n", st.Ports.Metrics)
	return nil
}

// ensureServerRole creates the server's login role, which may create databases (so that the
// SQL tool creates the server's databases as their owner).
func ensureServerRole(ctx context.Context, adminURL string) error {
	if err := devstack.EnsureRole(ctx, adminURL, serverRole); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "ALTER ROLE "+pgx.Identifier{serverRole}.Sanitize()+" CREATEDB"); err != nil {
		return fmt.Errorf("let role %s create databases: %w", serverRole, err)
	}
	return nil
}

// setupSchema creates database db with temporal-sql-tool unless it exists, sets up its
// schema versioning, and updates it to the newest version of the embedded schema name
// (a no-op when it is there). It returns the schema version the database is at.
func setupSchema(ctx context.Context, tool string, pg *devstack.Postgres, db, schemaName string) (string, error) {
	exists, err := databaseExists(ctx, pg.URLFor("postgres"), db)
	if err != nil {
		return "", err
	}
	if !exists {
		if err := sqlTool(ctx, tool, pg.Port(), db, "create-database"); err != nil {
			return "", err
		}
	}
	if err := sqlTool(ctx, tool, pg.Port(), db, "setup-schema", "-v", "0.0"); err != nil {
		return "", err
	}
	if err := sqlTool(ctx, tool, pg.Port(), db, "update-schema", "--schema-name", schemaName); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, pg.URLFor(db))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var v string
	if err := conn.QueryRow(ctx, "SELECT curr_version FROM schema_version").Scan(&v); err != nil {
		return "", fmt.Errorf("read the schema version of %s: %w", db, err)
	}
	return v, nil
}

// sqlTool runs temporal-sql-tool against database db of the cluster, as the server's role.
func sqlTool(ctx context.Context, tool string, port int, db string, args ...string) error {
	full := append([]string{"--plugin", "postgres12", "--endpoint", "127.0.0.1", "--port", strconv.Itoa(port),
		"--user", serverRole, "--database", db}, args...)
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, tool, full...)
	cmd.Env = withoutPrefixes(os.Environ(), "SQL_")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("temporal-sql-tool %s on %s: %w\n%s", args[0], db, err, bytes.TrimSpace(out))
	}
	return nil
}

func databaseExists(ctx context.Context, adminURL, db string) (bool, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists)
	return exists, err
}

// startServer chooses the server's ports (the frontend's stays where it was), renders its
// configuration and starts it.
func startServer(ctx context.Context, st *state, server string) error {
	// Leftovers of an interrupted up that state.json could not record.
	for _, pid := range devstack.FindProcesses("start", devstack.AbsPath(baseDir)) {
		fmt.Printf("Temporal: stopping an unrecorded server (pid %d) that uses %s\n", pid, baseDir)
		if err := devstack.StopPID(pid); err != nil {
			return err
		}
	}
	frontend, err := chosenPort("TEMPORAL_PG_PORT", st.Ports.Frontend)
	if err != nil {
		return err
	}
	taken := map[int]bool{}
	if frontend == 0 {
		if frontend, err = serverPort(taken); err != nil {
			return err
		}
	}
	taken[frontend] = true
	// The other ports stay where they were when they are still free: the services then come
	// back at the addresses the cluster's membership table remembers.
	p, before := ports{Frontend: frontend}, st.Ports
	for _, f := range []struct{ now, before *int }{
		{&p.FrontendHTTP, &before.FrontendHTTP}, {&p.FrontendMembership, &before.FrontendMembership},
		{&p.History, &before.History}, {&p.HistoryMembership, &before.HistoryMembership},
		{&p.Matching, &before.Matching}, {&p.MatchingMembership, &before.MatchingMembership},
		{&p.Worker, &before.Worker}, {&p.WorkerMembership, &before.WorkerMembership}, {&p.Metrics, &before.Metrics},
	} {
		if b := *f.before; b > 0 && b < 32768 && !taken[b] && devstack.PortFree("127.0.0.1", b) {
			*f.now, taken[b] = b, true
			continue
		}
		if *f.now, err = serverPort(taken); err != nil {
			return err
		}
	}
	st.Ports = p
	if err := renderConfig(st); err != nil {
		return err
	}
	if err := saveState(st); err != nil {
		return err
	}
	fmt.Printf("Temporal: starting the server on %s (config %s/development.yaml, history shards %d)…\n", st.address(), configDir, historyShards)
	began := time.Now()
	pid, err := devstack.StartServer(ctx, devstack.ServerOptions{
		Binary: server, Root: baseDir, Address: st.address(), LogFile: serverLogFile,
	})
	if err != nil {
		return err
	}
	st.ServerPID, st.Started = pid, time.Now().UTC()
	st.Version = serverVersion(server)
	if err := saveState(st); err != nil {
		_ = devstack.StopPID(pid)
		return err
	}
	if err := waitShards(ctx, st.address()); err != nil {
		return err
	}
	fmt.Printf("Temporal: server %s (pid %d) ready on %s in %.1fs, log %s\n", st.Version, pid, st.address(), time.Since(began).Seconds(), serverLogFile)
	return nil
}

// waitShards waits until every history shard is served: the frontend answers as soon as it
// runs, but after a restart the history service takes a while to own its shards again, and
// until then calls on their workflows fail with "Not enough hosts to serve the request".
// Describing workflows that do not exist, under IDs spread over the shards, tells: each
// answers "not found" once its shard is served.
func waitShards(ctx context.Context, address string) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: address, Namespace: devstack.SystemNamespace, Logger: devstack.QuietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	const probes = 64 // IDs hash to shards at random: 64 miss one of 4 shards once in 10^7
	served := make([]bool, probes)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var last error
		left := 0
		for i := range probes {
			if served[i] {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := c.DescribeWorkflowExecution(cctx, fmt.Sprintf("temporal-pg-probe-%d", i), "")
			cancel()
			var notFound *serviceerror.NotFound
			if errors.As(err, &notFound) {
				served[i] = true
				continue
			}
			left++
			last = err
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server does not serve all its history shards after 2 minutes: %v (see %s)", last, serverLogFile)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// serverPort picks a free port on 127.0.0.1 that is not in taken, and takes it. The server
// keeps its services' ports in a smallint column (cluster_membership.rpc_port), so they must
// be below 32768, where the system's ephemeral ports (which FreePort gives) usually are not.
func serverPort(taken map[int]bool) (int, error) {
	const lo, hi = 20000, 32000
	start := lo + rand.IntN(hi-lo)
	for i := range hi - lo {
		p := lo + (start-lo+i)%(hi-lo)
		if !taken[p] && devstack.PortFree("127.0.0.1", p) {
			taken[p] = true
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port between %d and %d on 127.0.0.1", lo, hi)
}

// configValues are what config.yaml.tmpl is filled with.
type configValues struct {
	LogLevel                                      string
	HistoryShards                                 int
	PGPort                                        int
	User, DefaultDB, VisibilityDB                 string
	FrontendPort, FrontendHTTPPort                int
	FrontendMembershipPort                        int
	HistoryPort, HistoryMembershipPort            int
	MatchingPort, MatchingMembershipPort          int
	WorkerPort, WorkerMembershipPort, MetricsPort int
	DynamicConfigFile                             string
}

func values(st *state, dynFile string) configValues {
	p := st.Ports
	return configValues{
		LogLevel: devstack.EnvOr("TEMPORAL_PG_LOG_LEVEL", "warn"), HistoryShards: historyShards, PGPort: st.PGPort,
		User: serverRole, DefaultDB: defaultDB, VisibilityDB: visibilityDB,
		FrontendPort: p.Frontend, FrontendHTTPPort: p.FrontendHTTP, FrontendMembershipPort: p.FrontendMembership,
		HistoryPort: p.History, HistoryMembershipPort: p.HistoryMembership,
		MatchingPort: p.Matching, MatchingMembershipPort: p.MatchingMembership,
		WorkerPort: p.Worker, WorkerMembershipPort: p.WorkerMembership, MetricsPort: p.Metrics,
		DynamicConfigFile: dynFile,
	}
}

// render fills config.yaml.tmpl.
func render(v configValues) ([]byte, error) {
	t, err := template.New("config.yaml.tmpl").Option("missingkey=error").Parse(configTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// renderConfig writes the server's configuration and dynamic configuration into configDir.
func renderConfig(st *state) error {
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		return err
	}
	dynFile := devstack.AbsPath(filepath.Join(configDir, "dynamicconfig.yaml"))
	if err := os.WriteFile(dynFile, dynamicConfig, 0o644); err != nil {
		return err
	}
	b, err := render(values(st, dynFile))
	if err != nil {
		return fmt.Errorf("render the server configuration: %w", err)
	}
	return os.WriteFile(filepath.Join(configDir, "development.yaml"), b, 0o644)
}

// serverVersion asks the binary its version ("" if it does not say).
func serverVersion(server string) string {
	out, err := exec.Command(server, "--version").Output()
	if err != nil {
		return ""
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// ensureNamespace registers namespace (retention devstack.RetentionDays) and the drives'
// search attributes with the CLI unless they exist, then waits until the frontend accepts
// queries on them.
func ensureNamespace(ctx context.Context, cli, address, namespace string) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: address, Namespace: namespace, Logger: devstack.QuietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &notFound):
		if err := runCLI(ctx, cli, "operator", "namespace", "create", "--namespace", namespace,
			"--retention", fmt.Sprintf("%dd", devstack.RetentionDays), "--address", address); err != nil {
			return err
		}
		fmt.Printf("Temporal: namespace %s registered (retention %d days)\n", namespace, devstack.RetentionDays)
	case err != nil:
		return fmt.Errorf("describe namespace %s: %w", namespace, err)
	}

	have := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		if err == nil {
			for name := range resp.GetCustomAttributes() {
				have[name] = true
			}
			break
		}
		if time.Now().After(deadline) { // a new namespace takes a moment to be known everywhere
			return fmt.Errorf("list the search attributes of %s: %w", namespace, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	args := []string{"operator", "search-attribute", "create", "--namespace", namespace, "--address", address}
	var added []string
	for _, k := range devstack.SearchAttributes() {
		if !have[k.GetName()] {
			args = append(args, "--name", k.GetName(), "--type", k.GetValueType().String())
			added = append(added, k.GetName())
		}
	}
	if len(added) > 0 {
		if err := runCLI(ctx, cli, args...); err != nil {
			return err
		}
		fmt.Printf("Temporal: search attributes %s registered on %s\n", strings.Join(added, ", "), namespace)
	}

	// The frontend knows them once its namespace cache has refreshed (a few seconds).
	var query []string
	for _, k := range devstack.SearchAttributes() {
		query = append(query, k.GetName()+" = 'probe'")
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		_, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: 1, Query: strings.Join(query, " AND "),
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s does not accept queries on its search attributes yet: %w", namespace, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("Temporal: namespace %s ready with search attributes %s\n", namespace, strings.Join(searchAttributeNames(), ", "))
	return nil
}

func searchAttributeNames() []string {
	var names []string
	for _, k := range devstack.SearchAttributes() {
		names = append(names, k.GetName())
	}
	return names
}

func runCLI(ctx context.Context, cli string, args ...string) error {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, cli, args...)
	cmd.Env = withoutPrefixes(os.Environ(), "TEMPORAL_")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("temporal %s: %w: %s", strings.Join(args[:3], " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func down(ctx context.Context) error {
	st, err := loadState()
	if err != nil {
		return err
	}
	var errs []error
	if st.serverAlive() {
		fmt.Printf("Temporal: stopping the server (pid %d)…\n", st.ServerPID)
		if err := devstack.StopPID(st.ServerPID); err != nil {
			errs = append(errs, fmt.Errorf("stop the Temporal server: %w", err))
		}
	} else if st.ServerPID != 0 {
		fmt.Printf("Temporal: the server (pid %d) no longer runs\n", st.ServerPID)
	}
	for _, pid := range devstack.FindProcesses("start", devstack.AbsPath(baseDir)) {
		fmt.Printf("Temporal: stopping an unrecorded server (pid %d) that uses %s…\n", pid, baseDir)
		if err := devstack.StopPID(pid); err != nil {
			errs = append(errs, fmt.Errorf("stop the Temporal server: %w", err))
		}
	}
	if _, running := devstack.PostgresStatus(pgDataDir); running {
		fmt.Printf("PostgreSQL: stopping the cluster in %s…\n", pgDataDir)
		if err := devstack.StopPostgresDir(ctx, pgDataDir); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	st.ServerPID = 0
	if _, err := os.Stat(stateFile); err == nil {
		if err := saveState(st); err != nil {
			return err
		}
	}
	if err := os.Remove(envFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Printf("stopped; data kept in %s/ (`make temporal-pg-clean` removes it)\n", baseDir)
	return nil
}

func status(ctx context.Context) error {
	st, err := loadState()
	if err != nil {
		return err
	}
	if st.serverAlive() {
		health := "running, healthy"
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if err := devstack.WaitTemporal(cctx, st.address(), st.Namespace); err != nil {
			health = fmt.Sprintf("running but not answering for namespace %s: %v", st.Namespace, err)
		}
		cancel()
		fmt.Printf("Temporal:   %s — server %s, pid %d, %s, namespace %s, metrics http://127.0.0.1:%d/metrics, log %s\n",
			health, st.Version, st.ServerPID, st.address(), st.Namespace, st.Ports.Metrics, serverLogFile)
	} else {
		fmt.Println("Temporal:   not running (`make temporal-pg-up`)")
	}
	if port, running := devstack.PostgresStatus(pgDataDir); running {
		fmt.Printf("PostgreSQL: running in %s on 127.0.0.1:%d, databases %s, %s, %s; log %s\n",
			pgDataDir, port, defaultDB, visibilityDB, drivesDB, pgLogFile)
	} else {
		fmt.Printf("PostgreSQL: not running in %s\n", pgDataDir)
	}
	if _, err := os.Stat(envFile); err == nil {
		fmt.Printf("environment: . %s\n", envFile)
	}
	return nil
}

func writeEnv(st *state, pg *devstack.Postgres) error {
	var b strings.Builder
	b.WriteString("# Written by `go run ./cmd/temporal-pg up`: the drives against the PostgreSQL-backed Temporal server.\n")
	b.WriteString("# Load with: . " + envFile + "\n")
	for _, kv := range [][2]string{
		{"TEMPORAL_ADDRESS", st.address()},
		{"TEMPORAL_NAMESPACE", st.Namespace},
		{"DATABASE_URL", devstack.PostgresURLAs(audit.AppRole, pg.Port(), drivesDB)},
		{"DATABASE_OWNER_URL", pg.URLFor(drivesDB)},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], devstack.ShellQuote(kv[1]))
	}
	// This server has no Web UI.
	b.WriteString("unset TEMPORAL_UI\n")
	return os.WriteFile(envFile, []byte(b.String()), 0o600)
}

func loadState() (*state, error) {
	st := &state{}
	_, err := devstack.ReadState(stateFile, st)
	return st, err
}

func saveState(st *state) error {
	return devstack.WriteState(stateFile, st)
}

// chosenPort is the port the variable name sets, else the one used before (if still free),
// else 0 (choose a free one).
func chosenPort(name string, before int) (int, error) {
	if v := os.Getenv(name); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p <= 0 || p > 65535 {
			return 0, fmt.Errorf("%s=%q is not a port number", name, v)
		}
		if !devstack.PortFree("127.0.0.1", p) {
			return 0, fmt.Errorf("%s=%d: the port is in use by another program", name, p)
		}
		return p, nil
	}
	if before != 0 && devstack.PortFree("127.0.0.1", before) {
		return before, nil
	}
	if before != 0 {
		fmt.Printf("note: port %d, used before, is taken now; choosing another\n", before)
	}
	return 0, nil
}

func withoutPrefixes(env []string, prefixes ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
