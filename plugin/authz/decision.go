package authz

import (
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/metrics"
)

// Every decision is counted and logged. The counter's tags are low-cardinality on purpose
// (never the subject or the namespace); the log line carries the details.

// decisionsCounter is registered with Temporal's metric catalog, so Prometheus shows its help.
var decisionsCounter = metrics.NewCounterDef(
	"authz_decisions",
	metrics.WithDescription("Authorization decisions by decision (allow, deny) and reason code "+
		"(public, role, ui, no-token, unknown-api, rule)."),
)

// reasonCode says briefly why a decision was made: the "reason" tag of authz_decisions.
type reasonCode uint8

const (
	reasonPublic     reasonCode = iota // health check and GetSystemInfo: allowed to everyone
	reasonRole                         // the caller's role does (allow) or does not (deny) suffice
	reasonUI                           // a UI cluster read, judged by authorizer.uiAccess
	reasonNoToken                      // no token (nil claims)
	reasonUnknownAPI                   // a method Temporal's metadata does not classify
	reasonRule                         // an operation rule denied the call
	numReasonCodes
)

var reasonCodeNames = [numReasonCodes]string{
	reasonPublic:     "public",
	reasonRole:       "role",
	reasonUI:         "ui",
	reasonNoToken:    "no-token",
	reasonUnknownAPI: "unknown-api",
	reasonRule:       "rule",
}

func (r reasonCode) String() string { return reasonCodeNames[r] }

// decisionLog counts and logs decisions. Everything an allow needs is built here, once,
// so that recording an allow allocates nothing.
type decisionLog struct {
	logger log.Logger
	// logAllows is false when the logger drops Debug lines: then allows are not logged at
	// all, because building the line's tags would allocate on every request.
	logAllows bool
	allowed   [numReasonCodes]metrics.CounterIface
	denied    [numReasonCodes]metrics.CounterIface
}

func newDecisionLog(logger log.Logger, handler metrics.Handler) *decisionLog {
	d := &decisionLog{logger: logger, logAllows: debugEnabled(logger)}
	for code := range numReasonCodes {
		reason := metrics.StringTag("reason", code.String())
		d.allowed[code] = decisionsCounter.With(handler.WithTags(metrics.StringTag("decision", "allow"), reason))
		d.denied[code] = decisionsCounter.With(handler.WithTags(metrics.StringTag("decision", "deny"), reason))
	}
	return d
}

func (d *decisionLog) allow(code reasonCode, claims *authorization.Claims, target *authorization.CallTarget) {
	d.allowed[code].Record(1)
	if d.logAllows {
		d.logger.Debug("authorization decision", decisionTags(claims, target, "allow", code.String())...)
	}
}

func (d *decisionLog) deny(code reasonCode, claims *authorization.Claims, target *authorization.CallTarget, reason string) {
	d.denied[code].Record(1)
	d.logger.Info("authorization decision",
		append(decisionTags(claims, target, "deny", reason), tag.NewStringTag("reason-code", code.String()))...)
}

func decisionTags(claims *authorization.Claims, target *authorization.CallTarget, decision, reason string) []tag.Tag {
	subject := ""
	if claims != nil {
		subject = claims.Subject
	}
	return []tag.Tag{
		tag.NewStringTag("subject", subject),
		tag.NewStringTag("api", target.APIName),
		tag.NewStringTag("namespace", target.Namespace),
		tag.NewStringTag("decision", decision),
		tag.NewStringTag("reason", reason),
	}
}

// debugEnabled reports whether logger writes Debug lines. log.Logger has no way to ask,
// but Temporal's zap logger reads a tag only when the line's level is enabled, and the
// level is fixed at start-up; so a probe tag on a real (and useful) Debug line tells.
// A logger that reads tags eagerly is treated as enabled: allows are then logged.
func debugEnabled(logger log.Logger) bool {
	probe := &levelProbe{}
	logger.Debug("authorizer logs allowed requests at debug level", probe)
	return probe.read
}

type levelProbe struct{ read bool }

func (p *levelProbe) Key() string { p.read = true; return "debug-logging" }
func (p *levelProbe) Value() any  { p.read = true; return true }

// explainRoleDenial is the Result.Reason of a call the caller's roles do not allow, e.g.
// `subject "alice" may not call StartWorkflowExecution in namespace "default": requires
// write, has read`. It is built only on deny.
func explainRoleDenial(subject string, c *apiClass, namespace, needs, has string) string {
	return fmt.Sprintf("subject %q may not call %s%s: requires %s, has %s",
		subject, c.short, inNamespace(namespace), needs, has)
}

func explainRuleDenial(subject string, c *apiClass, namespace string, r *rule, notAllowed bool) string {
	why := fmt.Sprintf("denied by rule %q", r.name)
	if notAllowed {
		why += " (not in its allow list)"
	}
	return fmt.Sprintf("subject %q may not call %s%s: %s", subject, c.short, inNamespace(namespace), why)
}

func inNamespace(namespace string) string {
	if namespace == "" {
		return ""
	}
	return fmt.Sprintf(" in namespace %q", namespace)
}

// describeRoles renders role bits in config words, strongest first: "write+worker", "none".
func describeRoles(r authorization.Role) string {
	var words []string
	for _, w := range []struct {
		bit  authorization.Role
		name string
	}{{RoleAdmin, "admin"}, {RoleWriter, "write"}, {RoleReader, "read"}, {RoleWorker, "worker"}, {RoleUI, "ui"}} {
		if r&w.bit != 0 {
			words = append(words, w.name)
		}
	}
	if len(words) == 0 {
		return "none"
	}
	return strings.Join(words, "+")
}

// describeSystemRoles renders the caller's temporal-system roles: "temporal-system:read".
func describeSystemRoles(r authorization.Role) string {
	if r == 0 {
		return "no system role"
	}
	return SystemNamespace + ":" + describeRoles(r)
}

// principalOf is the identity returned with an allow, as upstream's default authorizer
// does. For a verified token it is built once and kept on its Grants.
func principalOf(claims *authorization.Claims, grants *Grants) *commonpb.Principal {
	if grants == nil {
		return newPrincipal(claims)
	}
	if p := grants.principal.Load(); p != nil {
		return p
	}
	p := newPrincipal(claims)
	grants.principal.Store(p) // a racing call stores an equal value: harmless
	return p
}

func newPrincipal(claims *authorization.Claims) *commonpb.Principal {
	authType := claims.AuthType
	if authType == "" {
		authType = "jwt"
	}
	return &commonpb.Principal{Type: authType, Name: claims.Subject}
}
