package wiring

import (
	"errors"
	"fmt"
	stdlog "log"

	"github.com/hardened-temporal/temporal-image/plugin/authz"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/temporal"
)

// AuthorizationOptions returns the server options that install authorization, and a
// function to call once the server has stopped. With setup.Config nil (the operator
// opted out) it installs upstream's no-op authorizer and logs a loud warning; the caller
// must have checked the opt-out. metricsHandler must be the server's own handler
// (temporal.WithCustomMetricsHandler), so decisions are exported with its metrics.
func AuthorizationOptions(cfg *config.Config, setup Setup, logger log.Logger, metricsHandler metrics.Handler) ([]temporal.ServerOption, func(), error) {
	if setup.Config == nil {
		warnNoAuthorization(logger)
		return []temporal.ServerOption{temporal.WithAuthorizer(authorization.NewNoopAuthorizer())}, func() {}, nil
	}
	svc, err := authz.New(setup.Config, authz.Options{Logger: logger, MetricsHandler: metricsHandler})
	if err != nil {
		return nil, nil, err
	}
	// Upstream's audience getter, as upstream's binary: it fills AuthInfo.Audience from
	// global.authorization.audience for claim mappers that read it.
	audienceMapper, err := authorization.GetAudienceMapperFromConfig(&cfg.Global.Authorization)
	if err != nil {
		svc.Close()
		return nil, nil, fmt.Errorf("global.authorization.audience: %w", err)
	}
	logger.Info("Authorization is on.", tag.NewStringTag("authorization-config", setup.Source))
	return []temporal.ServerOption{
		temporal.WithAuthorizer(svc.Authorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return svc.ClaimMapper() }),
		temporal.WithAudienceGetter(func(*config.Config) authorization.JWTAudienceMapper { return audienceMapper }),
		temporal.WithChainedFrontendGrpcInterceptors(svc.ListNamespacesInterceptor()),
	}, svc.Close, nil
}

// warnNoAuthorization is the loud line an operator who opted out must not miss: on
// stderr and in the server log.
func warnNoAuthorization(logger log.Logger) {
	const msg = "AUTHORIZATION IS OFF (--allow-no-auth / " + EnvAllowNoAuth + "): anyone who can reach " +
		"the frontend can read, start, terminate and delete every workflow and administer the " +
		"cluster. Never run like this outside development."
	stdlog.Println("WARNING: " + msg)
	logger.Warn(msg)
}

// CheckInternalFrontend refuses, with authorization on, a process that runs the worker
// service while the config defines no services.internal-frontend. The system worker
// would call the public frontend without a token and be denied; upstream's worker then
// stops the whole process ("error starting scanner: Request unauthorized") and, before
// that, schedules never fire and batch operations never run. Saying so up front is
// clearer than that crash.
func CheckInternalFrontend(services []string, cfg *config.Config) error {
	if !SystemWorkerLacksInternalFrontend(services, cfg) {
		return nil
	}
	return errors.New("authorization is on but services.internal-frontend is not configured: the " +
		"system worker (schedules, batch operations, scanners) would call the public frontend " +
		"without a token, be denied, and stop the server. Add services.internal-frontend (rpc " +
		"grpcPort, membershipPort, httpPort) bound to 127.0.0.1 or protected by internode mTLS: " +
		"it treats every caller as system admin. See config/temporal/development.yaml")
}
