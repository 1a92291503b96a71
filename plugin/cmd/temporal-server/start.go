package main

import (
	"fmt"
	stdlog "log"
	"strings"

	"github.com/hardened-temporal/temporal-image/plugin/internal/buildinfo"
	"github.com/hardened-temporal/temporal-image/plugin/internal/serverconfig"
	"github.com/hardened-temporal/temporal-image/plugin/internal/wiring"
	"github.com/urfave/cli/v2"
	"go.temporal.io/server/common/build"
	"go.temporal.io/server/common/debug"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/temporal"
)

func startCommand(getenv func(string) string) *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "Start Temporal server",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:    "services",
				Aliases: []string{"s"},
				Usage:   "comma separated list of services to start. Deprecated",
				Hidden:  true,
			},
			&cli.StringSliceFlag{
				Name:    "service",
				Aliases: []string{"svc"},
				Value:   cli.NewStringSlice(temporal.DefaultServices...),
				Usage:   "service(s) to start; default adds internal-frontend when the config defines it",
				EnvVars: []string{"TEMPORAL_SERVICES"},
			},
		},
		Before: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cli.Exit("ERROR: start command doesn't support arguments. Use --service flag instead.", 1)
			}
			return nil
		},
		Action: func(c *cli.Context) error { return start(c, getenv) },
	}
}

func start(c *cli.Context, getenv func(string) string) error {
	in := configInputs(c, getenv)
	loc, err := serverconfig.Resolve(in)
	if err != nil {
		return cli.Exit("ERROR: "+err.Error(), 1)
	}
	noAuthAllowed, err := allowNoAuth(c, getenv)
	if err != nil {
		return cli.Exit("ERROR: "+err.Error(), 1)
	}
	services := c.StringSlice("service")
	explicitServices := c.IsSet("service")
	if c.IsSet("services") { // upstream's old form: --services=frontend,history
		stdlog.Println("WARNING: --services flag is deprecated. Specify multiply --service flags instead.")
		services, explicitServices = strings.Split(c.String("services"), ","), true
	}

	cfg, err := loc.Load()
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	logger := log.NewZapLogger(log.BuildZapLogger(cfg.Log))
	logBuildInfo(logger, loc)

	// Authorization is settled before anything listens: a config error stops start-up.
	authzFile, err := serverconfig.ResolveAuthzFile(in, loc)
	if err != nil {
		return cli.Exit("ERROR: authorization config: "+err.Error(), 1)
	}
	setup, err := wiring.LoadAuthorization(authzFile, cfg, loc)
	if err != nil {
		return cli.Exit("ERROR: invalid authorization config: "+err.Error(), 1)
	}
	if setup.Config == nil && !noAuthAllowed {
		return cli.Exit("ERROR: "+wiring.NoAuthorizationMessage(loc), 1)
	}

	services = wiring.ServicesToStart(services, explicitServices, cfg)
	if setup.Config != nil {
		if err := wiring.CheckInternalFrontend(services, cfg); err != nil {
			return cli.Exit("ERROR: "+err.Error(), 1)
		}
	}

	// One metrics handler for the server and our authorizer, so that authorization
	// decisions are exported next to the server's own metrics.
	metricsHandler, err := metrics.MetricsHandlerFromConfig(logger, cfg.Global.Metrics)
	if err != nil {
		return cli.Exit(fmt.Sprintf("Unable to create metrics handler: %v.", err), 1)
	}
	authzOpts, closeAuthz, err := wiring.AuthorizationOptions(cfg, setup, logger, metricsHandler)
	if err != nil {
		return cli.Exit("ERROR: invalid authorization config: "+err.Error(), 1)
	}
	defer closeAuthz()

	opts := append([]temporal.ServerOption{
		temporal.ForServices(services),
		temporal.WithConfig(cfg),
		temporal.WithLogger(logger),
		temporal.InterruptOn(temporal.InterruptCh()),
		temporal.WithCustomMetricsHandler(metricsHandler),
	}, authzOpts...)
	s, err := temporal.NewServer(opts...)
	if err != nil {
		return cli.Exit(fmt.Sprintf("Unable to create server. Error: %v.", err), 1)
	}
	if err := s.Start(); err != nil {
		return cli.Exit(fmt.Sprintf("Unable to start server. Error: %v", err), 1)
	}
	return cli.Exit("All services are stopped.", 0)
}

func logBuildInfo(logger log.Logger, loc serverconfig.Location) {
	logger.Info("Build info.",
		tag.NewStringTag("image-version", buildinfo.Version),
		tag.NewStringTag("image-commit", buildinfo.Commit),
		tag.NewStringTag("image-build-date", buildinfo.Date),
		tag.String("server-version", buildinfo.TemporalVersion()),
		tag.String("go-version", build.InfoData.GoVersion),
		tag.Bool("debug-mode", debug.Enabled),
		tag.NewStringTag("server-config", loc.String()),
	)
}
