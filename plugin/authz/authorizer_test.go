package authz

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Test callers: claims as the claim mapper produces them (Grants in Extensions), plus the
// claims of upstream's internal mapper and of a mapper that fills only upstream's fields.
func grantsCaller(subject string, g *Grants) *authorization.Claims {
	return &authorization.Claims{Subject: subject, AuthType: "jwt", Extensions: g}
}

func nsGrant(namespace string, role authorization.Role) *Grants {
	return &Grants{Namespaces: map[string]authorization.Role{namespace: role}}
}

func callers() map[string]*authorization.Claims {
	return map[string]*authorization.Claims{
		"nil":           nil, // no token
		"none":          grantsCaller("nobody", &Grants{}),
		"worker":        grantsCaller("worker-svc", nsGrant("default", RoleWorker)),
		"read":          grantsCaller("alice", nsGrant("default", RoleReader)),
		"write":         grantsCaller("bob", nsGrant("default", RoleWriter)),
		"admin":         grantsCaller("carol", nsGrant("default", RoleAdmin)),
		"sys-worker":    grantsCaller("sys-worker", &Grants{System: RoleWorker}),
		"sys-read":      grantsCaller("sys-read", &Grants{System: RoleReader}),
		"sys-write":     grantsCaller("sys-write", &Grants{System: RoleWriter}),
		"sys-admin":     grantsCaller("sys-admin", &Grants{System: RoleAdmin}),
		"sys-ui":        grantsCaller("ui-user", &Grants{System: RoleUI}),
		"pattern-write": grantsCaller("team-a-ci", &Grants{Patterns: []PatternGrant{newPatternGrant("team-*", RoleWriter)}}),
		// upstream's internal claim mapper, used by the internal-frontend for the system worker
		"internal": {Subject: "internal", AuthType: "temporal", System: RoleAdmin},
		// a mapper that fills only upstream's fields
		"claims-write": {Subject: "dave", Namespaces: map[string]authorization.Role{"default": RoleWriter}},
	}
}

const (
	wfPrefix    = api.WorkflowServicePrefix
	opPrefix    = api.OperatorServicePrefix
	adminPrefix = api.AdminServicePrefix
)

var everyone = []string{"nil", "none", "worker", "read", "write", "admin", "sys-worker", "sys-read", "sys-write",
	"sys-admin", "sys-ui", "pattern-write", "internal", "claims-write"}

// Who may call what, with the default uiAccess ("any-role") and no rules. Every caller not
// listed must be denied.
var roleCases = []struct {
	name, api, namespace string
	allowed              []string
}{
	{"health check", healthpb.Health_Check_FullMethodName, "", everyone},
	{"GetSystemInfo", wfPrefix + "GetSystemInfo", "", everyone},
	{"namespace read", wfPrefix + "DescribeWorkflowExecution", "default",
		[]string{"read", "write", "admin", "sys-read", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"namespace visibility read", wfPrefix + "ListWorkflowExecutions", "default",
		[]string{"read", "write", "admin", "sys-read", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"namespace write", wfPrefix + "StartWorkflowExecution", "default",
		[]string{"write", "admin", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"signal is not a worker call", wfPrefix + "SignalWorkflowExecution", "default",
		[]string{"write", "admin", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"terminate is not a worker call", wfPrefix + "TerminateWorkflowExecution", "default",
		[]string{"write", "admin", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"worker write call", wfPrefix + "PollWorkflowTaskQueue", "default",
		[]string{"worker", "write", "admin", "sys-worker", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"worker activity call", wfPrefix + "RespondActivityTaskCompletedById", "default",
		[]string{"worker", "write", "admin", "sys-worker", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"worker nexus call", wfPrefix + "PollNexusTaskQueue", "default",
		[]string{"worker", "write", "admin", "sys-worker", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"worker read call (sticky cache miss)", wfPrefix + "GetWorkflowExecutionHistory", "default",
		[]string{"worker", "read", "write", "admin", "sys-worker", "sys-read", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"worker start-up read", wfPrefix + "DescribeNamespace", "default",
		[]string{"worker", "read", "write", "admin", "sys-worker", "sys-read", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"namespace admin", wfPrefix + "UpdateNamespace", "default",
		[]string{"admin", "sys-admin", "internal"}},
	{"operator namespace admin", opPrefix + "AddSearchAttributes", "default",
		[]string{"admin", "sys-admin", "internal"}},
	{"pattern grant namespace", wfPrefix + "StartWorkflowExecution", "team-a",
		[]string{"pattern-write", "sys-write", "sys-admin", "internal"}},
	{"namespace without grants", wfPrefix + "StartWorkflowExecution", "other",
		[]string{"sys-write", "sys-admin", "internal"}},
	{"empty namespace matches no grant", wfPrefix + "DescribeWorkflowExecution", "",
		[]string{"sys-read", "sys-write", "sys-admin", "internal"}},
	{"cluster admin (operator)", opPrefix + "ListClusters", "",
		[]string{"sys-admin", "internal"}},
	{"cluster admin (admin service)", adminPrefix + "DescribeCluster", "",
		[]string{"sys-admin", "internal"}},
	{"register namespace needs system admin", wfPrefix + "RegisterNamespace", "default",
		[]string{"sys-admin", "internal"}},
	{"UI read GetClusterInfo", wfPrefix + "GetClusterInfo", "",
		[]string{"worker", "read", "write", "admin", "sys-worker", "sys-read", "sys-write", "sys-admin", "sys-ui", "pattern-write", "internal", "claims-write"}},
	{"UI read ListNamespaces", wfPrefix + "ListNamespaces", "",
		[]string{"worker", "read", "write", "admin", "sys-worker", "sys-read", "sys-write", "sys-admin", "sys-ui", "pattern-write", "internal", "claims-write"}},
	{"UI read GetSearchAttributes", wfPrefix + "GetSearchAttributes", "",
		[]string{"worker", "read", "write", "admin", "sys-worker", "sys-read", "sys-write", "sys-admin", "sys-ui", "pattern-write", "internal", "claims-write"}},
	{"nexus dispatch", "/temporal.api.nexusservice.v1.NexusService/DispatchByNamespaceAndTaskQueue", "default",
		[]string{"write", "admin", "sys-write", "sys-admin", "internal", "claims-write"}},
	{"unknown API", "/temporal.api.foo.v1.FooService/Bar", "default", nil},
}

func newTestAuthorizer(t *testing.T, ac AuthorizerConfig, opts Options) *authorizer {
	t.Helper()
	cfg := &Config{Authorizer: ac, source: "authorization.yaml"}
	if err := cfg.Authorizer.validate(cfg.source); err != nil {
		t.Fatalf("validate: %v", err)
	}
	a, err := newAuthorizer(cfg, opts)
	if err != nil {
		t.Fatalf("newAuthorizer: %v", err)
	}
	return a
}

func authorize(t *testing.T, a *authorizer, claims *authorization.Claims, apiName, namespace string) authorization.Result {
	t.Helper()
	res, err := a.Authorize(context.Background(), claims, &authorization.CallTarget{APIName: apiName, Namespace: namespace})
	if err != nil {
		t.Fatalf("Authorize(%s, %q): %v", apiName, namespace, err)
	}
	return res
}

func TestAuthorizerRoles(t *testing.T) {
	a := newTestAuthorizer(t, AuthorizerConfig{}, Options{})
	for _, tc := range roleCases {
		for name, claims := range callers() {
			want := slices.Contains(tc.allowed, name)
			res := authorize(t, a, claims, tc.api, tc.namespace)
			if got := res.Decision == authorization.DecisionAllow; got != want {
				t.Errorf("%s: caller %q: allowed=%v, want %v (reason %q)", tc.name, name, got, want, res.Reason)
			}
			if !want && res.Reason == "" {
				t.Errorf("%s: caller %q: denied without a reason", tc.name, name)
			}
		}
	}
}

func TestAuthorizerUIAccessExplicit(t *testing.T) {
	a := newTestAuthorizer(t, AuthorizerConfig{UIAccess: "explicit"}, Options{})
	allowed := []string{"sys-worker", "sys-read", "sys-write", "sys-admin", "sys-ui", "internal"}
	for _, method := range uiReadAPIs {
		for name, claims := range callers() {
			want := slices.Contains(allowed, name)
			res := authorize(t, a, claims, wfPrefix+method, "")
			if got := res.Decision == authorization.DecisionAllow; got != want {
				t.Errorf("%s: caller %q: allowed=%v, want %v (reason %q)", method, name, got, want, res.Reason)
			}
		}
	}
	// GetSystemInfo stays open in explicit mode: clients call it before anything else.
	if res := authorize(t, a, nil, wfPrefix+"GetSystemInfo", ""); res.Decision != authorization.DecisionAllow {
		t.Errorf("GetSystemInfo without token denied in explicit mode: %q", res.Reason)
	}
}

func TestAuthorizerDenialReasons(t *testing.T) {
	c := callers()
	prodRules := AuthorizerConfig{Rules: []RuleConfig{
		{Name: "no-terminate-in-prod", Namespaces: []string{"prod"}, Roles: []string{"write"}, Deny: []string{"TerminateWorkflowExecution"}},
		{Name: "visibility-only", Roles: []string{"read"}, Allow: []string{"List*", "Count*", "Describe*"}},
	}}
	prodWriter := grantsCaller("bob", nsGrant("prod", RoleWriter))
	for _, tc := range []struct {
		name      string
		ac        AuthorizerConfig
		claims    *authorization.Claims
		api, ns   string
		want      string
		wantAllow bool
	}{
		{"no token", AuthorizerConfig{}, nil, wfPrefix + "StartWorkflowExecution", "default",
			`no token: StartWorkflowExecution requires authentication`, false},
		{"read may not write", AuthorizerConfig{}, c["read"], wfPrefix + "StartWorkflowExecution", "default",
			`subject "alice" may not call StartWorkflowExecution in namespace "default": requires write, has read`, false},
		{"worker may not signal", AuthorizerConfig{}, c["worker"], wfPrefix + "SignalWorkflowExecution", "default",
			`subject "worker-svc" may not call SignalWorkflowExecution in namespace "default": requires write, has worker`, false},
		{"worker call names the worker role", AuthorizerConfig{}, c["read"], wfPrefix + "PollActivityTaskQueue", "default",
			`subject "alice" may not call PollActivityTaskQueue in namespace "default": requires write or worker, has read`, false},
		{"other namespace", AuthorizerConfig{}, c["admin"], wfPrefix + "DescribeWorkflowExecution", "other",
			`subject "carol" may not call DescribeWorkflowExecution in namespace "other": requires read, has none`, false},
		{"ui role means nothing in a namespace", AuthorizerConfig{}, c["sys-ui"], wfPrefix + "DescribeWorkflowExecution", "default",
			`subject "ui-user" may not call DescribeWorkflowExecution in namespace "default": requires read, has none`, false},
		{"namespace admin may not create namespaces", AuthorizerConfig{}, c["admin"], wfPrefix + "RegisterNamespace", "default",
			`subject "carol" may not call RegisterNamespace in namespace "default": requires temporal-system:admin (creating a namespace is cluster administration), has no system role`, false},
		{"cluster admin", AuthorizerConfig{}, c["sys-read"], opPrefix + "ListClusters", "",
			`subject "sys-read" may not call ListClusters: requires temporal-system:admin, has temporal-system:read`, false},
		{"ui any-role", AuthorizerConfig{}, c["none"], wfPrefix + "GetClusterInfo", "",
			`subject "nobody" may not call GetClusterInfo: requires a role in some namespace, has none`, false},
		{"ui explicit", AuthorizerConfig{UIAccess: "explicit"}, c["read"], wfPrefix + "ListNamespaces", "",
			`subject "alice" may not call ListNamespaces: requires temporal-system:ui or a system role, has no system role`, false},
		{"unknown API", AuthorizerConfig{}, c["sys-admin"], "/temporal.api.foo.v1.FooService/Bar", "",
			`subject "sys-admin" may not call /temporal.api.foo.v1.FooService/Bar: not an API this server authorizes`, false},
		{"rule deny", prodRules, prodWriter, wfPrefix + "TerminateWorkflowExecution", "prod",
			`subject "bob" may not call TerminateWorkflowExecution in namespace "prod": denied by rule "no-terminate-in-prod"`, false},
		{"rule allow list", prodRules, c["read"], wfPrefix + "GetWorkflowExecutionHistory", "default",
			`subject "alice" may not call GetWorkflowExecutionHistory in namespace "default": denied by rule "visibility-only" (not in its allow list)`, false},
		{"allowed has no reason", prodRules, prodWriter, wfPrefix + "SignalWorkflowExecution", "prod", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestAuthorizer(t, tc.ac, Options{})
			res := authorize(t, a, tc.claims, tc.api, tc.ns)
			if got := res.Decision == authorization.DecisionAllow; got != tc.wantAllow {
				t.Fatalf("allowed=%v, want %v (reason %q)", got, tc.wantAllow, res.Reason)
			}
			if res.Reason != tc.want {
				t.Errorf("reason\n got %q\nwant %q", res.Reason, tc.want)
			}
		})
	}
}

func TestAuthorizerPrincipal(t *testing.T) {
	a := newTestAuthorizer(t, AuthorizerConfig{}, Options{})
	alice := callers()["read"]
	first := authorize(t, a, alice, wfPrefix+"DescribeWorkflowExecution", "default")
	if first.Principal == nil || first.Principal.GetType() != "jwt" || first.Principal.GetName() != "alice" {
		t.Fatalf("principal = %v, want jwt/alice", first.Principal)
	}
	second := authorize(t, a, alice, wfPrefix+"ListWorkflowExecutions", "default")
	if second.Principal != first.Principal {
		t.Errorf("principal rebuilt for the same token; want it reused")
	}
	internal := authorize(t, a, callers()["internal"], opPrefix+"ListClusters", "")
	if internal.Principal.GetType() != "temporal" || internal.Principal.GetName() != "internal" {
		t.Errorf("internal principal = %v, want temporal/internal", internal.Principal)
	}
	if denied := authorize(t, a, alice, wfPrefix+"StartWorkflowExecution", "default"); denied.Principal != nil {
		t.Errorf("denied call carries a principal: %v", denied.Principal)
	}
}

func TestAuthorizerLogsDecisions(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	a := newTestAuthorizer(t, AuthorizerConfig{}, Options{Logger: log.NewZapLogger(zap.New(core))})
	logs.TakeAll() // the start-up probe line

	authorize(t, a, callers()["read"], wfPrefix+"DescribeWorkflowExecution", "default")
	authorize(t, a, callers()["read"], wfPrefix+"StartWorkflowExecution", "default")

	entries := logs.TakeAll()
	if len(entries) != 2 {
		t.Fatalf("got %d log lines, want 2: %v", len(entries), entries)
	}
	for i, want := range []struct {
		level                 zapcore.Level
		decision, reason, api string
	}{
		{zapcore.DebugLevel, "allow", "role", wfPrefix + "DescribeWorkflowExecution"},
		{zapcore.InfoLevel, "deny",
			`subject "alice" may not call StartWorkflowExecution in namespace "default": requires write, has read`,
			wfPrefix + "StartWorkflowExecution"},
	} {
		e := entries[i]
		fields := e.ContextMap()
		if e.Level != want.level || fields["decision"] != want.decision || fields["reason"] != want.reason ||
			fields["subject"] != "alice" || fields["namespace"] != "default" || fields["api"] != want.api {
			t.Errorf("line %d = %v %q %v\nwant level %v decision %q reason %q api %q subject alice namespace default",
				i, e.Level, e.Message, fields, want.level, want.decision, want.reason, want.api)
		}
	}
	if code := entries[1].ContextMap()["reason-code"]; code != "role" {
		t.Errorf("deny line reason-code = %v, want role", code)
	}
}

func TestAuthorizerSkipsAllowLogsAtInfoLevel(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	a := newTestAuthorizer(t, AuthorizerConfig{}, Options{Logger: log.NewZapLogger(zap.New(core))})
	if a.decisions.logAllows {
		t.Fatal("logger at info level detected as logging debug lines")
	}
	authorize(t, a, callers()["read"], wfPrefix+"DescribeWorkflowExecution", "default")
	authorize(t, a, callers()["read"], wfPrefix+"StartWorkflowExecution", "default")
	if entries := logs.TakeAll(); len(entries) != 1 || entries[0].ContextMap()["decision"] != "deny" {
		t.Errorf("want exactly the deny line at info level, got %v", entries)
	}
}

// An allowed call for a token already verified (cached claims) must not allocate: it runs
// on every request the frontend serves.
func TestAuthorizerAllowDoesNotAllocate(t *testing.T) {
	info, _ := observer.New(zapcore.InfoLevel)
	team := &Grants{
		Namespaces: map[string]authorization.Role{"default": RoleReader, "orders": RoleWorker},
		Patterns:   []PatternGrant{newPatternGrant("team-*", RoleWriter)},
	}
	claims := grantsCaller("alice", team)
	rules := AuthorizerConfig{Rules: []RuleConfig{
		{Name: "no-terminate-in-prod", Namespaces: []string{"prod*"}, Roles: []string{"write"}, Deny: []string{"Terminate*", "Reset*"}},
		{Name: "visibility-only", Roles: []string{"read"}, Allow: []string{"List*", "Count*", "Describe*", "GetClusterInfo"}},
	}}
	for _, logger := range []struct {
		name   string
		logger log.Logger
	}{{"noop logger", log.NewNoopLogger()}, {"zap at info", log.NewZapLogger(zap.New(info))}} {
		a := newTestAuthorizer(t, rules, Options{Logger: logger.logger, MetricsHandler: metrics.NoopMetricsHandler})
		for _, call := range []struct{ api, ns string }{
			{wfPrefix + "DescribeWorkflowExecution", "default"},
			{wfPrefix + "PollWorkflowTaskQueue", "orders"},
			{wfPrefix + "StartWorkflowExecution", "team-a"},
			{wfPrefix + "GetClusterInfo", ""},
			{wfPrefix + "GetSystemInfo", ""},
		} {
			target := &authorization.CallTarget{APIName: call.api, Namespace: call.ns}
			var res authorization.Result
			allocs := testing.AllocsPerRun(200, func() {
				res, _ = a.Authorize(context.Background(), claims, target)
			})
			if res.Decision != authorization.DecisionAllow {
				t.Fatalf("%s: %s in %q denied: %s", logger.name, call.api, call.ns, res.Reason)
			}
			if allocs != 0 {
				t.Errorf("%s: allowing %s in %q allocates %v times per call, want 0", logger.name, call.api, call.ns, allocs)
			}
		}
	}
}

func TestNewAuthorizerRejectsBadConfig(t *testing.T) {
	cfg := &Config{Authorizer: AuthorizerConfig{UIAccess: "all"}, source: "authorization.yaml"}
	_, err := newAuthorizer(cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "authorization.yaml: authorizer.uiAccess") {
		t.Fatalf("err = %v, want one naming authorization.yaml and authorizer.uiAccess", err)
	}
}
