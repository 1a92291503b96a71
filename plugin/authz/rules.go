package authz

import (
	"fmt"
	"strings"

	"go.temporal.io/server/common/authorization"
)

// Operation rules (authorizer.rules) narrow what a role may call; they never grant.
// A rule applies to a call when the target namespace matches one of its namespaces (none
// listed: every namespace; a cluster-level call has no namespace, so only rules without
// namespaces apply to it) and the caller's strongest role there is one of its roles (none
// listed: every caller). Then a method matching the rule's deny list is denied, and when
// the rule has an allow list, a method matching none of it is denied. Deny wins: one
// applying rule that denies is enough.

// roleWord is a caller's strongest role in one namespace: the unit rules are written in.
// System roles count as the same word (temporal-system:write is "write" everywhere).
type roleWord uint8

const (
	wordNone roleWord = iota
	wordWorker
	wordRead
	wordWrite
	wordAdmin
)

var roleWordNames = [...]string{wordNone: "none", wordWorker: "worker", wordRead: "read", wordWrite: "write", wordAdmin: "admin"}

func (w roleWord) String() string { return roleWordNames[w] }

// parseRoleWord accepts the role words rules may name.
func parseRoleWord(s string) (roleWord, bool) {
	for w := wordWorker; w <= wordAdmin; w++ {
		if roleWordNames[w] == s {
			return w, true
		}
	}
	return wordNone, false
}

// strongestWord orders roles admin > write > read > worker.
func strongestWord(r authorization.Role) roleWord {
	switch {
	case r&RoleAdmin != 0:
		return wordAdmin
	case r&RoleWriter != 0:
		return wordWrite
	case r&RoleReader != 0:
		return wordRead
	case r&RoleWorker != 0:
		return wordWorker
	default:
		return wordNone
	}
}

// rule is one compiled authorizer.rules entry.
type rule struct {
	name       string
	namespaces []glob // empty: every namespace
	roles      uint8  // bit 1<<roleWord per listed role; 0: every caller
	allow      []methodGlob
	deny       []methodGlob
}

// methodGlob matches the short method name ("Terminate*"), or the full API name when
// written as one ("/temporal.api.workflowservice.v1.WorkflowService/Terminate*").
type methodGlob struct {
	glob
	full bool
}

func (m methodGlob) matches(c *apiClass) bool {
	if m.full {
		return m.match(c.full)
	}
	return m.match(c.short)
}

func matchesAny(globs []methodGlob, c *apiClass) bool {
	for _, g := range globs {
		if g.matches(c) {
			return true
		}
	}
	return false
}

func (r *rule) appliesTo(namespace string, word roleWord) bool {
	if r.roles != 0 && r.roles&(1<<word) == 0 {
		return false
	}
	if len(r.namespaces) == 0 {
		return true
	}
	if namespace == "" {
		return false
	}
	for _, g := range r.namespaces {
		if g.match(namespace) {
			return true
		}
	}
	return false
}

// denyingRule returns the first applying rule that forbids the call, or nil. notAllowed
// tells whether it forbids by its allow list rather than by its deny list. Deny lists are
// checked first, so the explanation names an explicit deny when there is one.
func denyingRule(rules []rule, namespace string, word roleWord, c *apiClass) (denier *rule, notAllowed bool) {
	for i := range rules {
		if r := &rules[i]; r.appliesTo(namespace, word) && matchesAny(r.deny, c) {
			return r, false
		}
	}
	for i := range rules {
		if r := &rules[i]; len(r.allow) > 0 && r.appliesTo(namespace, word) && !matchesAny(r.allow, c) {
			return r, true
		}
	}
	return nil, false
}

// compileRules checks and compiles authorizer.rules. Every problem is a *ConfigError naming
// the key, so a typo in a restriction stops start-up instead of silently not restricting.
func compileRules(configs []RuleConfig, source string) ([]rule, error) {
	rules := make([]rule, 0, len(configs))
	for i, rc := range configs {
		key := fmt.Sprintf("authorizer.rules[%d]", i)
		fail := func(subkey, problem string, args ...any) error {
			return &ConfigError{Source: source, Key: key + subkey, Problem: fmt.Sprintf(problem, args...)}
		}
		r := rule{name: rc.Name}
		if r.name == "" {
			r.name = key
		}
		if len(rc.Allow) == 0 && len(rc.Deny) == 0 {
			return nil, fail("", "rule %q has neither allow nor deny, so it would restrict nothing", r.name)
		}
		for j, ns := range rc.Namespaces {
			if !validNamespaceGlob(ns) {
				return nil, fail(fmt.Sprintf(".namespaces[%d]", j),
					"invalid namespace %q: use letters, digits, '-', '_', '.' and '*' only", ns)
			}
			r.namespaces = append(r.namespaces, compileGlob(ns))
		}
		for j, word := range rc.Roles {
			w, ok := parseRoleWord(word)
			if !ok {
				return nil, fail(fmt.Sprintf(".roles[%d]", j),
					"unknown role %q: valid roles are read, write, worker, admin", word)
			}
			r.roles |= 1 << w
		}
		var err error
		if r.allow, err = compileMethodGlobs(rc.Allow, source, key+".allow"); err != nil {
			return nil, err
		}
		if r.deny, err = compileMethodGlobs(rc.Deny, source, key+".deny"); err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func compileMethodGlobs(patterns []string, source, key string) ([]methodGlob, error) {
	globs := make([]methodGlob, 0, len(patterns))
	for j, p := range patterns {
		g, problem := compileMethodGlob(p)
		if problem != "" {
			return nil, &ConfigError{Source: source, Key: fmt.Sprintf("%s[%d]", key, j), Problem: problem}
		}
		globs = append(globs, g)
	}
	return globs, nil
}

// compileMethodGlob accepts a short method glob ("List*") or a full API name glob
// ("/temporal.api.workflowservice.v1.WorkflowService/List*"), and only when it matches at
// least one method the frontend serves: "TerminateWorkflow" (missing "Execution") would
// otherwise never match and restrict nothing.
func compileMethodGlob(pattern string) (methodGlob, string) {
	g := methodGlob{glob: compileGlob(pattern)}
	method := pattern
	if strings.HasPrefix(pattern, "/") {
		g.full = true
		service, m, ok := strings.Cut(pattern[1:], "/")
		if !ok || !validServiceName(service) {
			return g, fmt.Sprintf("invalid method %q: a full name looks like "+
				"\"/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution\"", pattern)
		}
		method = m
	}
	if !validMethodGlob(method) {
		return g, fmt.Sprintf("invalid method %q: use a method name such as "+
			"\"TerminateWorkflowExecution\" (letters, digits and '*' only)", pattern)
	}
	for _, c := range knownAPIs() {
		if g.matches(c) {
			return g, ""
		}
	}
	return g, fmt.Sprintf("method %q matches no Temporal API method (a typo?)", pattern)
}

func validNamespaceGlob(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !isASCIIAlnum(r) && r != '-' && r != '_' && r != '.' && r != '*'
	}) < 0
}

func validMethodGlob(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return !isASCIIAlnum(r) && r != '*' }) < 0
}

func validServiceName(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return !isASCIIAlnum(r) && r != '.' && r != '_' }) < 0
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
