package authz

import (
	"sync/atomic"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/server/common/authorization"
)

// SystemNamespace is the pseudo-namespace whose roles apply cluster-wide, as upstream.
const SystemNamespace = "temporal-system"

// Role words as written in tokens and config. Upstream's role bits are reused so that
// claims stay readable by Temporal's own code; RoleUI is ours (system level only).
const (
	RoleWorker = authorization.RoleWorker // poll, respond, heartbeat and the describes a worker makes
	RoleReader = authorization.RoleReader
	RoleWriter = authorization.RoleWriter
	RoleAdmin  = authorization.RoleAdmin
	// RoleUI allows only the cluster-level reads the Temporal UI needs. It is meaningful
	// only as temporal-system:ui and only matters when authorizer.uiAccess is "explicit".
	RoleUI authorization.Role = 1 << 4
)

// PatternGrant is a role on every namespace matching a glob from config.
type PatternGrant struct {
	Pattern string // as written in config, for explanations
	Role    authorization.Role
	match   func(string) bool
}

// newPatternGrant compiles pattern once, at config load, so that matching a namespace
// against it on the request path allocates nothing.
func newPatternGrant(pattern string, role authorization.Role) PatternGrant {
	g := compileGlob(pattern)
	return PatternGrant{Pattern: pattern, Role: role, match: g.match}
}

// Grants is what one verified token is allowed: our richer form of upstream's Claims.
// It travels in Claims.Extensions; Claims.Namespaces and Claims.System mirror the exact
// grants so Temporal's own code (and upstream's default authorizer) still read them.
type Grants struct {
	// Namespaces holds exact grants, including every grant read from a token.
	Namespaces map[string]authorization.Role
	// Patterns holds glob grants, which only mapping rules in config can give.
	Patterns []PatternGrant
	// System holds temporal-system roles, which apply cluster-wide and to every namespace.
	System authorization.Role

	// principal is the caller identity returned with every allow decision, built on the
	// first one and reused so that authorizing a cached token allocates nothing
	// (see authorizer.principalOf). Grants must therefore only be passed by pointer.
	principal atomic.Pointer[commonpb.Principal]
}
