package docstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"drives/internal/devstack"
	"drives/internal/testenv"
)

// stack is what `make demo` leaves running, started by the test on ports of its own: the
// Temporal dev server and a database (testenv), the worker, the web page (`starter serve`) and
// the codec server, all with payloads encrypted; and a scratch directory laid out as the
// repository root is after `make demo` (.dev/env, .dev/web-passwords, .dev/codec-token, the
// plan's files, samples/, .tools/bin/temporal), where the docs' commands run.
type stack struct {
	t         *testing.T
	repo      string
	dir       string   // the scratch "repository root"
	bin       string   // starter and worker
	env       []string // the environment the docs' commands start from
	web       string   // http://127.0.0.1:PORT of starter serve
	codec     string   // http://127.0.0.1:PORT of the codec server
	vars      map[string]string
	ownerURL  string // the database as its owner
	stackEnv  []string
	passwords string // .dev/web-passwords
}

// addOfficer adds the demo's district officer once its campaign exists, as make demo does.
func (s *stack) addOfficer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := s.run(ctx, s.stackEnv, "users", "add", "--name", "ba-vi", "--role", "district", "--district", "271", "--by", "make-demo")
	m := regexp.MustCompile(`one-time password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("starter users add ba-vi printed %q", out)
	}
	s.vars["WEB_BA_VI_ONE_TIME_PASSWORD"] = m[1]
	s.passwords += fmt.Sprintf("WEB_BA_VI_ONE_TIME_PASSWORD='%s'\n", m[1])
	s.write(".dev/web-passwords", s.passwords, 0o600)
}

// temporalUI is the Web UI the stack names in links (none runs: the dev server is headless).
const temporalUI = "http://127.0.0.1:8233"

func startStack(t *testing.T) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	repo, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, repo: repo, dir: t.TempDir(), bin: t.TempDir(), vars: map[string]string{}}
	for _, tool := range []string{"bash", "sed", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the docs' examples use %s, which is not installed: %v", tool, err)
		}
	}

	// The two binaries, built once.
	build := exec.CommandContext(ctx, "go", "build", "-o", s.bin+"/", "./starter", "./worker")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./starter ./worker: %v\n%s", err, out)
	}

	dev := testenv.SharedDevServer(t)
	s.ownerURL = testenv.NewDB(t)
	appURL := asRole(t, s.ownerURL, "drives_app")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys := "k1:" + base64.StdEncoding.EncodeToString(key)

	s.layout()
	codecToken := base64.RawURLEncoding.EncodeToString(key[:16])
	s.write(".dev/codec-token", codecToken+"\n", 0o600)
	s.write(".dev/env", fmt.Sprintf("# the test's stack; load with: . .dev/env\n"+
		"export TEMPORAL_ADDRESS=%s\nexport TEMPORAL_NAMESPACE=%s\nexport DATABASE_URL=%s\n"+
		"export DATABASE_OWNER_URL=%s\nexport TEMPORAL_UI=%s\n",
		devstack.ShellQuote(dev.FrontendHostPort()), testenv.Namespace, devstack.ShellQuote(appURL),
		devstack.ShellQuote(s.ownerURL), temporalUI), 0o600)

	// What a shell has: a PATH with starter on it (for `starter …` and `go run ./starter …`),
	// a user name for --by, and DRIVES_CODEC_KEYS exported as the README's encryption section
	// says. Nothing of the stack: the docs' `. .dev/env` gives that.
	s.env = []string{
		"PATH=" + s.bin + ":" + os.Getenv("PATH"),
		"HOME=" + s.dir,
		"USER=docs-reader",
		"LANG=C.UTF-8",
		"DRIVES_CODEC_KEYS=" + keys,
		"TMPDIR=" + os.TempDir(),
	}
	if gc := os.Getenv("GOCACHE"); gc != "" {
		s.env = append(s.env, "GOCACHE="+gc)
	}
	stackEnv := append(append([]string{}, s.env...),
		"TEMPORAL_ADDRESS="+dev.FrontendHostPort(), "TEMPORAL_NAMESPACE="+testenv.Namespace,
		"DATABASE_URL="+appURL, "DATABASE_OWNER_URL="+s.ownerURL, "TEMPORAL_UI="+temporalUI)

	// The worker migrates the database and serves /healthz once it can reach both servers.
	workerAddr := freeAddr(t)
	s.start(ctx, "worker", append(stackEnv, "WORKER_HTTP_ADDR="+workerAddr), filepath.Join(s.bin, "worker"))
	s.waitHealthy(ctx, "worker", "http://"+workerAddr+"/healthz")

	// The web page's users, as make web-start makes them (.dev/web-users.yaml,
	// .dev/web-passwords), and the demo's district officer.
	var passwords strings.Builder
	passwords.WriteString("# the test's web sign-ins; load with: . .dev/web-passwords\n")
	for _, u := range []string{"coordinator", "auditor"} {
		out := s.run(ctx, stackEnv, "serve", "user", "--users", ".dev/web-users.yaml", "--name", u, "--role", u)
		m := regexp.MustCompile(`password: (\S+)\s+API token: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("starter serve user %s printed %q", u, out)
		}
		up := strings.ToUpper(u)
		s.vars["WEB_"+up+"_PASSWORD"], s.vars["WEB_"+up+"_TOKEN"] = m[1], m[2]
		fmt.Fprintf(&passwords, "WEB_%s_PASSWORD='%s'\nWEB_%s_TOKEN='%s'\n", up, m[1], up, m[2])
	}
	s.passwords = passwords.String()
	s.write(".dev/web-passwords", s.passwords, 0o600)
	s.stackEnv = stackEnv

	webAddr := freeAddr(t)
	s.web = "http://" + webAddr
	s.start(ctx, "web", stackEnv, filepath.Join(s.bin, "starter"), "serve", "--addr", webAddr, "--users", ".dev/web-users.yaml")
	s.waitHealthy(ctx, "web", s.web+"/healthz")

	codecAddr := freeAddr(t)
	s.codec = "http://" + codecAddr
	s.start(ctx, "codec server", append(stackEnv, "DRIVES_CODEC_TOKEN="+codecToken), filepath.Join(s.bin, "starter"),
		"codec-server", "--addr", codecAddr, "--ui-origin", "http://127.0.0.1:1")
	s.waitHealthy(ctx, "codec server", s.codec+"/healthz")
	return s
}

// layout makes the scratch directory look like the repository root where the docs' commands
// need it: the plan folder (its files, and room for the copies the docs write beside it), the
// register it names, the samples, the Temporal CLI.
func (s *stack) layout() {
	t := s.t
	for _, d := range []string{"plans/hanoi-2021", "data", ".dev", ".tools/bin"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(from, to string) {
		if err := os.Symlink(from, filepath.Join(s.dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"plan.yaml", "villages.csv", "roster.csv", "field-sim.yaml"} {
		link(filepath.Join(s.repo, "plans/hanoi-2021", f), "plans/hanoi-2021/"+f)
	}
	link(filepath.Join(s.repo, "data/hanoi-admin-units-2021.csv"), "data/hanoi-admin-units-2021.csv")
	link(filepath.Join(s.repo, "samples"), "samples")
	cli, err := testenv.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	link(cli, ".tools/bin/temporal")
}

func (s *stack) write(name, content string, mode os.FileMode) {
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), mode); err != nil {
		s.t.Fatal(err)
	}
}

// run runs the starter in the scratch directory and returns its output; a failure fails the test.
func (s *stack) run(ctx context.Context, env []string, args ...string) string {
	s.t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "starter"), args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.dir, env, &out, &errOut
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("starter %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// start starts a service of the stack; it is stopped (SIGTERM, then SIGKILL) when the test ends,
// and the end of its log is shown when the test failed.
func (s *stack) start(ctx context.Context, name string, env []string, args ...string) {
	t := s.t
	logPath := filepath.Join(s.dir, ".dev", strings.ReplaceAll(name, " ", "-")+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.dir, env, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the %s: %v", name, err)
	}
	var once sync.Once
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			logf.Close()
			if t.Failed() {
				t.Logf("end of the %s's log:\n%s", name, devstack.TailLines(logPath, 40))
			}
		})
	})
}

// waitHealthy waits until url answers 200.
func (s *stack) waitHealthy(ctx context.Context, name, u string) {
	s.t.Helper()
	for {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("the %s did not answer %s: %v", name, u, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freeAddr(t *testing.T) string {
	p, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// asRole is a database URL with another user, as .dev/env gives the application role.
func asRole(t *testing.T, u, role string) string {
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	pu.User = url.User(role)
	return pu.String()
}
