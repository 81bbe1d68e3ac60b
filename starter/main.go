// Command starter is the coordinators' and auditors' CLI: launch a drive from its plan, follow
// and steer it, import field data, and print its report. It talks to the campaign only through
// the workflow's Updates and Queries, and reads figures from PostgreSQL. Run `starter --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // the plan's time zone without the machine's zoneinfo

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := rootCommand()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(1)
	}
}

func rootCommand() *cobra.Command {
	var by string
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Launch, steer, import into and report on enrolment campaign drives",
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `starter is the coordinators' and auditors' tool for enrolment campaign drives.

It reads DATABASE_URL and the standard TEMPORAL_* settings (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TLS, API key, config profiles). After 'make up', load them with '. .dev/env'.`,
	}
	root.PersistentFlags().StringVar(&by, "by", defaultBy(), "who is acting, recorded in the audit log (default $DRIVES_USER, else $USER)")
	env := &env{by: &by}
	root.AddCommand(
		launchCommand(env), statusCommand(env), importCommand(env), outcomesCommand(env), participantsCommand(env), paymentsCommand(env), planCommand(env), agentsCommand(env), eventCommand(env),
		steerCommand(env, "pause"), steerCommand(env, "resume"), steerCommand(env, "cancel"),
		reportCommand(env), reviewCommand(env), simulateCommand(env), demoCommand(env), codecServerCommand(env),
		auditCommand(env), serveCommand(env), usersCommand(env),
	)
	needActors(root, &by)
	return root
}

// defaultBy is who acts when --by is not given: $DRIVES_USER, else $USER, else nobody (a
// command that records who acted then refuses to run: the audit log names a person, never a
// made-up one).
func defaultBy() string {
	if u := os.Getenv("DRIVES_USER"); u != "" {
		return u
	}
	return os.Getenv("USER")
}

// acting are the commands that record --by in the audit log (starter users checks it itself).
var acting = map[string]bool{
	"import": true, "outcomes": true, "participants": true, "payments": true,
	"event add": true, "event cancel": true, "event results": true,
	"pause": true, "resume": true, "cancel": true, "agents leave": true,
	"review approve": true, "review reject": true, "review pause": true, "review resume": true,
}

// needActors makes every acting command refuse to run, after its flags and arguments are
// checked, when nobody is named as acting.
func needActors(c *cobra.Command, by *string) {
	for _, sub := range c.Commands() {
		needActors(sub, by)
	}
	path := strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
	run := c.RunE
	if !acting[path] || run == nil {
		return
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if strings.TrimSpace(*by) == "" {
			return fmt.Errorf("%s: who is acting? It is recorded in the audit log: give --by NAME, or set DRIVES_USER (USER is not set either)", path)
		}
		return run(cmd, args)
	}
}
