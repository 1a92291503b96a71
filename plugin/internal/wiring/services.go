package wiring

import (
	"slices"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
)

// InternalFrontend is the service the system worker calls when it is configured.
const InternalFrontend = string(primitives.InternalFrontendService)

// ServicesToStart returns the services this process runs. Upstream's default set lacks
// internal-frontend; we add it when the config defines it and the operator did not pick
// services explicitly, because with authorization on the system worker (schedules, batch
// operations, scanners) can only reach the cluster through internal-frontend, which
// maps its callers to system admin (upstream temporal/fx.go, genericFrontendServiceProvider).
func ServicesToStart(requested []string, explicit bool, cfg *config.Config) []string {
	if explicit {
		return requested
	}
	services := slices.Clone(temporal.DefaultServices)
	if _, ok := cfg.Services[InternalFrontend]; ok && !slices.Contains(services, InternalFrontend) {
		services = append(services, InternalFrontend)
	}
	return services
}

// SystemWorkerLacksInternalFrontend reports the configuration in which, with
// authorization on, the system worker calls the public frontend without a token and is
// denied (see CheckInternalFrontend).
func SystemWorkerLacksInternalFrontend(services []string, cfg *config.Config) bool {
	_, configured := cfg.Services[InternalFrontend]
	return slices.Contains(services, string(primitives.WorkerService)) && !configured
}
