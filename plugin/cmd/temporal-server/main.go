// Command temporal-server is a drop-in replacement for upstream's temporal-server
// (go.temporal.io/server/cmd/server) that refuses to run without authorization.
//
// It keeps upstream's flags, subcommands, persistence plugins and logger, and adds:
//
//   - authorization from authorization.yaml (see package authz) or upstream's
//     global.authorization keys, wired into the frontend; start-up fails closed;
//   - the internal-frontend service started whenever the config defines it, so the
//     system worker (schedules, batch operations, scanners) works with auth on;
//   - `--version` with the image version, commit and build date (package buildinfo);
//   - `authz check`, the operator tool that explains a token's grants and a decision.
package main

import (
	"fmt"
	"io"
	"os"

	_ "time/tzdata" // embed tzdata as a fallback, as upstream

	"github.com/hardened-temporal/temporal-image/plugin/internal/buildinfo"
	"github.com/urfave/cli/v2"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/mysql"      // persistence plugins, as upstream
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" //
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"     //
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr, os.Getenv))
}

// run executes the command line and returns the process exit code. Errors are printed
// to stderr; an error that carries an exit code (cli.Exit) exits with it, any other with 1.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	app := buildCLI(stdout, stderr, getenv)
	err := app.Run(args)
	if err == nil {
		return 0
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	if coder, ok := err.(cli.ExitCoder); ok {
		return coder.ExitCode()
	}
	return 1
}

func buildCLI(stdout, stderr io.Writer, getenv func(string) string) *cli.App {
	app := cli.NewApp()
	app.Name = "temporal-server"
	app.Usage = "Temporal server with OIDC/JWT authorization"
	app.Version = buildinfo.Version
	app.ArgsUsage = " "
	app.Writer = stdout
	app.ErrWriter = stderr
	// Exit codes are handled by run, so that tests can call it without os.Exit.
	app.ExitErrHandler = func(*cli.Context, error) {}
	app.Flags = append(configFlags(), &cli.BoolFlag{
		Name:  "allow-no-auth",
		Usage: "start without authorization when none is configured (anyone reaching the frontend can do anything); also " + envAllowNoAuth + "=true",
	})
	app.Commands = []*cli.Command{
		startCommand(getenv),
		renderConfigCommand(getenv),
		validateDynamicConfigCommand(),
		authzCommand(getenv),
	}
	return app
}

func init() {
	// `temporal-server --version` prints every stamped fact, not just the version.
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprint(c.App.Writer, buildinfo.String()) }
}
