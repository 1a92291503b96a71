package integration

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
)

// TestAuthorizationEndToEnd runs the whole permission matrix against ONE server: starting
// a Temporal server costs seconds, every subtest after that costs milliseconds.
func TestAuthorizationEndToEnd(t *testing.T) {
	c := startCluster(t)

	var (
		readerTok   = c.token(t, "reader@example.com", "default:read")
		writerTok   = c.token(t, "writer@example.com", "default:write")
		workerTok   = c.token(t, "worker-bot", "default:worker")
		nsAdminTok  = c.token(t, "ns-admin@example.com", "default:admin")
		sysAdminTok = c.token(t, "sys-admin@example.com", "temporal-system:admin")
	)

	// A real SDK worker, holding only default:worker, serves the task queue for the
	// whole test: workflows started by writers (and by the schedule) complete through it.
	workerClient := c.dial(t, "default", workerTok)
	w := worker.New(workerClient, taskQueue, worker.Options{})
	w.RegisterWorkflow(GreetWorkflow)
	w.RegisterWorkflow(TickWorkflow)
	w.RegisterActivity(Greet)
	requireNoError(t, w.Start(), "starting the default:worker worker")
	t.Cleanup(w.Stop)

	t.Run("no token reaches only GetSystemInfo", func(t *testing.T) {
		cl := c.dial(t, "default", "") // Dial succeeds only because GetSystemInfo is public
		_, err := cl.ListWorkflow(ctxTimeout(t, 10*time.Second), &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default"})
		requirePermissionDenied(t, err, "ListWorkflowExecutions")
		_, err = cl.WorkflowService().DescribeNamespace(ctxTimeout(t, 10*time.Second), &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
		requirePermissionDenied(t, err, "DescribeNamespace")
	})

	t.Run("default:read lists but cannot start", func(t *testing.T) {
		cl := c.dial(t, "default", readerTok)
		_, err := cl.ListWorkflow(ctxTimeout(t, 10*time.Second), &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default"})
		requireNoError(t, err, "reader ListWorkflow")
		_, err = cl.ExecuteWorkflow(ctxTimeout(t, 10*time.Second),
			client.StartWorkflowOptions{ID: "started-by-reader", TaskQueue: taskQueue}, GreetWorkflow)
		requirePermissionDenied(t, err, "reader@example.com", "StartWorkflowExecution", "default")
	})

	t.Run("default:write starts and signals, default:worker completes the workflow", func(t *testing.T) {
		cl := c.dial(t, "default", writerTok)
		ctx := ctxTimeout(t, 60*time.Second)
		run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "greet-writer", TaskQueue: taskQueue}, GreetWorkflow)
		requireNoError(t, err, "writer ExecuteWorkflow")
		requireNoError(t, cl.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "name", "world"), "writer SignalWorkflow")
		var greeting string
		requireNoError(t, run.Get(ctx, &greeting), "workflow result")
		if greeting != "hello, world" {
			t.Errorf("workflow result = %q, want %q", greeting, "hello, world")
		}
	})

	t.Run("default:worker cannot start workflows", func(t *testing.T) {
		_, err := workerClient.ExecuteWorkflow(ctxTimeout(t, 10*time.Second),
			client.StartWorkflowOptions{ID: "started-by-worker", TaskQueue: taskQueue}, GreetWorkflow)
		requirePermissionDenied(t, err, "worker-bot", "StartWorkflowExecution", "default")
	})

	t.Run("namespace admin updates its namespace but registers none", func(t *testing.T) {
		nc := c.namespaceClient(t, nsAdminTok)
		ctx := ctxTimeout(t, 10*time.Second)
		requireNoError(t, nc.Update(ctx, &workflowservice.UpdateNamespaceRequest{
			Namespace:  "default",
			UpdateInfo: &namespacepb.UpdateNamespaceInfo{Description: "updated by its admin"},
		}), "namespace admin UpdateNamespace")
		desc, err := nc.Describe(ctx, "default")
		requireNoError(t, err, "namespace admin DescribeNamespace")
		if got := desc.GetNamespaceInfo().GetDescription(); got != "updated by its admin" {
			t.Errorf("description = %q after UpdateNamespace", got)
		}
		err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: "by-namespace-admin", WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
		})
		requirePermissionDenied(t, err, "ns-admin@example.com", "RegisterNamespace")

		writerNC := c.namespaceClient(t, writerTok)
		err = writerNC.Update(ctx, &workflowservice.UpdateNamespaceRequest{
			Namespace:  "default",
			UpdateInfo: &namespacepb.UpdateNamespaceInfo{Description: "updated by a writer"},
		})
		requirePermissionDenied(t, err, "writer@example.com", "UpdateNamespace", "default")
	})

	t.Run("temporal-system:admin registers a namespace", func(t *testing.T) {
		nc := c.namespaceClient(t, sysAdminTok)
		ctx := ctxTimeout(t, 30*time.Second)
		requireNoError(t, nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: "registered-by-sysadmin", WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
		}), "system admin RegisterNamespace")
		desc, err := nc.Describe(ctx, "registered-by-sysadmin")
		requireNoError(t, err, "describing the new namespace")
		if got := desc.GetNamespaceInfo().GetName(); got != "registered-by-sysadmin" {
			t.Errorf("DescribeNamespace name = %q", got)
		}
	})

	t.Run("a user of default is denied in another namespace", func(t *testing.T) {
		cl := c.dial(t, otherNamespace, writerTok)
		_, err := cl.ListWorkflow(ctxTimeout(t, 10*time.Second), &workflowservice.ListWorkflowExecutionsRequest{Namespace: otherNamespace})
		requirePermissionDenied(t, err, "writer@example.com", "ListWorkflowExecutions", otherNamespace)
		_, err = cl.ExecuteWorkflow(ctxTimeout(t, 10*time.Second),
			client.StartWorkflowOptions{ID: "writer-in-other", TaskQueue: taskQueue}, GreetWorkflow)
		requirePermissionDenied(t, err, "writer@example.com", "StartWorkflowExecution", otherNamespace)
	})

	t.Run("ListNamespaces shows each caller only their namespaces", func(t *testing.T) {
		if got := c.listNamespaces(t, readerTok); !slices.Equal(got, []string{"default"}) {
			t.Errorf("default:read sees namespaces %v, want [default]", got)
		}
		all := c.listNamespaces(t, sysAdminTok)
		for _, want := range []string{"default", otherNamespace, "temporal-system"} {
			if !slices.Contains(all, want) {
				t.Errorf("temporal-system:admin sees namespaces %v, missing %q", all, want)
			}
		}
	})

	t.Run("rejected tokens", func(t *testing.T) {
		stranger := testissuer.New(t) // a well-formed issuer nobody configured
		now := time.Now()
		good := map[string]any{"sub": "mallory", "aud": audience, "permissions": []string{"default:read"}}
		with := func(changes map[string]any) map[string]any {
			claims := map[string]any{}
			for k, v := range good {
				claims[k] = v
			}
			for k, v := range changes {
				claims[k] = v
			}
			return claims
		}
		tests := []struct {
			name  string
			token string
		}{
			{"expired", c.issuer.Issue(t, with(map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}))},
			{"wrong issuer", stranger.Issue(t, good)},
			{"wrong audience", c.issuer.Issue(t, with(map[string]any{"aud": "another-service"}))},
			{"tampered payload", tamper(t, c.issuer.Issue(t, good), "permissions", []string{"temporal-system:admin"})},
			{"unsigned", c.issuer.Issue(t, good, testissuer.Unsigned())},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// Even GetSystemInfo is refused: a bad token is worse than no token.
				_, err := client.Dial(c.options("default", tt.token))
				requirePermissionDenied(t, err)
			})
		}
	})

	t.Run("a schedule created by a writer fires", func(t *testing.T) {
		cl := c.dial(t, "default", writerTok)
		ctx := ctxTimeout(t, 120*time.Second)
		handle, err := cl.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:   "tick-schedule",
			Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
			Action: &client.ScheduleWorkflowAction{
				ID: "tick", Workflow: TickWorkflow, TaskQueue: taskQueue,
			},
			TriggerImmediately: true,
		})
		requireNoError(t, err, "writer creates a schedule")
		t.Cleanup(func() { _ = handle.Delete(ctxTimeout(t, 10*time.Second)) })

		// The scheduler runs in the system worker, which starts the workflow through
		// internal-frontend; the test's worker then completes it.
		var started *client.ScheduleWorkflowExecution
		eventually(t, 90*time.Second, "the schedule's first action", func() error {
			desc, err := handle.Describe(ctx)
			if err != nil {
				return err
			}
			for _, a := range desc.Info.RecentActions {
				if a.StartWorkflowResult != nil {
					started = a.StartWorkflowResult
					return nil
				}
			}
			return fmt.Errorf("no action yet (%d actions, %d missed)", desc.Info.NumActions, desc.Info.NumActionsMissedCatchupWindow)
		})
		var result string
		requireNoError(t, cl.GetWorkflow(ctx, started.WorkflowID, started.FirstExecutionRunID).Get(ctx, &result),
			"result of the scheduled workflow")
		if result != "tick" {
			t.Errorf("scheduled workflow result = %q, want tick", result)
		}
	})

	t.Run("decisions are counted in the server's metrics", func(t *testing.T) {
		eventually(t, 20*time.Second, "authz_decisions in "+c.metricsURL, func() error {
			body, err := httpGet(c.metricsURL)
			if err != nil {
				return err
			}
			for _, decision := range []string{`decision="allow"`, `decision="deny"`} {
				if !hasMetricLine(body, "authz_decisions", decision) {
					return fmt.Errorf("no authz_decisions line with %s", decision)
				}
			}
			return nil
		})
	})
}

func (c *cluster) namespaceClient(t *testing.T, token string) client.NamespaceClient {
	t.Helper()
	nc, err := client.NewNamespaceClient(c.options("default", token))
	requireNoError(t, err, "namespace client")
	t.Cleanup(nc.Close)
	return nc
}

func (c *cluster) listNamespaces(t *testing.T, token string) []string {
	t.Helper()
	cl := c.dial(t, "default", token)
	resp, err := cl.WorkflowService().ListNamespaces(ctxTimeout(t, 10*time.Second), &workflowservice.ListNamespacesRequest{PageSize: 100})
	requireNoError(t, err, "ListNamespaces")
	var names []string
	for _, ns := range resp.GetNamespaces() {
		names = append(names, ns.GetNamespaceInfo().GetName())
	}
	slices.Sort(names)
	return names
}

// tamper changes one claim of a signed token and keeps the old signature.
func tamper(t *testing.T, token, claim string, value any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	requireNoError(t, err, "decoding the payload")
	var claims map[string]any
	requireNoError(t, json.Unmarshal(payload, &claims), "parsing the payload")
	claims[claim] = value
	payload, err = json.Marshal(claims)
	requireNoError(t, err, "encoding the payload")
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status)
	}
	return string(body), nil
}

// hasMetricLine reports whether a Prometheus exposition has a sample of metric whose
// labels contain label.
func hasMetricLine(exposition, metric, label string) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, metric+"{") && strings.Contains(line, label) {
			return true
		}
	}
	return false
}
