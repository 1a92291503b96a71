package authz_test

// Benchmarks of our claim mapper and authorizer against upstream's defaults, side by side
// in the same process, with the same keys and the same tokens. They only run with -bench:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./authz/
//
// Every benchmark name ends in /ours or /upstream; everything before that names the work,
// so tooling/bench.py can pair them and compute the ratio.
//
// Upstream's side is the real thing: authorization.NewDefaultTokenKeyProvider fetching
// the test issuer's JWKS over HTTP, authorization.NewDefaultJWTClaimMapper and
// authorization.NewDefaultAuthorizer. Ours is built from the very same
// global.authorization section through authz.FromUpstream: the seed deployment.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/authz"
	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/namespace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

const (
	// firstSightPool distinct tokens are cycled through with a cache of firstSightCache
	// entries, so every lookup misses (LRU evicts each token before it comes round again):
	// what a server pays for a token it has not seen.
	firstSightPool  = 512
	firstSightCache = 128
	// repeatedPool tokens, each seen again and again: a handful of clients, each reusing
	// its token until it expires (what SDK clients do).
	repeatedPool = 16
)

// benchPermissions is what every benchmark token carries: an application that writes in
// its own namespace, reads another, administers a third and may read cluster info.
var benchPermissions = []string{"default:write", "orders:read", "payments:admin", "temporal-system:read"}

// signingKeys are the algorithms upstream's default key provider supports.
var signingKeys = []struct{ alg, kid string }{
	{"RS256", testissuer.KidRSA},
	{"ES256", testissuer.KidEC},
}

// benchIssuer is one test issuer and upstream's global.authorization pointing at it.
type benchIssuer struct {
	issuer   *testissuer.Issuer
	upstream *config.Authorization
}

func newBenchIssuer(b *testing.B) *benchIssuer {
	iss := testissuer.New(b)
	return &benchIssuer{
		issuer: iss,
		upstream: &config.Authorization{
			JWTKeyProvider: config.JWTKeyProvider{
				KeySourceURIs:   []string{iss.JWKSURL()},
				RefreshInterval: time.Hour,
			},
			Authorizer:  "default",
			ClaimMapper: "default",
		},
	}
}

// mint signs n distinct tokens (distinct subjects) with kid, as "Bearer ..." AuthInfos.
func (bi *benchIssuer) mint(b *testing.B, kid string, n int) []*authorization.AuthInfo {
	b.Helper()
	infos := make([]*authorization.AuthInfo, n)
	for i := range infos {
		tok := bi.issuer.Issue(b, map[string]any{
			"sub":         fmt.Sprintf("bench-client-%d", i),
			"permissions": benchPermissions,
		}, testissuer.WithKey(kid))
		infos[i] = &authorization.AuthInfo{AuthToken: "Bearer " + tok}
	}
	return infos
}

// ours builds our Service from the same upstream section, with the given token cache
// size (negative: no cache), and waits until it has fetched the issuer's keys.
func (bi *benchIssuer) ours(b *testing.B, cacheSize int, probe *authorization.AuthInfo) *authz.Service {
	b.Helper()
	upstreamCopy := *bi.upstream
	cfg, err := authz.FromUpstream(&upstreamCopy, "benchmark global.authorization")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Tokens.CacheSize = cacheSize
	svc, err := authz.New(cfg, authz.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Close)
	// Keys are fetched in the background; the probe token verifies once they are in.
	// (With the cache on, this also puts the probe in the cache: callers warm up anyway.)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := svc.ClaimMapper().GetClaims(probe)
		if err == nil {
			return svc
		}
		if time.Now().After(deadline) {
			b.Fatalf("our claim mapper still rejects a valid token after 10s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// upstreamMapper is Temporal's default JWT claim mapper with Temporal's default key
// provider, which fetches the JWKS synchronously when created.
func (bi *benchIssuer) upstreamMapper(b *testing.B) authorization.ClaimMapper {
	b.Helper()
	provider := authorization.NewDefaultTokenKeyProvider(bi.upstream, log.NewNoopLogger())
	b.Cleanup(provider.Close)
	return authorization.NewDefaultJWTClaimMapper(provider, bi.upstream, log.NewNoopLogger())
}

// mustMapAll checks, before anything is timed, that mapper accepts every token and maps
// it to the permissions it carries: a benchmark of a mapper that rejects is worthless.
func mustMapAll(b *testing.B, mapper authorization.ClaimMapper, infos []*authorization.AuthInfo) {
	b.Helper()
	for i, info := range infos {
		c, err := mapper.GetClaims(info)
		if err != nil {
			b.Fatalf("token %d rejected: %v", i, err)
		}
		if c.Namespaces["default"] != authorization.RoleWriter || c.Namespaces["orders"] != authorization.RoleReader ||
			c.Namespaces["payments"] != authorization.RoleAdmin || c.System != authorization.RoleReader {
			b.Fatalf("token %d mapped to namespaces %v, system %v; want the roles of %v", i, c.Namespaces, c.System, benchPermissions)
		}
	}
}

func runGetClaims(b *testing.B, mapper authorization.ClaimMapper, infos []*authorization.AuthInfo) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := mapper.GetClaims(infos[i%len(infos)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimMapping: GetClaims for a token seen for the first time (signature
// verification and mapping) and for a token seen before (our cache; upstream has none).
func BenchmarkClaimMapping(b *testing.B) {
	bi := newBenchIssuer(b)
	for _, key := range signingKeys {
		fresh := bi.mint(b, key.kid, firstSightPool)
		repeated := fresh[:repeatedPool]

		b.Run(key.alg+"/first-sight/ours", func(b *testing.B) {
			m := bi.ours(b, firstSightCache, fresh[0]).ClaimMapper()
			mustMapAll(b, m, fresh) // also leaves the last tokens cached, the first ones evicted
			runGetClaims(b, m, fresh)
		})
		b.Run(key.alg+"/first-sight/upstream", func(b *testing.B) {
			m := bi.upstreamMapper(b)
			mustMapAll(b, m, fresh)
			runGetClaims(b, m, fresh)
		})
		b.Run(key.alg+"/repeated/ours", func(b *testing.B) {
			m := bi.ours(b, 0, repeated[0]).ClaimMapper() // 0: the default cache size
			mustMapAll(b, m, repeated)
			runGetClaims(b, m, repeated)
		})
		b.Run(key.alg+"/repeated/upstream", func(b *testing.B) {
			m := bi.upstreamMapper(b)
			mustMapAll(b, m, repeated)
			runGetClaims(b, m, repeated)
		})
	}
}

const workflowService = "/temporal.api.workflowservice.v1.WorkflowService/"

// callTarget is one request of a mix, with the request message the frontend would see.
type callTarget struct {
	method    string // short name
	namespace string
	request   any
}

func (c callTarget) fullMethod() string { return workflowService + c.method }

// allowMix is a realistic day for the benchmark token: mostly worker and client traffic
// in its own namespace, some reads elsewhere, a little administration and cluster reads.
// Both authorizers must allow every call (checked before timing).
var allowMix = []callTarget{
	{"PollWorkflowTaskQueue", "default", &workflowservice.PollWorkflowTaskQueueRequest{Namespace: "default"}},
	{"RespondWorkflowTaskCompleted", "default", &workflowservice.RespondWorkflowTaskCompletedRequest{Namespace: "default"}},
	{"PollActivityTaskQueue", "default", &workflowservice.PollActivityTaskQueueRequest{Namespace: "default"}},
	{"RespondActivityTaskCompleted", "default", &workflowservice.RespondActivityTaskCompletedRequest{Namespace: "default"}},
	{"RecordActivityTaskHeartbeat", "default", &workflowservice.RecordActivityTaskHeartbeatRequest{Namespace: "default"}},
	{"StartWorkflowExecution", "default", &workflowservice.StartWorkflowExecutionRequest{Namespace: "default"}},
	{"SignalWorkflowExecution", "default", &workflowservice.SignalWorkflowExecutionRequest{Namespace: "default"}},
	{"DescribeWorkflowExecution", "default", &workflowservice.DescribeWorkflowExecutionRequest{Namespace: "default"}},
	{"GetWorkflowExecutionHistory", "default", &workflowservice.GetWorkflowExecutionHistoryRequest{Namespace: "default"}},
	{"DescribeNamespace", "default", &workflowservice.DescribeNamespaceRequest{Namespace: "default"}},
	{"ListWorkflowExecutions", "orders", &workflowservice.ListWorkflowExecutionsRequest{Namespace: "orders"}},
	{"QueryWorkflow", "orders", &workflowservice.QueryWorkflowRequest{Namespace: "orders"}},
	{"CountWorkflowExecutions", "orders", &workflowservice.CountWorkflowExecutionsRequest{Namespace: "orders"}},
	{"TerminateWorkflowExecution", "payments", &workflowservice.TerminateWorkflowExecutionRequest{Namespace: "payments"}},
	{"UpdateNamespace", "payments", &workflowservice.UpdateNamespaceRequest{Namespace: "payments"}},
	{"GetClusterInfo", "", &workflowservice.GetClusterInfoRequest{}},
	{"GetSystemInfo", "", &workflowservice.GetSystemInfoRequest{}},
}

// denyMix: calls both authorizers deny to the same token (building the reason is the
// costly part of a denial). Its temporal-system:read reads every namespace, so the
// denials are writes and administration.
var denyMix = []callTarget{
	{"StartWorkflowExecution", "orders", &workflowservice.StartWorkflowExecutionRequest{Namespace: "orders"}},
	{"SignalWorkflowExecution", "secret", &workflowservice.SignalWorkflowExecutionRequest{Namespace: "secret"}},
	{"UpdateNamespace", "orders", &workflowservice.UpdateNamespaceRequest{Namespace: "orders"}},
	{"RegisterNamespace", "brand-new", &workflowservice.RegisterNamespaceRequest{Namespace: "brand-new"}},
}

func targetsOf(mix []callTarget) []*authorization.CallTarget {
	targets := make([]*authorization.CallTarget, len(mix))
	for i, c := range mix {
		targets[i] = &authorization.CallTarget{APIName: c.fullMethod(), Namespace: c.namespace, Request: c.request}
	}
	return targets
}

// mustDecide checks, before timing, that authorizer decides every target as want.
func mustDecide(b *testing.B, a authorization.Authorizer, claims *authorization.Claims, targets []*authorization.CallTarget, want authorization.Decision) {
	b.Helper()
	for _, t := range targets {
		r, err := a.Authorize(context.Background(), claims, t)
		if err != nil {
			b.Fatalf("%s in %q: %v", t.APIName, t.Namespace, err)
		}
		if r.Decision != want {
			b.Fatalf("%s in %q: decision %v (reason %q), want %v", t.APIName, t.Namespace, r.Decision, r.Reason, want)
		}
	}
}

// BenchmarkAuthorize: one Authorize call per iteration, cycling through a mix of calls,
// with the claims each side's own mapper produced for the same token.
func BenchmarkAuthorize(b *testing.B) {
	bi := newBenchIssuer(b)
	token := bi.mint(b, testissuer.KidEC, 1)[0]
	ours := bi.ours(b, 0, token)
	ourClaims, err := ours.ClaimMapper().GetClaims(token)
	if err != nil {
		b.Fatal(err)
	}
	upstreamClaims, err := bi.upstreamMapper(b).GetClaims(token)
	if err != nil {
		b.Fatal(err)
	}
	upstream := authorization.NewDefaultAuthorizer()

	for _, mix := range []struct {
		name    string
		targets []*authorization.CallTarget
		want    authorization.Decision
	}{
		{"allow-mix", targetsOf(allowMix), authorization.DecisionAllow},
		{"deny-mix", targetsOf(denyMix), authorization.DecisionDeny},
	} {
		for _, side := range []struct {
			name   string
			a      authorization.Authorizer
			claims *authorization.Claims
		}{
			{"ours", ours.Authorizer(), ourClaims},
			{"upstream", upstream, upstreamClaims},
		} {
			b.Run(mix.name+"/"+side.name, func(b *testing.B) {
				mustDecide(b, side.a, side.claims, mix.targets, mix.want)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					if _, err := side.a.Authorize(ctx, side.claims, mix.targets[i%len(mix.targets)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// newInterceptor is Temporal's authorization interceptor as the frontend builds it
// (service/frontend/fx.go), with the dynamic-config defaults of v1.31.
func newInterceptor(mapper authorization.ClaimMapper, authorizer authorization.Authorizer) *authorization.Interceptor {
	return authorization.NewInterceptor(
		mapper, authorizer, metrics.NoopMetricsHandler, log.NewNoopLogger(),
		knownNamespaces{}, nil, "", "",
		dynamicconfig.GetBoolPropertyFn(false),                    // frontend.exposeAuthorizerErrors
		dynamicconfig.GetBoolPropertyFn(false),                    // system.enableCrossNamespaceCommands
		dynamicconfig.GetBoolPropertyFnFilteredByNamespace(false), // frontend.enablePrincipalPropagation
		dynamicconfig.GetBoolPropertyFn(false),                    // frontend.disableStreamingAuthorizer
	)
}

// knownNamespaces stands in for the frontend's namespace registry, which the interceptor
// asks whether a namespace exists (to tag its metrics): the mixes' namespaces exist.
type knownNamespaces struct{}

func (knownNamespaces) Exists(name namespace.Name) error {
	switch name {
	case "default", "orders", "payments":
		return nil
	}
	return fmt.Errorf("namespace %q not found", name)
}

// interceptorCall is one incoming request: gRPC metadata carrying the token, the request
// and the method, as the frontend's interceptor chain receives them.
type interceptorCall struct {
	ctx  context.Context
	req  any
	info *grpc.UnaryServerInfo
}

func interceptorCalls(tokens []*authorization.AuthInfo, mix []callTarget) []interceptorCall {
	var calls []interceptorCall
	for i, tok := range tokens {
		c := mix[i%len(mix)]
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", tok.AuthToken))
		calls = append(calls, interceptorCall{ctx, c.request, &grpc.UnaryServerInfo{FullMethod: c.fullMethod()}})
	}
	return calls
}

// BenchmarkInterceptor: the whole authorization step of a frontend call, through
// Temporal's own interceptor: read the header, map claims, authorize, call the handler.
func BenchmarkInterceptor(b *testing.B) {
	bi := newBenchIssuer(b)
	handled := 0
	handler := func(context.Context, any) (any, error) { handled++; return nil, nil }
	for _, key := range signingKeys {
		fresh := bi.mint(b, key.kid, firstSightPool)
		for _, c := range []struct {
			name      string
			tokens    []*authorization.AuthInfo
			cacheSize int
		}{
			{"first-sight", fresh, firstSightCache},
			{"repeated", fresh[:repeatedPool], 0},
		} {
			// Each token goes with a different call of the mix, so both vary.
			calls := interceptorCalls(c.tokens, allowMix)
			for _, side := range []string{"ours", "upstream"} {
				b.Run(key.alg+"/"+c.name+"/"+side, func(b *testing.B) {
					var ic *authorization.Interceptor
					if side == "ours" {
						svc := bi.ours(b, c.cacheSize, c.tokens[0])
						ic = newInterceptor(svc.ClaimMapper(), svc.Authorizer())
					} else {
						ic = newInterceptor(bi.upstreamMapper(b), authorization.NewDefaultAuthorizer())
					}
					for _, call := range calls { // every call must get through
						if _, err := ic.Intercept(call.ctx, call.req, call.info, handler); err != nil {
							b.Fatalf("%s: %v", call.info.FullMethod, err)
						}
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; b.Loop(); i++ {
						call := calls[i%len(calls)]
						if _, err := ic.Intercept(call.ctx, call.req, call.info, handler); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
	if handled == 0 {
		b.Fatal("the handler was never called")
	}
}
