package authz

import (
	"testing"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/metrics/metricstest"
)

// decisionCount sums the authz_decisions recordings with the given tags.
func decisionCount(t *testing.T, snap metricstest.CaptureSnapshot, decision, reason string) int64 {
	t.Helper()
	var n int64
	for _, r := range snap["authz_decisions"] {
		if len(r.Tags) != 2 {
			t.Errorf("authz_decisions recorded with tags %v, want only decision and reason", r.Tags)
		}
		if r.Tags["decision"] == decision && r.Tags["reason"] == reason {
			n += r.Value.(int64)
		}
	}
	return n
}

func TestDecisionMetrics(t *testing.T) {
	handler := metricstest.NewCaptureHandler()
	capture := handler.StartCapture()
	defer handler.StopCapture(capture)
	a := newTestAuthorizer(t, AuthorizerConfig{Rules: []RuleConfig{
		{Name: "no-terminate", Roles: []string{"write"}, Deny: []string{"TerminateWorkflowExecution"}},
	}}, Options{MetricsHandler: handler})
	c := callers()

	authorize(t, a, nil, wfPrefix+"GetSystemInfo", "")                                // allow public
	authorize(t, a, c["read"], wfPrefix+"DescribeWorkflowExecution", "default")       // allow role
	authorize(t, a, c["read"], wfPrefix+"ListWorkflowExecutions", "default")          // allow role
	authorize(t, a, c["read"], wfPrefix+"GetClusterInfo", "")                         // allow ui
	authorize(t, a, nil, wfPrefix+"StartWorkflowExecution", "default")                // deny no-token
	authorize(t, a, c["read"], wfPrefix+"StartWorkflowExecution", "default")          // deny role
	authorize(t, a, c["none"], wfPrefix+"ListNamespaces", "")                         // deny ui
	authorize(t, a, c["write"], wfPrefix+"TerminateWorkflowExecution", "default")     // deny rule
	authorize(t, a, c["sys-admin"], "/temporal.api.foo.v1.FooService/Bar", "default") // deny unknown-api

	snap := capture.Snapshot()
	for _, want := range []struct {
		decision, reason string
		count            int64
	}{
		{"allow", "public", 1}, {"allow", "role", 2}, {"allow", "ui", 1},
		{"deny", "no-token", 1}, {"deny", "role", 1}, {"deny", "ui", 1}, {"deny", "rule", 1}, {"deny", "unknown-api", 1},
		{"deny", "public", 0}, {"allow", "rule", 0},
	} {
		if got := decisionCount(t, snap, want.decision, want.reason); got != want.count {
			t.Errorf("authz_decisions{decision=%s,reason=%s} = %d, want %d", want.decision, want.reason, got, want.count)
		}
	}
}

// The counter works with the metrics pipeline the server really uses (OpenTelemetry to a
// Prometheus registry), under its own name.
func TestDecisionMetricsPrometheus(t *testing.T) {
	handler, err := metricstest.NewHandler(log.NewNoopLogger(), metrics.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestAuthorizer(t, AuthorizerConfig{}, Options{MetricsHandler: handler})
	for range 3 {
		authorize(t, a, callers()["read"], wfPrefix+"StartWorkflowExecution", "default")
	}
	snap, err := handler.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	got, err := snap.Counter("authz_decisions_total",
		metrics.StringTag("decision", "deny"), metrics.StringTag("reason", "role"),
		// added by the OpenTelemetry exporter to every series
		metrics.StringTag("otel_scope_name", "temporal"), metrics.StringTag("otel_scope_version", ""))
	if err != nil || got != 3 {
		t.Errorf("authz_decisions_total{decision=deny,reason=role} = %v (%v), want 3; have:\n%s", got, err, snap)
	}
}

func TestDescribeRoles(t *testing.T) {
	for _, tc := range []struct {
		role authorization.Role
		want string
	}{
		{0, "none"},
		{RoleReader, "read"},
		{RoleWriter | RoleWorker, "write+worker"},
		{RoleAdmin | RoleReader | RoleUI, "admin+read+ui"},
	} {
		if got := describeRoles(tc.role); got != tc.want {
			t.Errorf("describeRoles(%b) = %q, want %q", tc.role, got, tc.want)
		}
	}
	if got := describeSystemRoles(RoleReader | RoleUI); got != "temporal-system:read+ui" {
		t.Errorf("describeSystemRoles = %q", got)
	}
}
