package authz

import "fmt"

// uiAccess values (authorizer.uiAccess).
const (
	uiAccessAnyRole  = "any-role"
	uiAccessExplicit = "explicit"
)

// validate fills in the defaults of the authorizer section (uiAccess "any-role",
// filterListNamespaces true) and checks it, returning a *ConfigError naming the key of the
// first problem: an unknown uiAccess, or a rule that is broken (see compileRules).
func (a *AuthorizerConfig) validate(source string) error {
	if a.UIAccess == "" {
		a.UIAccess = uiAccessAnyRole
	}
	if a.FilterListNamespaces == nil {
		filter := true
		a.FilterListNamespaces = &filter
	}
	_, err := a.compile(source)
	return err
}

// compiledAuthorizerConfig is the authorizer section ready for the request path.
type compiledAuthorizerConfig struct {
	uiExplicit           bool
	filterListNamespaces bool
	rules                []rule
}

// compile checks the section; zero values mean the defaults, so a config that skipped
// validate still compiles to the documented behaviour.
func (a *AuthorizerConfig) compile(source string) (compiledAuthorizerConfig, error) {
	var c compiledAuthorizerConfig
	switch a.UIAccess {
	case "", uiAccessAnyRole:
	case uiAccessExplicit:
		c.uiExplicit = true
	default:
		return c, &ConfigError{Source: source, Key: "authorizer.uiAccess",
			Problem: fmt.Sprintf("unknown value %q: use %q or %q", a.UIAccess, uiAccessAnyRole, uiAccessExplicit)}
	}
	c.filterListNamespaces = a.FilterListNamespaces == nil || *a.FilterListNamespaces
	rules, err := compileRules(a.Rules, source)
	if err != nil {
		return c, err
	}
	c.rules = rules
	return c, nil
}
