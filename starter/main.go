// Command starter is the coordinators' and auditors' CLI: launch a drive from its plan, follow
// and steer it, import field data, and print its report. It talks to the campaign only through
// the workflow's Updates and Queries, and reads figures from PostgreSQL. Run `starter --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
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
	root.PersistentFlags().StringVar(&by, "by", defaultBy(), "who is acting (recorded in the audit log)")
	env := &env{by: &by}
	root.AddCommand(
		launchCommand(env), statusCommand(env), importCommand(env), outcomesCommand(env), participantsCommand(env), paymentsCommand(env), planCommand(env), agentsCommand(env), eventCommand(env),
		steerCommand(env, "pause"), steerCommand(env, "resume"), steerCommand(env, "cancel"),
		reportCommand(env), reviewCommand(env), simulateCommand(env), demoCommand(env), codecServerCommand(env),
		auditCommand(env), serveCommand(env), usersCommand(env),
	)
	return root
}

func defaultBy() string {
	if u := os.Getenv("DRIVES_USER"); u != "" {
		return u
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "coordinator"
}
