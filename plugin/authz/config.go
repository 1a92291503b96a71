package authz

import "time"

// Config is the authorization schema: the contents of authorization.yaml, found in the
// Temporal config directory (or at the path given by --authz-config /
// TEMPORAL_AUTHZ_CONFIG_FILE). Every field is documented in README.md ("Configuration
// reference"); unknown keys are an error, so a typo never silently widens access.
//
// A deployment that sets only upstream's global.authorization keys (the seed deployment)
// gets an equivalent Config from FromUpstream.
type Config struct {
	// Issuers are the trusted token issuers. At least one is required.
	Issuers []IssuerConfig `yaml:"issuers"`
	// Keys tunes how signing keys are fetched and cached, for every issuer.
	Keys KeysConfig `yaml:"keys"`
	// Tokens tunes token validation for every issuer.
	Tokens TokensConfig `yaml:"tokens"`
	// Authorizer tunes decisions made from the mapped grants.
	Authorizer AuthorizerConfig `yaml:"authorizer"`

	// anyIssuer is set only by FromUpstream: upstream never checks `iss`, so the seed
	// deployment must not start doing so. Never settable from YAML.
	anyIssuer bool
	// source names where the config came from ("authorization.yaml", "global.authorization
	// in development.yaml"), for error messages and logs.
	source string
}

// IssuerConfig is one trusted identity provider (or realm).
type IssuerConfig struct {
	// Issuer must equal the token's `iss` claim exactly. Required.
	Issuer string `yaml:"issuer"`
	// Where the signing keys come from: exactly one of DiscoveryURL, JWKSURI or JWKSFile.
	// When all three are empty, discovery at Issuer + "/.well-known/openid-configuration" is used.
	// JWKSFile (air-gapped deployments) is read at start-up and re-read every
	// keys.refreshInterval; a relative path is relative to the authorization.yaml.
	DiscoveryURL string `yaml:"discoveryURL"`
	JWKSURI      string `yaml:"jwksURI"`
	JWKSFile     string `yaml:"jwksFile"`
	// Audiences: when non-empty the token's `aud` must contain at least one of them.
	Audiences []string `yaml:"audiences"`
	// SubjectClaim names the claim used as the caller's identity. Default "sub"; use
	// "client_id" (or "azp") for client-credentials tokens that carry no useful sub.
	SubjectClaim string `yaml:"subjectClaim"`
	// Permissions lists where grants are read from. Default: one source, the top-level
	// `permissions` claim in namespace:role format (upstream's behaviour).
	Permissions []PermissionSource `yaml:"permissions"`
	// Mappings turn arbitrary claim values (groups, roles) into grants. A value that a
	// mapping matches is not parsed by its source's format.
	Mappings []MappingConfig `yaml:"mappings"`
}

// PermissionSource is one claim that carries permission values.
type PermissionSource struct {
	// Claim is a dotted path into the token's claims ("realm_access.roles",
	// "resource_access.temporal.roles"). Use ClaimPath instead when a key itself contains
	// dots, such as Auth0 namespaced claims ("https://example.com/roles").
	Claim     string   `yaml:"claim"`
	ClaimPath []string `yaml:"claimPath"`
	// Format says how values that no mapping matched become grants:
	//   "namespace-role" (default): "<namespace>:<role>", e.g. "default:write";
	//   "regex": Regex with named groups `namespace` and `role`;
	//   "mapped": only values matched by a mapping grant anything.
	Format string `yaml:"format"`
	Regex  string `yaml:"regex"`
}

// MappingConfig grants roles to every token whose permission sources contain Value.
type MappingConfig struct {
	// Value is compared exactly with each claim value ("/temporal-admins", "ops").
	Value  string        `yaml:"value"`
	Grants []GrantConfig `yaml:"grants"`
}

// GrantConfig is one grant given by a mapping. Namespace may be an exact name or a glob
// ("team-a-*", "*"); "temporal-system" gives a system (cluster-wide) role.
// Globs are only ever read from config, never from a token.
type GrantConfig struct {
	Namespace string `yaml:"namespace"`
	Role      string `yaml:"role"`
}

// KeysConfig tunes signing-key fetching. Zero values take the defaults in brackets.
type KeysConfig struct {
	// RefreshInterval between scheduled JWKS refreshes [1h].
	RefreshInterval time.Duration `yaml:"refreshInterval"`
	// MinRefetchInterval is the least time between two fetches of one issuer's keys caused
	// by an unknown `kid`: the rate limit that stops a kid flood becoming a fetch flood [30s].
	MinRefetchInterval time.Duration `yaml:"minRefetchInterval"`
	// FetchTimeout bounds each discovery or JWKS request [10s].
	FetchTimeout time.Duration `yaml:"fetchTimeout"`
	// MaxResponseBytes bounds each discovery or JWKS response body [1 MiB].
	MaxResponseBytes int64 `yaml:"maxResponseBytes"`
}

// TokensConfig tunes token validation.
type TokensConfig struct {
	// Leeway applied to exp, nbf and iat [30s].
	Leeway time.Duration `yaml:"leeway"`
	// Algorithms accepted [all of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512
	// EdDSA]. Only a subset of those may be listed; "none" and HS* are always rejected.
	Algorithms []string `yaml:"algorithms"`
	// MaxTokenBytes: longer tokens are rejected before any parsing [16 KiB].
	MaxTokenBytes int `yaml:"maxTokenBytes"`
	// CacheSize is how many verified tokens are remembered, keyed by a SHA-256 of the
	// token [10000]. A negative value disables the cache.
	CacheSize int `yaml:"cacheSize"`
}

// AuthorizerConfig tunes decisions.
type AuthorizerConfig struct {
	// UIAccess decides who may make the cluster-level reads the Temporal UI needs
	// (GetClusterInfo, ListNamespaces, GetSearchAttributes):
	//   "any-role" (default): anyone holding any role in any namespace;
	//   "explicit": only holders of temporal-system:ui or a system role.
	UIAccess string `yaml:"uiAccess"`
	// FilterListNamespaces removes from ListNamespaces responses the namespaces the
	// caller holds no role in [true].
	FilterListNamespaces *bool `yaml:"filterListNamespaces"`
	// Rules restrict, per namespace and role, which API methods may be called.
	Rules []RuleConfig `yaml:"rules"`
}

// RuleConfig restricts what a role may call. Rules never grant: a method must first be
// allowed by the caller's role, and then no matching rule may deny it. Deny wins.
type RuleConfig struct {
	// Name appears in denial reasons and logs.
	Name string `yaml:"name"`
	// Namespaces the rule applies to: exact names or globs; empty means every namespace.
	Namespaces []string `yaml:"namespaces"`
	// Roles the rule applies to (read, write, worker, admin); empty means every role.
	// A rule applies when the caller's strongest role in the namespace is listed.
	Roles []string `yaml:"roles"`
	// Allow, when non-empty, limits the matching callers to these methods (globs over the
	// short method name, e.g. "List*", "DescribeWorkflowExecution").
	Allow []string `yaml:"allow"`
	// Deny forbids these methods (globs) to the matching callers.
	Deny []string `yaml:"deny"`
}
