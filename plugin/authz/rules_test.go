package authz

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.temporal.io/server/common/authorization"
	"gopkg.in/yaml.v3"
)

// The two example rule sets of config/authz/rules-examples.yaml, and a few more.
var exampleRules = AuthorizerConfig{Rules: []RuleConfig{
	{
		Name:       "no-destructive-writes-in-prod",
		Namespaces: []string{"prod", "prod-*"},
		Roles:      []string{"write"},
		Deny:       []string{"TerminateWorkflowExecution", "ResetWorkflowExecution", "DeleteWorkflowExecution"},
	},
	{
		Name:  "read-is-visibility-only",
		Roles: []string{"read"},
		Allow: []string{"List*", "Count*", "Describe*", "GetClusterInfo", "GetSearchAttributes"},
	},
	{
		Name:  "namespace-admins-use-no-operator-api",
		Roles: []string{"admin"},
		Deny:  []string{"/temporal.api.operatorservice.v1.OperatorService/*"},
	},
	{
		Name:       "nobody-terminates-in-frozen",
		Namespaces: []string{"frozen"},
		Deny:       []string{"Terminate*"},
	},
	{
		Name:       "staging-writers-may-do-anything",
		Namespaces: []string{"staging"},
		Roles:      []string{"write"},
		Allow:      []string{"*"},
	},
	{
		Name:       "but-not-signal-in-staging",
		Namespaces: []string{"staging"},
		Deny:       []string{"Signal*"},
	},
}}

func TestRules(t *testing.T) {
	a := newTestAuthorizer(t, exampleRules, Options{})
	prodWriter := grantsCaller("bob", &Grants{Namespaces: map[string]authorization.Role{
		"prod": RoleWriter, "prod-eu": RoleWriter, "staging": RoleWriter, "frozen": RoleWriter}})
	prodAdmin := grantsCaller("carol", nsGrant("prod", RoleAdmin))
	reader := grantsCaller("alice", nsGrant("default", RoleReader))
	readerAndWorker := grantsCaller("erin", nsGrant("default", RoleReader|RoleWorker))
	c := callers()

	for _, tc := range []struct {
		name      string
		claims    *authorization.Claims
		api, ns   string
		deniedBy  string // rule name, "" when allowed
		byAllowed bool
	}{
		{"prod writer may not terminate", prodWriter, "TerminateWorkflowExecution", "prod", "no-destructive-writes-in-prod", false},
		{"prod writer may not reset", prodWriter, "ResetWorkflowExecution", "prod", "no-destructive-writes-in-prod", false},
		{"prod writer may not delete", prodWriter, "DeleteWorkflowExecution", "prod", "no-destructive-writes-in-prod", false},
		{"namespace glob", prodWriter, "TerminateWorkflowExecution", "prod-eu", "no-destructive-writes-in-prod", false},
		{"prod writer may signal", prodWriter, "SignalWorkflowExecution", "prod", "", false},
		{"prod writer may start", prodWriter, "StartWorkflowExecution", "prod", "", false},
		{"rule is for writers: admin may terminate", prodAdmin, "TerminateWorkflowExecution", "prod", "", false},
		{"system writer counts as write", c["sys-write"], "TerminateWorkflowExecution", "prod", "no-destructive-writes-in-prod", false},
		{"system admin is not write", c["sys-admin"], "TerminateWorkflowExecution", "prod", "", false},
		{"visibility: list", reader, "ListWorkflowExecutions", "default", "", false},
		{"visibility: count", reader, "CountWorkflowExecutions", "default", "", false},
		{"visibility: describe", reader, "DescribeWorkflowExecution", "default", "", false},
		{"visibility: no history", reader, "GetWorkflowExecutionHistory", "default", "read-is-visibility-only", true},
		{"visibility: no query", reader, "QueryWorkflow", "default", "read-is-visibility-only", true},
		{"visibility: UI reads still work", reader, "GetClusterInfo", "", "", false},
		{"visibility: ListNamespaces", reader, "ListNamespaces", "", "", false},
		{"system reader: cluster call judged as read", c["sys-read"], "GetSearchAttributes", "", "", false},
		{"system reader: visibility applies everywhere", c["sys-read"], "GetWorkflowExecutionHistory", "elsewhere", "read-is-visibility-only", true},
		{"strongest role decides: read+worker is read", readerAndWorker, "PollWorkflowTaskQueue", "default", "read-is-visibility-only", true},
		{"worker is not read", c["worker"], "PollWorkflowTaskQueue", "default", "", false},
		{"worker history is not restricted", c["worker"], "GetWorkflowExecutionHistory", "default", "", false},
		{"full-name glob", c["admin"], "/temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes", "default", "namespace-admins-use-no-operator-api", false},
		{"full-name glob leaves other services", c["admin"], "UpdateNamespace", "default", "", false},
		{"no roles listed: applies to every caller", c["sys-admin"], "TerminateWorkflowExecution", "frozen", "nobody-terminates-in-frozen", false},
		{"no roles listed: even the internal system worker", c["internal"], "TerminateWorkflowExecution", "frozen", "nobody-terminates-in-frozen", false},
		{"deny wins over allow *", prodWriter, "SignalWithStartWorkflowExecution", "staging", "but-not-signal-in-staging", false},
		{"allow * allows", prodWriter, "TerminateWorkflowExecution", "staging", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apiName := tc.api
			if apiName[0] != '/' {
				apiName = wfPrefix + apiName
			}
			res := authorize(t, a, tc.claims, apiName, tc.ns)
			if tc.deniedBy == "" {
				if res.Decision != authorization.DecisionAllow {
					t.Errorf("denied: %s", res.Reason)
				}
				return
			}
			want := fmt.Sprintf("denied by rule %q", tc.deniedBy)
			if tc.byAllowed {
				want += " (not in its allow list)"
			}
			if res.Decision != authorization.DecisionDeny || !strings.HasSuffix(res.Reason, want) {
				t.Errorf("got decision %v reason %q\nwant deny ending %q", res.Decision, res.Reason, want)
			}
		})
	}
}

// Rules never grant: a rule that allows everything to readers does not let them write.
func TestRulesNeverGrant(t *testing.T) {
	a := newTestAuthorizer(t, AuthorizerConfig{Rules: []RuleConfig{
		{Name: "readers-may-do-anything", Roles: []string{"read"}, Allow: []string{"*"}},
	}}, Options{})
	res := authorize(t, a, callers()["read"], wfPrefix+"StartWorkflowExecution", "default")
	if res.Decision != authorization.DecisionDeny {
		t.Fatalf("rule granted a write to a reader")
	}
}

func TestStrongestWord(t *testing.T) {
	for _, tc := range []struct {
		role authorization.Role
		want roleWord
	}{
		{0, wordNone},
		{RoleUI, wordNone},
		{RoleWorker, wordWorker},
		{RoleWorker | RoleReader, wordRead},
		{RoleReader | RoleWriter, wordWrite},
		{RoleAdmin | RoleWorker, wordAdmin},
	} {
		if got := strongestWord(tc.role); got != tc.want || got.String() != roleWordNames[tc.want] {
			t.Errorf("strongestWord(%b) = %v, want %v", tc.role, got, tc.want)
		}
	}
}

// The shipped examples load with the real schema and do what their comments say.
func TestRulesExampleFile(t *testing.T) {
	data, err := os.ReadFile("../../config/authz/rules-examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Authorizer AuthorizerConfig `yaml:"authorizer"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("rules-examples.yaml: %v", err)
	}
	if len(doc.Authorizer.Rules) < 2 {
		t.Fatalf("rules-examples.yaml has %d rules, want both example sets", len(doc.Authorizer.Rules))
	}
	a := newTestAuthorizer(t, doc.Authorizer, Options{})
	reader := callers()["read"]
	prodWriter := grantsCaller("bob", &Grants{Namespaces: map[string]authorization.Role{"prod-eu": RoleWriter}})
	prodAdmin := grantsCaller("carol", nsGrant("prod", RoleAdmin))
	for _, tc := range []struct {
		claims  *authorization.Claims
		api, ns string
		allowed bool
	}{
		{reader, "ListWorkflowExecutions", "default", true},
		{reader, "CountWorkflowExecutions", "default", true},
		{reader, "DescribeWorkflowExecution", "default", true},
		{reader, "GetClusterInfo", "", true},
		{reader, "ListNamespaces", "", true},
		{reader, "GetWorkflowExecutionHistory", "default", false},
		{reader, "QueryWorkflow", "default", false},
		{callers()["sys-read"], "GetSearchAttributes", "", true},
		{prodWriter, "StartWorkflowExecution", "prod-eu", true},
		{prodWriter, "SignalWorkflowExecution", "prod-eu", true},
		{prodWriter, "TerminateWorkflowExecution", "prod-eu", false},
		{prodWriter, "ResetWorkflowExecution", "prod-eu", false},
		{prodWriter, "DeleteWorkflowExecution", "prod-eu", false},
		{prodWriter, "StartBatchOperation", "prod-eu", false},
		{prodAdmin, "TerminateWorkflowExecution", "prod", true},
	} {
		res := authorize(t, a, tc.claims, wfPrefix+tc.api, tc.ns)
		if got := res.Decision == authorization.DecisionAllow; got != tc.allowed {
			t.Errorf("%s calling %s in %q: allowed=%v, want %v (%s)", tc.claims.Subject, tc.api, tc.ns, got, tc.allowed, res.Reason)
		}
	}
}
