package authz

import (
	"fmt"

	"go.temporal.io/server/common/config"
)

// FromUpstream builds a Config from upstream's global.authorization section, so a
// deployment configured for Temporal's default JWT claim mapper keeps working unchanged
// (the seed deployment). source names the section for error messages.
//
// It returns (nil, nil) when neither an authorizer nor a claim mapper is set: no
// authorization is configured, and the caller decides whether that is allowed.
//
// Upstream semantics kept: `iss` is never checked (anyIssuer), keys come from every
// keySourceURI, permissions are read from the top-level claim permissionsClaimName
// (default "permissions", a literal key, never a dotted path) as namespace:role strings
// or by permissionsRegex, and `audience` is required in `aud` when set. Unlike upstream
// a single string value is also accepted, and tokens get the default leeway.
func FromUpstream(a *config.Authorization, source string) (*Config, error) {
	if a == nil || (a.Authorizer == "" && a.ClaimMapper == "") {
		return nil, nil
	}
	bad := func(key, problem string, args ...any) error {
		return &ConfigError{Source: source, Key: key, Problem: fmt.Sprintf(problem, args...)}
	}
	switch a.Authorizer {
	case "default", "oidc":
	case "":
		return nil, bad("authorizer", `is empty but claimMapper is %q: set both to "default" (or remove both to run without authorization)`, a.ClaimMapper)
	default:
		return nil, bad("authorizer", `%q is not supported by this server; use "default" (or "oidc")`, a.Authorizer)
	}
	switch a.ClaimMapper {
	case "default", "oidc":
	case "":
		return nil, bad("claimMapper", `is empty but authorizer is %q: set both to "default" (or remove both to run without authorization)`, a.Authorizer)
	default:
		return nil, bad("claimMapper", `%q is not supported by this server; use "default" (or "oidc")`, a.ClaimMapper)
	}
	uris := a.JWTKeyProvider.KeySourceURIs
	if len(uris) == 0 {
		return nil, bad("jwtKeyProvider.keySourceURIs", "at least one JWKS URL is required to verify tokens")
	}

	claim := a.PermissionsClaimName
	if claim == "" {
		claim = defaultPermissionsClaim
	}
	// ClaimPath with one segment: upstream reads the claim name literally, dots included.
	source1 := PermissionSource{ClaimPath: []string{claim}, Format: formatNamespaceRole}
	if a.PermissionsRegex != "" {
		source1.Format, source1.Regex = formatRegex, a.PermissionsRegex
	}
	var audiences []string
	if a.Audience != "" {
		audiences = []string{a.Audience}
	}
	cfg := &Config{
		Keys:      KeysConfig{RefreshInterval: a.JWTKeyProvider.RefreshInterval},
		anyIssuer: true,
		source:    source,
	}
	for i, uri := range uris {
		if err := checkHTTPURL(uri); err != nil {
			return nil, bad(fmt.Sprintf("jwtKeyProvider.keySourceURIs[%d]", i), "%v", err)
		}
		// Issuer is only a label here: with anyIssuer the token's iss is not compared.
		cfg.Issuers = append(cfg.Issuers, IssuerConfig{
			Issuer:      uri,
			JWKSURI:     uri,
			Audiences:   audiences,
			Permissions: []PermissionSource{source1},
		})
	}
	if err := cfg.Validate(); err != nil {
		return nil, upstreamKey(err, a)
	}
	return cfg, nil
}

// upstreamKey rewrites a validation error's key path into upstream's key names, so the
// operator is pointed at what they actually wrote.
func upstreamKey(err error, a *config.Authorization) error {
	ce, ok := err.(*ConfigError)
	if !ok {
		return err
	}
	out := *ce
	switch {
	case a.PermissionsRegex != "" && ce.Key == "issuers[0].permissions[0].regex":
		out.Key = "permissionsRegex"
	case ce.Key == "keys.refreshInterval":
		out.Key = "jwtKeyProvider.refreshInterval"
	}
	return &out
}
