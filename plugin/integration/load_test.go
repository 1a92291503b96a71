package integration

// Concurrency and load against the in-process server: many SDK clients at once, each
// with its own token, mixing calls that must be allowed with calls that must be denied
// (by the authorizer, or already by the claim mapper). It passes when every decision is
// the expected one, nothing else goes wrong, the heap stays bounded, the load leaves no
// goroutine behind, and once the server and the clients are stopped no goroutine of ours
// (authorization, key refreshers, the issuer fixture, the callers) is still running.
//
// Temporal's in-process server itself leaves some goroutines after Stop (ringpop timers,
// membership watchers, the system worker's SDK pollers, gRPC connections between its
// services, rate-limiter cleanups): a fixed set per server started, not per request, and
// not ours to stop. They are counted and logged, not failed on.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
)

const (
	loadCallers           = 60 // concurrent SDK clients
	loadRequestsPerCaller = 60 // DescribeNamespace calls each, alternating default and other
	// loadGoroutineSlack is how many more goroutines may run after the load than before
	// it (same clients, same server): idle gRPC streams and timers come and go.
	loadGoroutineSlack = 10
	// loadHeapGrowthLimit bounds the live heap growth over the whole load.
	loadHeapGrowthLimit = 64 << 20
)

// switchableBearer is a HeadersProvider whose token is set after the client has dialled:
// a client whose token the claim mapper refuses could not even dial (GetSystemInfo is
// public, but only without a token or with a valid one).
type switchableBearer struct{ token atomic.Pointer[string] }

func (s *switchableBearer) GetHeaders(context.Context) (map[string]string, error) {
	if p := s.token.Load(); p != nil {
		return map[string]string{"authorization": "Bearer " + *p}, nil
	}
	return nil, nil
}

// loadCaller is one client: its token and what each namespace must answer.
type loadCaller struct {
	subject string
	token   string
	allowed map[string]bool // namespace → allowed; a denied namespace's reason names subject
	// mapperRefuses: the token itself is refused, so every call is denied with no reason.
	mapperRefuses bool
}

func newLoadCallers(t *testing.T, c *cluster) []loadCaller {
	stranger := testissuer.New(t) // signs well-formed tokens nobody trusts
	var callers []loadCaller
	for i := range loadCallers {
		subject := fmt.Sprintf("load-%02d", i)
		switch i % 6 {
		case 0, 1, 2: // default:read
			callers = append(callers, loadCaller{subject: subject, token: c.token(t, subject, "default:read"),
				allowed: map[string]bool{"default": true, otherNamespace: false}})
		case 3: // other:worker: DescribeNamespace is a worker call
			callers = append(callers, loadCaller{subject: subject, token: c.token(t, subject, otherNamespace+":worker"),
				allowed: map[string]bool{"default": false, otherNamespace: true}})
		case 4: // expired an hour ago
			callers = append(callers, loadCaller{subject: subject, mapperRefuses: true, token: c.issuer.Issue(t, map[string]any{
				"sub": subject, "aud": audience, "permissions": []string{"default:admin"}, "exp": time.Now().Add(-time.Hour).Unix()})})
		case 5: // signed by an untrusted issuer
			callers = append(callers, loadCaller{subject: subject, mapperRefuses: true, token: stranger.Issue(t, map[string]any{
				"sub": subject, "aud": audience, "permissions": []string{"default:admin", otherNamespace + ":admin"}})})
		}
	}
	return callers
}

// checkDecision says what is wrong with the answer to caller's DescribeNamespace(ns).
func (lc *loadCaller) checkDecision(ns string, resp *workflowservice.DescribeNamespaceResponse, err error) error {
	if !lc.mapperRefuses && lc.allowed[ns] {
		if err != nil {
			return fmt.Errorf("%s: DescribeNamespace(%s) must be allowed: %v", lc.subject, ns, err)
		}
		if got := resp.GetNamespaceInfo().GetName(); got != ns {
			return fmt.Errorf("%s: DescribeNamespace(%s) answered for %q", lc.subject, ns, got)
		}
		return nil
	}
	var denied *serviceerror.PermissionDenied
	if !errors.As(err, &denied) {
		return fmt.Errorf("%s: DescribeNamespace(%s) must be denied; got %v (%T)", lc.subject, ns, err, err)
	}
	if lc.mapperRefuses {
		if denied.Reason != "" {
			return fmt.Errorf("%s: refused token denied with reason %q, want the generic denial", lc.subject, denied.Reason)
		}
		return nil
	}
	if want := fmt.Sprintf("subject %q may not call DescribeNamespace in namespace %q", lc.subject, ns); !strings.Contains(denied.Reason, want) {
		return fmt.Errorf("%s: denial reason %q lacks %q", lc.subject, denied.Reason, want)
	}
	return nil
}

type loadStats struct {
	allowed, deniedByAuthorizer, deniedToken atomic.Int64
	mu                                       sync.Mutex
	latencies                                []time.Duration
	failures                                 []string
}

func (s *loadStats) fail(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) < 20 {
		s.failures = append(s.failures, msg)
	}
}

func TestLoadConcurrentMixedTokens(t *testing.T) {
	goroutinesBefore := runtime.NumGoroutine()
	var stats loadStats

	t.Run("load", func(t *testing.T) {
		c := startCluster(t)
		callers := newLoadCallers(t, c)

		// Dial every client first (GetSystemInfo, without a token), then give it its token.
		clients := make([]workflowservice.WorkflowServiceClient, len(callers))
		for i := range callers {
			headers := &switchableBearer{}
			opts := c.options("default", "")
			opts.HeadersProvider = headers
			clients[i] = c.dialWith(t, opts).WorkflowService()
			headers.token.Store(&callers[i].token)
		}

		goroutinesIdle := settledGoroutines(0)
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)

		start := make(chan struct{})
		var wg sync.WaitGroup
		began := time.Now()
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lc := &callers[i]
				<-start
				for r := range loadRequestsPerCaller {
					ns := "default"
					if (r+i)%2 == 1 {
						ns = otherNamespace
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					t0 := time.Now()
					resp, err := clients[i].DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
					d := time.Since(t0)
					cancel()
					if bad := lc.checkDecision(ns, resp, err); bad != nil {
						stats.fail(bad.Error())
						continue
					}
					switch {
					case err == nil:
						stats.allowed.Add(1)
					case lc.mapperRefuses:
						stats.deniedToken.Add(1)
					default:
						stats.deniedByAuthorizer.Add(1)
					}
					stats.mu.Lock()
					stats.latencies = append(stats.latencies, d)
					stats.mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		elapsed := time.Since(began)

		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)

		total := int64(len(callers) * loadRequestsPerCaller)
		if len(stats.failures) > 0 {
			t.Fatalf("%d of %d decisions wrong or failed; first ones:\n%s", total-int64(len(stats.latencies)), total, strings.Join(stats.failures, "\n"))
		}
		if got := stats.allowed.Load() + stats.deniedByAuthorizer.Load() + stats.deniedToken.Load(); got != total {
			t.Fatalf("%d answers for %d requests", got, total)
		}
		if stats.allowed.Load() < 1000 {
			t.Fatalf("only %d allowed requests; the load must authorize at least 1000", stats.allowed.Load())
		}
		growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		if growth > loadHeapGrowthLimit {
			t.Fatalf("live heap grew by %d MiB over the load (limit %d MiB)", growth>>20, loadHeapGrowthLimit>>20)
		}
		// Nothing a request started may outlive it.
		if n := settledGoroutines(goroutinesIdle + loadGoroutineSlack); n > goroutinesIdle+loadGoroutineSlack {
			t.Fatalf("%d goroutines after the load, %d before it (slack %d): the load left goroutines behind:\n%s",
				n, goroutinesIdle, loadGoroutineSlack, leftoverGoroutines())
		}
		sort.Slice(stats.latencies, func(a, b int) bool { return stats.latencies[a] < stats.latencies[b] })
		pct := func(p float64) time.Duration {
			return stats.latencies[int(p*float64(len(stats.latencies)-1))].Round(time.Microsecond)
		}
		t.Logf("load: %d requests from %d concurrent SDK clients in %v (%.0f req/s): %d allowed, %d denied by the authorizer, %d denied at the token; latency p50 %v, p99 %v, max %v; live heap %+d KiB",
			total, len(callers), elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(),
			stats.allowed.Load(), stats.deniedByAuthorizer.Load(), stats.deniedToken.Load(),
			pct(0.5), pct(0.99), pct(1), growth>>10)
	})
	if t.Failed() {
		return
	}

	// The subtest's cleanups have closed the clients, stopped the server and the
	// authorization service (key refreshers), and closed the issuers. Goroutines wind
	// down asynchronously, so allow them time.
	var ours []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		ours = goroutinesOfOurs()
		if len(ours) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(ours) > 0 {
		t.Fatalf("%d goroutines of ours still running after shutdown:\n%s", len(ours), strings.Join(ours, "\n\n"))
	}
	t.Logf("goroutines: %d before the server started, %d after shutdown, none of ours (the rest are Temporal's in-process leftovers)",
		goroutinesBefore, runtime.NumGoroutine())
}

// ourCode marks stack frames of code this test started and must have stopped.
var ourCode = []string{
	"temporal-image/plugin/authz.",                                     // claim mapper, key refreshers
	"temporal-image/plugin/internal/testissuer",                        // the issuers
	"net/http/httptest.",                                               // their servers
	"temporal-image/plugin/integration.TestLoadConcurrentMixedTokens.", // the callers
	"go.temporal.io/sdk/internal.(*WorkflowClient)",                    // our SDK clients
}

// goroutinesOfOurs returns the stacks of running goroutines (other than this one) that
// are in our code.
func goroutinesOfOurs() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var ours []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the calling goroutine comes first
			continue
		}
		for _, mark := range ourCode {
			if strings.Contains(g, mark) {
				ours = append(ours, g)
				break
			}
		}
	}
	return ours
}

// settledGoroutines waits (up to 10s) until at most target goroutines run, or for the
// count to stop changing when target is 0, and returns the count.
func settledGoroutines(target int) int {
	deadline := time.Now().Add(10 * time.Second)
	last := runtime.NumGoroutine()
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		n := runtime.NumGoroutine()
		if (target > 0 && n <= target) || (target == 0 && n == last) {
			return n
		}
		last = n
	}
	return runtime.NumGoroutine()
}

// dialWith is dial with caller-made options.
func (c *cluster) dialWith(t *testing.T, opts client.Options) client.Client {
	t.Helper()
	cl, err := client.Dial(opts)
	if err != nil {
		t.Fatalf("client.Dial: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// leftoverGoroutines lists the running goroutines' stacks, for the leak report.
func leftoverGoroutines() string {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	if os.Getenv("LOAD_TEST_FULL_STACKS") == "" && b.Len() > 20000 {
		return b.String()[:20000] + "\n... (set LOAD_TEST_FULL_STACKS=1 for all)"
	}
	return b.String()
}
