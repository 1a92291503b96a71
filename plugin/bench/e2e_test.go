//go:build e2ebench

package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/authz"
	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"github.com/hardened-temporal/temporal-image/plugin/internal/wiring"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"
)

var (
	outPath  = flag.String("e2e.out", "", "write every run's numbers as JSON to this file")
	duration = flag.Duration("e2e.duration", 8*time.Second, "measured time of each run")
	warmup   = flag.Duration("e2e.warmup", 2*time.Second, "unmeasured load before each run")
	rounds   = flag.Int("e2e.rounds", 3, "runs per mode and load; the modes alternate (auth, noauth, auth, ...)")
	callers  = flag.String("e2e.callers", "10,50", "comma-separated numbers of concurrent callers")
)

const (
	audience    = "temporal-bench"
	callTimeout = 30 * time.Second
)

// Run is one measured run: one server, one workload, one number of callers.
type Run struct {
	Mode       string  `json:"mode"` // "auth" or "noauth"
	Workload   string  `json:"workload"`
	Callers    int     `json:"callers"`
	Round      int     `json:"round"`
	Calls      int     `json:"calls"`  // successful gRPC calls
	Errors     int     `json:"errors"` // failed calls, denials included
	Denied     int     `json:"denied"` // PermissionDenied: must never happen
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput"` // calls per second
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
}

// target is one running server and a client that may do everything the load does.
type target struct {
	mode      string
	namespace string
	client    client.Client
}

// TestEndToEndLoad measures what authorization costs a whole server: the same load,
// alternately against a server with our authorization and one without.
func TestEndToEndLoad(t *testing.T) {
	callerCounts, err := parseCallers(*callers)
	if err != nil {
		t.Fatal(err)
	}
	issuer := testissuer.New(t)
	targets := []*target{startAuthServer(t, issuer), startNoAuthServer(t)}

	workloads := []workload{describeNamespace, startAndSignal}
	var runs []Run
	for _, n := range callerCounts {
		for _, w := range workloads {
			for round := 1; round <= *rounds; round++ {
				for _, tg := range targets {
					r := drive(t, tg, w, n, round)
					t.Logf("%-6s %-18s callers=%-3d round=%d: %7.1f calls/s  p50 %6.2f ms  p99 %6.2f ms  errors %d",
						r.Mode, r.Workload, r.Callers, r.Round, r.Throughput, r.P50ms, r.P99ms, r.Errors)
					// Server errors under overload (SQLite timeouts on a busy host) are
					// reported, not fatal; a denial means the load is not what we think.
					if r.Denied > 0 || r.Calls == 0 {
						t.Errorf("%s %s with %d callers: %d calls succeeded, %d were denied", r.Mode, r.Workload, n, r.Calls, r.Denied)
					}
					runs = append(runs, r)
				}
			}
		}
	}
	if *outPath != "" {
		data, err := json.MarshalIndent(runs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*outPath, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startAuthServer starts a server with our authorization, wired exactly as the binary
// does it (wiring.AuthorizationOptions), trusting the test issuer. It returns a client
// whose token grants write in the server's namespace, after checking that a client
// without a token is refused: the "auth" numbers must come from a server that enforces.
func startAuthServer(t *testing.T, issuer *testissuer.Issuer) *target {
	cfg := &authz.Config{Issuers: []authz.IssuerConfig{{
		Issuer:    issuer.URL(),
		JWKSURI:   issuer.JWKSURL(),
		Audiences: []string{audience},
	}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, wiring.Setup{Config: cfg, Source: "end-to-end benchmark"})
	ns := ts.GetDefaultNamespace()
	token := issuer.Issue(t, map[string]any{
		"sub":         "bench-load",
		"aud":         audience,
		"permissions": []string{ns + ":write"},
		"exp":         time.Now().Add(24 * time.Hour).Unix(),
	})

	anonymous := ts.NewClientWithOptions(client.Options{Logger: quietLogger{}})
	_, err := anonymous.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	var denied *serviceerror.PermissionDenied
	if !errors.As(err, &denied) {
		t.Fatalf("the auth server let a call without a token through (error %v): it does not enforce authorization", err)
	}

	c := ts.NewClientWithOptions(client.Options{Logger: quietLogger{}, HeadersProvider: bearer(token)})
	waitUntilServing(t, c, ns) // our keys are fetched in the background
	return &target{mode: "auth", namespace: ns, client: c}
}

// startNoAuthServer starts a server the way --allow-no-auth does: upstream's no-op
// authorizer and no claim mapper.
func startNoAuthServer(t *testing.T) *target {
	ts := startServer(t, wiring.Setup{})
	ns := ts.GetDefaultNamespace()
	c := ts.NewClientWithOptions(client.Options{Logger: quietLogger{}})
	waitUntilServing(t, c, ns)
	return &target{mode: "noauth", namespace: ns, client: c}
}

// startServer runs Temporal's all-in-one test server (in-memory SQLite, upstream's
// temporaltest) with the authorization options the binary would install and a
// Prometheus metrics handler shared by the server and the authorizer, as in the binary.
func startServer(t *testing.T, setup wiring.Setup) *temporaltest.TestServer {
	logger := log.NewNoopLogger()
	mh, err := metrics.MetricsHandlerFromConfig(logger, &metrics.Config{
		Prometheus: &metrics.PrometheusConfig{ListenAddress: "127.0.0.1:0", HandlerPath: "/metrics"},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts, closeAuthz, err := wiring.AuthorizationOptions(&config.Config{}, setup, logger, mh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAuthz)
	opts = append(opts, temporal.WithCustomMetricsHandler(mh), temporal.WithDynamicConfigClient(benchDynamicConfig))
	return temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseServerOptions(opts...))
}

// benchDynamicConfig lifts the frontend's request rate limits (2400/s per instance and
// per namespace by default): the load must measure the server, not its rate limiter.
// It replaces temporaltest's dynamic config, so that one setting is repeated.
var benchDynamicConfig = dynamicconfig.StaticClient{
	dynamicconfig.FrontendRPS.Key():                             []dynamicconfig.ConstrainedValue{{Value: 1_000_000}},
	dynamicconfig.FrontendMaxNamespaceRPSPerInstance.Key():      []dynamicconfig.ConstrainedValue{{Value: 1_000_000}},
	dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
}

// waitUntilServing retries DescribeNamespace until it succeeds (the namespace registry
// and, with auth, the signing keys load in the background).
func waitUntilServing(t *testing.T, c client.Client, ns string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("DescribeNamespace %q still fails after 30s: %v", ns, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// workload is what one caller does in a loop: one iteration makes one or more calls and
// returns the latency of each.
type workload struct {
	name string
	do   func(ctx context.Context, tg *target, id string) ([]time.Duration, error)
}

var describeNamespace = workload{"DescribeNamespace", func(ctx context.Context, tg *target, _ string) ([]time.Duration, error) {
	start := time.Now()
	_, err := tg.client.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: tg.namespace})
	return []time.Duration{time.Since(start)}, err
}}

// startAndSignal starts a workflow (no worker runs it: the load is on the frontend and
// persistence, not on workflow code) and signals it.
var startAndSignal = workload{"Start+Signal", func(ctx context.Context, tg *target, id string) ([]time.Duration, error) {
	start := time.Now()
	run, err := tg.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "bench-no-worker"}, "BenchWorkflow")
	started := time.Since(start)
	if err != nil {
		return nil, err
	}
	start = time.Now()
	err = tg.client.SignalWorkflow(ctx, id, run.GetRunID(), "bench-signal", nil)
	return []time.Duration{started, time.Since(start)}, err
}}

// drive runs w with n concurrent callers against tg: warm-up first, then the measured
// duration, and returns the throughput and latency percentiles of the measured part.
func drive(t *testing.T, tg *target, w workload, n, round int) Run {
	if *warmup > 0 {
		load(tg, w, n, fmt.Sprintf("warm-%s-%d-%d", tg.mode, n, round), *warmup)
	}
	res := load(tg, w, n, fmt.Sprintf("run-%s-%d-%d", tg.mode, n, round), *duration)
	slices.Sort(res.latencies)
	r := Run{
		Mode: tg.mode, Workload: w.name, Callers: n, Round: round,
		Calls: len(res.latencies), Errors: res.errors, Denied: res.denied, Seconds: res.elapsed.Seconds(),
	}
	if r.Calls > 0 {
		r.Throughput = float64(r.Calls) / r.Seconds
		r.P50ms = ms(percentile(res.latencies, 0.50))
		r.P99ms = ms(percentile(res.latencies, 0.99))
	}
	for msg, count := range res.byMessage {
		t.Logf("%s %s with %d callers: %d x %s", tg.mode, w.name, n, count, msg)
	}
	return r
}

type loadResult struct {
	latencies []time.Duration
	errors    int
	denied    int
	byMessage map[string]int // how often each error message came back
	elapsed   time.Duration
}

// load runs n callers for d: each caller starts calls until the time is up and lets its
// last call finish (a call is never cut off, so every error is a real one).
func load(tg *target, w workload, n int, idPrefix string, d time.Duration) loadResult {
	var (
		mu  sync.Mutex
		res = loadResult{byMessage: map[string]int{}}
		wg  sync.WaitGroup
	)
	start := time.Now()
	stop := start.Add(d)
	for caller := range n {
		wg.Go(func() {
			var mine []time.Duration
			errs := map[string]int{}
			denied := 0
			for i := 0; time.Now().Before(stop); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				lat, err := w.do(ctx, tg, fmt.Sprintf("%s-%d-%d", idPrefix, caller, i))
				cancel()
				if err != nil {
					errs[err.Error()]++
					if errors.As(err, new(*serviceerror.PermissionDenied)) {
						denied++
					}
					continue
				}
				mine = append(mine, lat...)
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, mine...)
			res.denied += denied
			for msg, count := range errs {
				res.errors += count
				res.byMessage[msg] += count
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func parseCallers(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-e2e.callers: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// bearer sends the token the way SDK users configure it.
type bearer string

func (b bearer) GetHeaders(context.Context) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// quietLogger drops the SDK's log lines (retries at the end of a run would flood the output).
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

var _ sdklog.Logger = quietLogger{}
