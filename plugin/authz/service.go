package authz

import (
	"net/http"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"google.golang.org/grpc"
)

// Options are the run-time dependencies of a Service. Zero values are replaced by
// working defaults (a no-op logger and metrics handler, http.Client without redirects
// to other schemes, time.Now).
type Options struct {
	Logger         log.Logger
	MetricsHandler metrics.Handler
	HTTPClient     *http.Client
	Now            func() time.Time
}

// Service is the authorization plugged into the frontend: a claim mapper that verifies
// tokens, an authorizer that decides, and an interceptor that filters ListNamespaces.
type Service struct {
	config      *Config
	claimMapper *claimMapper
	authorizer  *authorizer
}

// New validates cfg, compiles it and starts fetching signing keys in the background.
// It does not wait for the identity provider: until keys arrive every token is denied.
func New(cfg *Config, opts Options) (*Service, error) {
	opts = opts.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	authz, err := newAuthorizer(cfg, opts)
	if err != nil {
		return nil, err
	}
	mapper, err := newClaimMapper(cfg, opts)
	if err != nil {
		return nil, err
	}
	return &Service{config: cfg, claimMapper: mapper, authorizer: authz}, nil
}

func (s *Service) ClaimMapper() authorization.ClaimMapper { return s.claimMapper }
func (s *Service) Authorizer() authorization.Authorizer   { return s.authorizer }

// ListNamespacesInterceptor removes from ListNamespaces responses the namespaces the
// caller holds no grant in (unless authorizer.filterListNamespaces is false).
func (s *Service) ListNamespacesInterceptor() grpc.UnaryServerInterceptor {
	return s.authorizer.listNamespacesInterceptor()
}

// Close stops background key refreshes.
func (s *Service) Close() { s.claimMapper.close() }

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = log.NewNoopLogger()
	}
	if o.MetricsHandler == nil {
		o.MetricsHandler = metrics.NoopMetricsHandler
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
