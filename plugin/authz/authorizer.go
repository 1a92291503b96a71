package authz

import (
	"context"
	"fmt"

	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
)

// authorizer decides every frontend call from the caller's grants, in this order:
//
//  1. Health checks and GetSystemInfo are allowed to everyone, even without a token.
//  2. No token: denied.
//  3. A method Temporal's metadata does not classify: denied.
//  4. The caller's roles must allow the method (see roleAllows): role bits are a set, and
//     admin includes write includes read; the worker role allows only workerAPIs.
//  5. No operation rule may deny it (see rules.go). Rules never grant.
//
// Every decision is counted and logged (decision.go). On the allow path nothing is
// allocated: classes, globs, rules and metric handles are all built at load.
type authorizer struct {
	compiledAuthorizerConfig
	decisions *decisionLog
}

var _ authorization.Authorizer = (*authorizer)(nil)

// newAuthorizer compiles the authorizer section of cfg.
func newAuthorizer(cfg *Config, opts Options) (*authorizer, error) {
	source := cfg.source
	if source == "" {
		source = "authorization config" // as Config.Validate names an unnamed config
	}
	compiled, err := cfg.Authorizer.compile(source)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	return &authorizer{
		compiledAuthorizerConfig: compiled,
		decisions:                newDecisionLog(opts.Logger, opts.MetricsHandler),
	}, nil
}

func (a *authorizer) Authorize(_ context.Context, claims *authorization.Claims, target *authorization.CallTarget) (authorization.Result, error) {
	if authorization.IsHealthCheckAPI(target.APIName) { // includes GetSystemInfo
		return a.allow(reasonPublic, claims, target), nil
	}
	c := classify(target.APIName)
	if claims == nil {
		return a.deny(reasonNoToken, claims, target, fmt.Sprintf("no token: %s requires authentication", c.short)), nil
	}
	if c.scope == api.ScopeUnknown {
		return a.deny(reasonUnknownAPI, claims, target, fmt.Sprintf(
			"subject %q may not call %s: not an API this server authorizes", claims.Subject, target.APIName)), nil
	}

	grants, _ := claims.Extensions.(*Grants)
	namespace := "" // cluster-scope calls are judged on system roles alone
	if c.scope == api.ScopeNamespace {
		namespace = target.Namespace
	}
	has := rolesIn(claims, grants, namespace)

	code, ok := a.roleAllows(&c, claims, grants, has)
	if !ok {
		return a.deny(code, claims, target, a.explainRoleDenial(&c, claims, grants, namespace, has)), nil
	}
	if r, notAllowed := denyingRule(a.rules, namespace, strongestWord(has), &c); r != nil {
		return a.deny(reasonRule, claims, target, explainRuleDenial(claims.Subject, &c, namespace, r, notAllowed)), nil
	}
	return a.allow(code, claims, target), nil
}

// roleAllows compares the caller's roles with what method c needs. has is the union of the
// caller's roles that apply to the call: system roles, plus for a namespace-scope call
// every grant in that namespace.
func (a *authorizer) roleAllows(c *apiClass, claims *authorization.Claims, grants *Grants, has authorization.Role) (reasonCode, bool) {
	switch {
	case c.uiRead:
		// A system role allows these in both modes; "any-role" also lets in anyone
		// holding some role somewhere, so that namespace users get a working UI.
		if a.uiExplicit {
			return reasonUI, has != 0
		}
		return reasonUI, holdsAnyRole(claims, grants)
	case c.systemAdminOnly:
		return reasonRole, rolesIn(claims, grants, "")&RoleAdmin != 0
	case c.worker && has&RoleWorker != 0:
		return reasonRole, true
	default: // cluster scope (has is the system role) and namespace scope alike
		return reasonRole, has&requiredRoles(c.access) != 0
	}
}

// explainRoleDenial names what was missing: `subject "alice" may not call
// StartWorkflowExecution in namespace "default": requires write, has read`.
func (a *authorizer) explainRoleDenial(c *apiClass, claims *authorization.Claims, grants *Grants, namespace string, has authorization.Role) string {
	needs := accessWord(c.access)
	hasText := describeRoles(has &^ RoleUI) // the ui role means nothing inside a namespace
	switch {
	case c.uiRead && a.uiExplicit:
		needs, hasText = SystemNamespace+":ui or a system role", describeSystemRoles(has)
	case c.uiRead:
		needs, hasText = "a role in some namespace", "none"
	case c.systemAdminOnly:
		needs = SystemNamespace + ":admin (creating a namespace is cluster administration)"
		hasText = describeSystemRoles(rolesIn(claims, grants, ""))
	case c.scope == api.ScopeCluster:
		needs, hasText = SystemNamespace+":"+needs, describeSystemRoles(has)
	case c.worker:
		needs += " or worker"
	}
	return explainRoleDenial(claims.Subject, c, namespace, needs, hasText)
}

func accessWord(access api.Access) string {
	switch access {
	case api.AccessReadOnly:
		return "read"
	case api.AccessWrite:
		return "write"
	default:
		return "admin"
	}
}

// rolesIn is the union of the caller's roles that apply in namespace: the system roles,
// plus, for a real namespace, its exact grant and every pattern grant matching it.
// Without our Grants (claims from another mapper, such as upstream's internal one for
// the system worker: System admin) it reads upstream's Claims fields.
func rolesIn(claims *authorization.Claims, grants *Grants, namespace string) authorization.Role {
	if grants == nil {
		r := claims.System
		if namespace != "" {
			r |= claims.Namespaces[namespace]
		}
		return r
	}
	r := grants.System
	if namespace != "" {
		r |= grants.Namespaces[namespace]
		for i := range grants.Patterns {
			if p := &grants.Patterns[i]; p.match != nil && p.match(namespace) {
				r |= p.Role
			}
		}
	}
	return r
}

// holdsAnyRole: the caller holds some role, system or in any namespace (exact or pattern).
func holdsAnyRole(claims *authorization.Claims, grants *Grants) bool {
	system, namespaces := claims.System, claims.Namespaces
	if grants != nil {
		system, namespaces = grants.System, grants.Namespaces
		for _, p := range grants.Patterns {
			if p.Role != 0 {
				return true
			}
		}
	}
	if system != 0 {
		return true
	}
	for _, r := range namespaces {
		if r != 0 {
			return true
		}
	}
	return false
}

func (a *authorizer) allow(code reasonCode, claims *authorization.Claims, target *authorization.CallTarget) authorization.Result {
	a.decisions.allow(code, claims, target)
	result := authorization.Result{Decision: authorization.DecisionAllow}
	if claims != nil {
		grants, _ := claims.Extensions.(*Grants)
		result.Principal = principalOf(claims, grants)
	}
	return result
}

func (a *authorizer) deny(code reasonCode, claims *authorization.Claims, target *authorization.CallTarget, reason string) authorization.Result {
	a.decisions.deny(code, claims, target, reason)
	return authorization.Result{Decision: authorization.DecisionDeny, Reason: reason}
}
