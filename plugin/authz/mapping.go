package authz

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// issuerPolicy is one issuer's permission settings, compiled at load: where grants are
// read from in a token and how claim values become grants.
type issuerPolicy struct {
	subjectClaim string
	sources      []permissionSource
	mappings     map[string][]compiledGrant // claim value → grants
}

type permissionSource struct {
	name    string   // as configured, for logs ("realm_access.roles")
	path    []string // segments into the claims object
	format  string
	regex   *regexp.Regexp
	nsIndex int // submatch index of the `namespace` group
	roleIdx int // submatch index of the `role` group
}

// compiledGrant is one grant from a mapping in config: exact, pattern or system.
type compiledGrant struct {
	namespace string
	role      authorization.Role
	pattern   *PatternGrant // set when namespace is a glob
}

// compileIssuerPolicy checks and compiles an issuer's permissions and mappings. key is
// the issuer's key path ("issuers[0]") for errors.
func compileIssuerPolicy(src, key string, is IssuerConfig) (*issuerPolicy, error) {
	bad := func(sub, problem string, args ...any) error {
		return &ConfigError{Source: src, Key: key + sub, Problem: fmt.Sprintf(problem, args...)}
	}
	p := &issuerPolicy{subjectClaim: is.SubjectClaim, mappings: map[string][]compiledGrant{}}
	for i, ps := range is.Permissions {
		at := fmt.Sprintf(".permissions[%d]", i)
		s := permissionSource{format: ps.Format}
		switch {
		case ps.Claim != "" && len(ps.ClaimPath) > 0:
			return nil, bad(at, "set claim or claimPath, not both")
		case ps.Claim != "":
			s.name, s.path = ps.Claim, strings.Split(ps.Claim, ".")
			for _, seg := range s.path {
				if seg == "" {
					return nil, bad(at+".claim", "%q has an empty path segment; use claimPath for keys that contain dots", ps.Claim)
				}
			}
		case len(ps.ClaimPath) > 0:
			for j, seg := range ps.ClaimPath {
				if seg == "" {
					return nil, bad(fmt.Sprintf("%s.claimPath[%d]", at, j), "empty path segment")
				}
			}
			s.name, s.path = strings.Join(ps.ClaimPath, " → "), ps.ClaimPath
		default:
			return nil, bad(at, "claim or claimPath is required")
		}
		switch ps.Format {
		case formatNamespaceRole, formatMapped:
			if ps.Regex != "" {
				return nil, bad(at+".regex", "regex is only used with format: regex (format is %q)", ps.Format)
			}
		case formatRegex:
			if ps.Regex == "" {
				return nil, bad(at+".regex", "required with format: regex")
			}
			re, err := regexp.Compile(ps.Regex)
			if err != nil {
				return nil, bad(at+".regex", "does not compile: %v", err)
			}
			s.regex = re
			s.nsIndex, s.roleIdx = re.SubexpIndex("namespace"), re.SubexpIndex("role")
			if s.nsIndex < 0 || s.roleIdx < 0 {
				return nil, bad(at+".regex", "%q needs the named groups (?P<namespace>...) and (?P<role>...)", ps.Regex)
			}
		default:
			return nil, bad(at+".format", "%q is not one of namespace-role, regex, mapped", ps.Format)
		}
		p.sources = append(p.sources, s)
	}
	for i, m := range is.Mappings {
		at := fmt.Sprintf(".mappings[%d]", i)
		if m.Value == "" {
			return nil, bad(at+".value", "required: the claim value (group, role) this mapping matches")
		}
		if len(m.Grants) == 0 {
			return nil, bad(at+".grants", "a mapping needs at least one grant")
		}
		for j, g := range m.Grants {
			gat := fmt.Sprintf("%s.grants[%d]", at, j)
			cg, err := compileConfigGrant(g)
			if err != nil {
				return nil, bad(gat, "%v", err)
			}
			p.mappings[m.Value] = append(p.mappings[m.Value], cg)
		}
	}
	return p, nil
}

// compileConfigGrant checks one grant written in config, where globs are allowed.
func compileConfigGrant(g GrantConfig) (compiledGrant, error) {
	if g.Namespace == "" {
		return compiledGrant{}, fmt.Errorf("namespace is required (a name, a glob such as team-a-*, or %s)", SystemNamespace)
	}
	if strings.IndexFunc(g.Namespace, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return compiledGrant{}, fmt.Errorf("namespace %q contains whitespace or unprintable characters", g.Namespace)
	}
	if g.Role == "" {
		return compiledGrant{}, fmt.Errorf("role is required (read, write, worker, admin; ui for %s)", SystemNamespace)
	}
	role, ok := parseRole(g.Role, g.Namespace == SystemNamespace)
	if !ok {
		if strings.EqualFold(g.Role, "ui") {
			return compiledGrant{}, fmt.Errorf("role ui is only meaningful for namespace %s", SystemNamespace)
		}
		return compiledGrant{}, fmt.Errorf("unknown role %q (read, write, worker, admin; ui for %s)", g.Role, SystemNamespace)
	}
	cg := compiledGrant{namespace: g.Namespace, role: role}
	if isGlob(g.Namespace) {
		pg := newPatternGrant(g.Namespace, role)
		cg.pattern = &pg
	}
	return cg, nil
}

// parseRole reads a role word, case-insensitively as upstream. ui exists only at
// system level.
func parseRole(word string, system bool) (authorization.Role, bool) {
	switch strings.ToLower(word) {
	case "read":
		return RoleReader, true
	case "write":
		return RoleWriter, true
	case "worker":
		return RoleWorker, true
	case "admin":
		return RoleAdmin, true
	case "ui":
		return RoleUI, system
	}
	return 0, false
}

// validTokenNamespace reports whether a namespace read from a token may be granted:
// tokens never carry patterns, and names with whitespace or control characters are
// never real namespaces.
func validTokenNamespace(ns string) bool {
	if ns == "" {
		return false
	}
	for _, r := range ns {
		if r == '*' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// grantsFor maps a verified token's claims to grants. Unusable values are skipped
// (logged at debug): a malformed claim can only ever grant less.
func (p *issuerPolicy) grantsFor(claims map[string]any, logger log.Logger) *Grants {
	g := &Grants{}
	for i := range p.sources {
		s := &p.sources[i]
		values, problem := claimValues(claims, s.path)
		if problem != "" {
			logger.Debug("authz: ignoring permission claim", tag.NewStringTag("claim", s.name), tag.NewStringTag("problem", problem))
		}
		for _, v := range values {
			if mapped, ok := p.mappings[v]; ok {
				for _, cg := range mapped {
					g.addConfigGrant(cg)
				}
				continue
			}
			ns, role, ok := s.parse(v)
			if !ok {
				if s.format != formatMapped {
					logger.Debug("authz: ignoring permission value", tag.NewStringTag("claim", s.name), tag.NewStringTag("value", v))
				}
				continue
			}
			g.addTokenGrant(ns, role)
		}
	}
	return g
}

// parse reads one claim value by the source's format.
func (s *permissionSource) parse(v string) (namespace string, role authorization.Role, ok bool) {
	var nsPart, rolePart string
	switch s.format {
	case formatNamespaceRole:
		// Temporal namespaces cannot contain ':', so exactly one separates the two parts.
		if strings.Count(v, ":") != 1 {
			return "", 0, false
		}
		nsPart, rolePart, _ = strings.Cut(v, ":")
	case formatRegex:
		m := s.regex.FindStringSubmatch(v)
		if m == nil {
			return "", 0, false
		}
		nsPart, rolePart = m[s.nsIndex], m[s.roleIdx]
	default: // mapped: only mappings grant
		return "", 0, false
	}
	if !validTokenNamespace(nsPart) {
		return "", 0, false
	}
	role, ok = parseRole(rolePart, nsPart == SystemNamespace)
	return nsPart, role, ok
}

// addTokenGrant adds a grant read from a token: always an exact namespace (or system).
func (g *Grants) addTokenGrant(ns string, role authorization.Role) {
	if ns == SystemNamespace { // case-sensitive, as upstream
		g.System |= role
		return
	}
	if g.Namespaces == nil {
		g.Namespaces = map[string]authorization.Role{}
	}
	g.Namespaces[ns] |= role
}

func (g *Grants) addConfigGrant(cg compiledGrant) {
	if cg.pattern == nil {
		g.addTokenGrant(cg.namespace, cg.role)
		return
	}
	for i := range g.Patterns {
		if g.Patterns[i].Pattern == cg.pattern.Pattern {
			g.Patterns[i].Role |= cg.role
			return
		}
	}
	g.Patterns = append(g.Patterns, *cg.pattern)
}
