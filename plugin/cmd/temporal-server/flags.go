package main

import (
	"fmt"
	"strconv"

	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"github.com/hardened-temporal/temporal-image/plugin/internal/wiring"
	"github.com/urfave/cli/v2"
)

// envAllowNoAuth is upstream's opt-out variable, also read by us (see allowNoAuth).
const envAllowNoAuth = wiring.EnvAllowNoAuth

// configFlags are the flags that locate the server and authorization configs. They have
// no EnvVars and no default values on purpose: the environment variables and defaults
// are applied, in a documented order, by package serverconfig.
func configFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "root", Aliases: []string{"r"},
			Usage: "root directory of execution environment; a relative --config is taken from it (deprecated, as upstream) [$" + serverconfig.EnvRoot + ", default .]"},
		&cli.StringFlag{Name: "config", Aliases: []string{"c"},
			Usage: "config directory (base.yaml, <env>.yaml, <env>_<zone>.yaml, authorization.yaml) [$" + serverconfig.EnvConfigDir + ", default config]"},
		&cli.StringFlag{Name: "env", Aliases: []string{"e"},
			Usage: "runtime environment: which <env>.yaml to load [$" + serverconfig.EnvConfigEnv + ", $" + serverconfig.EnvEnvironment + ", default development]"},
		&cli.StringFlag{Name: "zone", Aliases: []string{"az", "z"},
			Usage: "availability zone: loads <env>_<zone>.yaml too [$" + serverconfig.EnvZone + "]"},
		&cli.StringFlag{Name: "config-file",
			Usage: "path to a single config file, instead of a config directory [$" + serverconfig.EnvConfigFile + "]"},
		&cli.StringFlag{Name: "authz-config",
			Usage: "authorization config file; default: authorization.yaml beside the server config [$" + serverconfig.EnvAuthzConfig + "]"},
	}
}

// configInputs collects the config-locating flags given on the command line (at any
// level: `temporal-server --config X authz check` and `authz check --config X` both work).
func configInputs(c *cli.Context, getenv func(string) string) serverconfig.Inputs {
	// Walk the lineage ourselves: when a subcommand defines a flag of the same name,
	// urfave/cli looks only at the subcommand's (unset) copy.
	given := func(name string) string {
		for _, ctx := range c.Lineage() {
			if ctx.IsSet(name) {
				return ctx.String(name)
			}
		}
		return ""
	}
	return serverconfig.Inputs{
		ConfigFileFlag:  given("config-file"),
		ConfigDirFlag:   given("config"),
		RootFlag:        given("root"),
		EnvFlag:         given("env"),
		ZoneFlag:        given("zone"),
		AuthzConfigFlag: given("authz-config"),
		Getenv:          getenv,
	}
}

// allowNoAuth reports the explicit opt-out: --allow-no-auth or TEMPORAL_ALLOW_NO_AUTH.
// A value of the variable that is not a boolean is an error, never "no".
func allowNoAuth(c *cli.Context, getenv func(string) string) (bool, error) {
	if c.Bool("allow-no-auth") {
		return true, nil
	}
	v := getenv(envAllowNoAuth)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", envAllowNoAuth, v)
	}
	return b, nil
}
