package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresOptions says where and how to run a private PostgreSQL cluster.
type PostgresOptions struct {
	// Dir is the data directory. It is created and initialised (initdb) when missing or
	// empty; a directory holding a cluster is started as it is.
	Dir string
	// Port to listen on, on 127.0.0.1 only. 0 picks a free port.
	Port int
	// Database is created when missing. "" means the "postgres" database.
	Database string
	// LogFile receives the server's log. "" means server.log inside Dir.
	LogFile string
	// Ephemeral trades durability for speed (fsync, synchronous_commit and
	// full_page_writes off): for throwaway test clusters, never for data you keep.
	Ephemeral bool
}

// Postgres is a running private cluster.
type Postgres struct {
	dir, database, logFile string
	port                   int
	reused                 bool
}

// URL is the connection URL of the cluster's database (user postgres, trust auth, no TLS).
func (p *Postgres) URL() string { return PostgresURL(p.port, p.database) }

// URLFor is the connection URL of another database of the same cluster.
func (p *Postgres) URLFor(database string) string { return PostgresURL(p.port, database) }

// Port is the TCP port the cluster listens on, on 127.0.0.1.
func (p *Postgres) Port() int { return p.port }

// Dir is the cluster's data directory (absolute).
func (p *Postgres) Dir() string { return p.dir }

// Database is the database URL connects to.
func (p *Postgres) Database() string { return p.database }

// LogFile is the server log.
func (p *Postgres) LogFile() string { return p.logFile }

// Reused reports whether the cluster was already running in Dir, so that StartPostgres
// adopted it instead of starting it.
func (p *Postgres) Reused() bool { return p.reused }

// Stop shuts the cluster down (pg_ctl stop -m fast). Its data stays.
func (p *Postgres) Stop(ctx context.Context) error { return StopPostgresDir(ctx, p.dir) }

// PostgresURL is the URL of database db on a private cluster listening on 127.0.0.1:port.
func PostgresURL(port int, db string) string { return PostgresURLAs("postgres", port, db) }

// PostgresURLAs is PostgresURL for another role (trust auth: no password).
func PostgresURLAs(role string, port int, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", url.PathEscape(role), port, db)
}

// URLAs is the connection URL of the cluster's database for another role.
func (p *Postgres) URLAs(role string) string { return PostgresURLAs(role, p.port, p.database) }

// EnsureRole creates a login role without a password unless it exists, through the
// connection at dbURL (which may create roles). Concurrent calls are fine.
func EnsureRole(ctx context.Context, dbURL, role string) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dbURL)
	if err != nil {
		return fmt.Errorf("create role %s: %w", role, err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(cctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists); err != nil {
		return fmt.Errorf("look up role %s: %w", role, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(cctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN"); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") { // created meanwhile
			return nil
		}
		return fmt.Errorf("create role %s: %w", role, err)
	}
	return nil
}

// confName is the file, inside the data directory, that holds what StartPostgres sets on
// every start (port, listen address, socket directory); postgresql.conf includes it.
const confName = "devstack.conf"

// StartPostgres starts (initialising it first if needed) a private PostgreSQL cluster in
// opts.Dir, listening on 127.0.0.1 only, and creates opts.Database in it. pg_ctl
// daemonizes the server, so the cluster outlives the calling process: stop it with Stop
// or StopPostgresDir. If a cluster already runs in Dir, it is adopted (Reused reports it).
// When the caller is root, initdb and pg_ctl run as the "postgres" user, which must be
// able to reach Dir.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	if opts.Dir == "" {
		return nil, errors.New("start postgres: no data directory given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p := &Postgres{dir: dir, database: opts.Database, logFile: opts.LogFile}
	if p.database == "" {
		p.database = "postgres"
	}
	if p.logFile == "" {
		p.logFile = filepath.Join(dir, "server.log")
	} else if p.logFile, err = filepath.Abs(p.logFile); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}

	if port, running := PostgresStatus(dir); running {
		if opts.Port != 0 && opts.Port != port {
			return nil, fmt.Errorf("start postgres: a cluster already runs in %s on port %d, not %d; stop it first", dir, port, opts.Port)
		}
		p.port, p.reused = port, true
		if err := ensureDatabase(ctx, port, p.database); err != nil {
			return nil, err
		}
		return p, nil
	}

	pgCtl, err := pgBinary("pg_ctl")
	if err != nil {
		return nil, err
	}
	owner, err := clusterOwner()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start postgres: create data directory: %w", err)
	}
	if err := owner.chown(dir); err != nil {
		return nil, err
	}
	if err := owner.checkReach(ctx, dir); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initCluster(ctx, owner, dir, opts.Ephemeral); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(p.logFile), 0o755); err != nil {
		return nil, fmt.Errorf("start postgres: create log directory: %w", err)
	}
	lf, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start postgres: open log file: %w", err)
	}
	_ = lf.Close()
	if err := owner.chown(p.logFile); err != nil {
		return nil, err
	}

	// A port of our choosing that another program binds first is replaced by a new one.
	for attempt := 1; ; attempt++ {
		p.port = opts.Port
		if p.port == 0 {
			if p.port, err = FreePort(); err != nil {
				return nil, err
			}
		} else if !PortFree("127.0.0.1", p.port) {
			return nil, fmt.Errorf("start postgres: port %d on 127.0.0.1 is already in use; choose another port", p.port)
		}
		if portsChosen != nil && opts.Port == 0 {
			portsChosen([]int{p.port})
		}
		if err := writeConf(owner, dir, p.port, opts.Ephemeral); err != nil {
			return nil, err
		}
		logged := fileSize(p.logFile)
		out, err := owner.run(ctx, pgCtl, "start", "-D", dir, "-l", p.logFile, "-w", "-t", "60", "-s")
		if err == nil {
			break
		}
		if opts.Port == 0 && attempt < startAttempts && portRaceLost(newOutput(p.logFile, logged)) {
			continue
		}
		return nil, withLog(fmt.Errorf("start postgres in %s: %w: %s", dir, err, bytes.TrimSpace(out)), p.logFile)
	}
	if err := ensureDatabase(ctx, p.port, p.database); err != nil {
		return nil, withLog(err, p.logFile)
	}
	return p, nil
}

// StopPostgresDir shuts down the cluster whose data directory is dir (pg_ctl stop -m fast)
// and waits for it to go. A cluster that does not run is not an error.
func StopPostgresDir(ctx context.Context, dir string) error {
	return stopPostgres(ctx, dir, "fast", "stop")
}

// CrashPostgresDir stops the cluster in dir as a crash would (pg_ctl stop -m immediate): no
// checkpoint, clients cut off; the next start recovers from the WAL. Fault drills use it. A
// cluster that does not run is not an error.
func CrashPostgresDir(ctx context.Context, dir string) error {
	return stopPostgres(ctx, dir, "immediate", "crash")
}

func stopPostgres(ctx context.Context, dir, mode, verb string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%s postgres: %w", verb, err)
	}
	if _, running := PostgresStatus(dir); !running {
		return nil
	}
	pgCtl, err := pgBinary("pg_ctl")
	if err != nil {
		return err
	}
	owner, err := clusterOwner()
	if err != nil {
		return err
	}
	if out, err := owner.run(ctx, pgCtl, "stop", "-D", dir, "-m", mode, "-w", "-t", "60", "-s"); err != nil {
		if _, running := PostgresStatus(dir); !running {
			return nil
		}
		return fmt.Errorf("%s postgres in %s: %w: %s", verb, dir, err, bytes.TrimSpace(out))
	}
	return nil
}

// PostgresStatus reports whether a cluster runs in data directory dir, and on which port,
// from its postmaster.pid.
func PostgresStatus(dir string) (port int, running bool) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || !ProcessMatches(pid, "postgres") {
		return 0, false
	}
	port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	return port, true
}

func initCluster(ctx context.Context, owner *clusterUser, dir string, ephemeral bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("start postgres: %s is neither empty nor a PostgreSQL data directory (no PG_VERSION); remove it or choose another directory", dir)
	}
	initdb, err := pgBinary("initdb")
	if err != nil {
		return err
	}
	args := []string{"-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"}
	if ephemeral {
		args = append(args, "--no-sync")
	}
	if out, err := owner.run(ctx, initdb, args...); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", dir, err, bytes.TrimSpace(out))
	}
	conf := filepath.Join(dir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("configure postgres: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Set by internal/devstack on every start.\ninclude_if_exists = '%s'\n", confName)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("configure postgres: %w", err)
	}
	return nil
}

func writeConf(owner *clusterUser, dir string, port int, ephemeral bool) error {
	// The socket lives in the data directory; a Unix socket path is limited to 107 bytes,
	// so a deep data directory gets its socket through the relative path "." (the server
	// runs in its data directory). Clients here use TCP either way.
	sockDir := dir
	if len(dir)+len("/.s.PGSQL.65535.lock") > 100 {
		sockDir = "."
	}
	var b strings.Builder
	b.WriteString("# Written by internal/devstack on every start; edits are lost.\n")
	fmt.Fprintf(&b, "listen_addresses = '127.0.0.1'\nport = %d\n", port)
	fmt.Fprintf(&b, "unix_socket_directories = '%s'\n", strings.ReplaceAll(sockDir, "'", "''"))
	b.WriteString("max_connections = 200\n")
	if ephemeral {
		b.WriteString("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
	}
	path := filepath.Join(dir, confName)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("configure postgres: %w", err)
	}
	return owner.chown(path)
}

// ensureDatabase creates db on the cluster at port unless it exists.
func ensureDatabase(ctx context.Context, port int, db string) error {
	if db == "postgres" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, PostgresURL(port, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to postgres on port %d: %w", port, err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(cctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", db, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
			return nil
		}
		return fmt.Errorf("create database %q: %w", db, err)
	}
	return nil
}

// pgBinary finds a PostgreSQL server program: on PATH, else in pg_config's bindir, else in
// Debian's /usr/lib/postgresql/<version>/bin (newest version first).
func pgBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(m) > 0 {
		sort.Slice(m, func(i, j int) bool { return pgVersionOf(m[i]) > pgVersionOf(m[j]) })
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL program %q not found on PATH, in pg_config --bindir or /usr/lib/postgresql/*/bin: install the PostgreSQL server (Debian: apt-get install postgresql) or set DATABASE_URL", name)
}

func pgVersionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// clusterUser runs the server programs: the caller itself, or "postgres" when the caller is
// root (PostgreSQL refuses to run as root).
type clusterUser struct {
	asRoot   bool
	uid, gid int
}

func clusterOwner() (*clusterUser, error) {
	if os.Geteuid() != 0 {
		return &clusterUser{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the \"postgres\" user, which does not exist: %w (create it, or run as a normal user, or set DATABASE_URL)", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &clusterUser{asRoot: true, uid: uid, gid: gid}, nil
}

func (c *clusterUser) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if c.asRoot {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Dir = "/" // a directory the postgres user can always enter
	cmd.Env = serverEnv()
	return cmd
}

func (c *clusterUser) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return c.command(ctx, name, args...).CombinedOutput()
}

func (c *clusterUser) chown(path string) error {
	if !c.asRoot {
		return nil
	}
	if err := os.Chown(path, c.uid, c.gid); err != nil {
		return fmt.Errorf("hand %s to the postgres user: %w", path, err)
	}
	return nil
}

// checkReach makes sure the postgres user can enter and write dir; if not, it names the
// first directory on the way that blocks it.
func (c *clusterUser) checkReach(ctx context.Context, dir string) error {
	if !c.asRoot {
		return nil
	}
	if c.command(ctx, "test", "-w", dir, "-a", "-x", dir).Run() == nil {
		return nil
	}
	blocker := dir
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if c.command(ctx, "test", "-x", d).Run() != nil {
			blocker = d
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	return fmt.Errorf("running as root, PostgreSQL runs as the postgres user, which cannot reach %s (blocked at %s): make the parent directories traversable (chmod o+x), put the data elsewhere, or set DATABASE_URL", dir, blocker)
}

// serverEnv is the environment for the server programs: ours, less the libpq variables
// that would point them at another cluster.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PGDATA", "PGPORT", "PGHOST", "PGHOSTADDR", "PGDATABASE", "PGUSER", "PGOPTIONS", "PGSERVICE":
			continue
		}
		env = append(env, kv)
	}
	return env
}
