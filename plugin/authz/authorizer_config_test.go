package authz

import (
	"errors"
	"strings"
	"testing"
)

func TestAuthorizerConfigDefaults(t *testing.T) {
	var ac AuthorizerConfig
	if err := ac.validate("authorization.yaml"); err != nil {
		t.Fatal(err)
	}
	if ac.UIAccess != "any-role" || ac.FilterListNamespaces == nil || !*ac.FilterListNamespaces {
		t.Errorf("defaults: uiAccess %q filterListNamespaces %v, want any-role and true", ac.UIAccess, ac.FilterListNamespaces)
	}
	off := false
	ac = AuthorizerConfig{UIAccess: "explicit", FilterListNamespaces: &off}
	if err := ac.validate("authorization.yaml"); err != nil {
		t.Fatal(err)
	}
	if ac.UIAccess != "explicit" || *ac.FilterListNamespaces {
		t.Errorf("explicit settings overridden: %q %v", ac.UIAccess, *ac.FilterListNamespaces)
	}
	if err := exampleRules.validate("authorization.yaml"); err != nil {
		t.Errorf("example rules rejected: %v", err)
	}
}

func TestAuthorizerConfigValidateErrors(t *testing.T) {
	ok := RuleConfig{Name: "ok", Deny: []string{"TerminateWorkflowExecution"}}
	withRule := func(r RuleConfig) AuthorizerConfig { return AuthorizerConfig{Rules: []RuleConfig{ok, r}} }
	for _, tc := range []struct {
		name    string
		config  AuthorizerConfig
		key     string
		problem string // a part of the problem text
	}{
		{"unknown uiAccess", AuthorizerConfig{UIAccess: "everyone"}, "authorizer.uiAccess", `unknown value "everyone"`},
		{"unknown role", withRule(RuleConfig{Roles: []string{"read", "reader"}, Deny: []string{"Terminate*"}}),
			"authorizer.rules[1].roles[1]", `unknown role "reader": valid roles are read, write, worker, admin`},
		{"role word is case-sensitive", withRule(RuleConfig{Roles: []string{"Admin"}, Deny: []string{"Terminate*"}}),
			"authorizer.rules[1].roles[0]", `unknown role "Admin"`},
		{"ui is not a rule role", withRule(RuleConfig{Roles: []string{"ui"}, Deny: []string{"Terminate*"}}),
			"authorizer.rules[1].roles[0]", `unknown role "ui"`},
		{"neither allow nor deny", withRule(RuleConfig{Name: "empty", Namespaces: []string{"prod"}}),
			"authorizer.rules[1]", `rule "empty" has neither allow nor deny`},
		{"unnamed rule is named by its key", withRule(RuleConfig{Roles: []string{"read"}}),
			"authorizer.rules[1]", `rule "authorizer.rules[1]" has neither`},
		{"namespace with a space", withRule(RuleConfig{Namespaces: []string{"prod", "prod eu"}, Deny: []string{"Terminate*"}}),
			"authorizer.rules[1].namespaces[1]", `invalid namespace "prod eu"`},
		{"namespace regex", withRule(RuleConfig{Namespaces: []string{"prod-.+"}, Deny: []string{"Terminate*"}}),
			"authorizer.rules[1].namespaces[0]", `invalid namespace "prod-.+"`},
		{"empty namespace", withRule(RuleConfig{Namespaces: []string{""}, Deny: []string{"Terminate*"}}),
			"authorizer.rules[1].namespaces[0]", `invalid namespace ""`},
		{"method with a space", withRule(RuleConfig{Deny: []string{"Terminate Workflow"}}),
			"authorizer.rules[1].deny[0]", `invalid method "Terminate Workflow"`},
		{"method regex", withRule(RuleConfig{Allow: []string{"List.*"}}),
			"authorizer.rules[1].allow[0]", `invalid method "List.*"`},
		{"method typo", withRule(RuleConfig{Allow: []string{"ListWorkflowExecutions", "TerminateWorkflow"}}),
			"authorizer.rules[1].allow[1]", `method "TerminateWorkflow" matches no Temporal API method`},
		{"glob matching nothing", withRule(RuleConfig{Deny: []string{"Terminat*Schedule"}}),
			"authorizer.rules[1].deny[0]", `matches no Temporal API method`},
		{"full name of no method", withRule(RuleConfig{Deny: []string{"/temporal.api.workflowservice.v1.WorkflowService/Nope*"}}),
			"authorizer.rules[1].deny[0]", `matches no Temporal API method`},
		{"full name of an unknown service", withRule(RuleConfig{Deny: []string{"/temporal.api.workflowservice.v1.WorkflowServise/*"}}),
			"authorizer.rules[1].deny[0]", `matches no Temporal API method`},
		{"full name without method", withRule(RuleConfig{Deny: []string{"/temporal.api.workflowservice.v1.WorkflowService"}}),
			"authorizer.rules[1].deny[0]", `invalid method`},
		{"full name with a bad service", withRule(RuleConfig{Deny: []string{"/temporal api/StartWorkflowExecution"}}),
			"authorizer.rules[1].deny[0]", `invalid method`},
		{"full name with an empty method", withRule(RuleConfig{Deny: []string{"/temporal.api.workflowservice.v1.WorkflowService/"}}),
			"authorizer.rules[1].deny[0]", `invalid method`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.config.validate("config/authorization.yaml")
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want a *ConfigError", err, err)
			}
			if ce.Source != "config/authorization.yaml" || ce.Key != tc.key || !strings.Contains(ce.Problem, tc.problem) {
				t.Errorf("got %q\nwant key %q and a problem containing %q", err, tc.key, tc.problem)
			}
		})
	}
}

func TestAuthorizerConfigAcceptsMethodForms(t *testing.T) {
	ac := AuthorizerConfig{Rules: []RuleConfig{{
		Name:       "forms",
		Namespaces: []string{"prod", "prod-*", "team_a.b", "*"},
		Roles:      []string{"read", "write", "worker", "admin"},
		Allow:      []string{"*", "List*", "DescribeNamespace", "*Schedule*"},
		Deny: []string{
			"/temporal.api.workflowservice.v1.WorkflowService/TerminateWorkflowExecution",
			"/temporal.api.operatorservice.v1.OperatorService/*",
			"/temporal.server.api.adminservice.v1.AdminService/Describe*",
			"/temporal.api.nexusservice.v1.NexusService/DispatchByEndpoint",
		},
	}}}
	if err := ac.validate("authorization.yaml"); err != nil {
		t.Fatal(err)
	}
}
