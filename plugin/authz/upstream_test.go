package authz

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
)

const upstreamSource = "global.authorization in development.yaml"

// The seed deployment: only upstream's keys set, tokens shaped like a Keycloak realm's
// (permissions claim, an iss that is not the JWKS URL) work with zero extra config.
func TestFromUpstreamSeedDeployment(t *testing.T) {
	idp := testissuer.New(t)
	a := &config.Authorization{
		JWTKeyProvider: config.JWTKeyProvider{KeySourceURIs: []string{idp.JWKSURL()}, RefreshInterval: time.Minute},
		Authorizer:     "default",
		ClaimMapper:    "default",
	}
	cfg, err := FromUpstream(a, upstreamSource)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.anyIssuer || cfg.Keys.RefreshInterval != time.Minute || cfg.Tokens.Leeway != defaultLeeway {
		t.Fatalf("cfg = %+v", cfg)
	}
	m := startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	tok := idp.Issue(t, map[string]any{
		"iss":         "https://keycloak.example.com/realms/temporal", // never compared upstream
		"sub":         "5f1c1c2e-user",
		"azp":         "temporal-ui",
		"typ":         "Bearer",
		"permissions": []string{"default:read", "temporal-system:admin", "billing:WRITE"},
	})
	c, err := m.GetClaims(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "5f1c1c2e-user" || c.System != authorization.RoleAdmin ||
		c.Namespaces["default"] != authorization.RoleReader || c.Namespaces["billing"] != authorization.RoleWriter {
		t.Fatalf("claims = %+v", c)
	}
	// Unlike upstream, a single string works too.
	c, err = m.GetClaims(bearer(idp.Issue(t, map[string]any{"sub": "x", "permissions": "default:write"})))
	if err != nil || c.Namespaces["default"] != authorization.RoleWriter {
		t.Fatalf("single string: %+v %v", c, err)
	}
}

func TestFromUpstreamOptions(t *testing.T) {
	idp1, idp2 := testissuer.New(t), testissuer.New(t)
	a := &config.Authorization{
		JWTKeyProvider:       config.JWTKeyProvider{KeySourceURIs: []string{idp1.JWKSURL(), idp2.JWKSURL()}},
		Authorizer:           "oidc",
		ClaimMapper:          "default",
		PermissionsClaimName: "https://temporal.io/perms", // literal key, dots and all
		Audience:             "temporal",
	}
	cfg, err := FromUpstream(a, upstreamSource)
	if err != nil {
		t.Fatal(err)
	}
	m := startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	// Keys from both URIs verify; the permissions claim is read by its literal name.
	tok := idp2.Issue(t, map[string]any{"sub": "x", "aud": "temporal", "https://temporal.io/perms": []string{"ns1:admin"}}, testissuer.WithKey(testissuer.KidEC))
	c, err := m.GetClaims(bearer(tok))
	if err != nil || c.Namespaces["ns1"] != authorization.RoleAdmin {
		t.Fatalf("claims %+v err %v", c, err)
	}
	if _, err := m.GetClaims(bearer(idp1.Issue(t, map[string]any{"sub": "x", "aud": "other"}))); err == nil || !strings.Contains(err.Error(), "does not include") {
		t.Fatalf("audience: %v", err)
	}

	a.PermissionsRegex = `^(?P<role>\w+)@(?P<namespace>[\w-]+)$`
	cfg, err = FromUpstream(a, upstreamSource)
	if err != nil {
		t.Fatal(err)
	}
	m = startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	c, err = m.GetClaims(bearer(idp1.Issue(t, map[string]any{"sub": "x", "aud": "temporal", "https://temporal.io/perms": []string{"write@ns2", "ns3:admin"}})))
	if err != nil || c.Namespaces["ns2"] != authorization.RoleWriter || len(c.Namespaces) != 1 {
		t.Fatalf("regex: %+v %v", c, err)
	}
}

func TestFromUpstreamErrors(t *testing.T) {
	ok := func() *config.Authorization {
		return &config.Authorization{
			JWTKeyProvider: config.JWTKeyProvider{KeySourceURIs: []string{"https://idp.example.com/jwks"}},
			Authorizer:     "default", ClaimMapper: "default",
		}
	}
	cases := []struct {
		name     string
		edit     func(a *config.Authorization)
		key, msg string
	}{
		{"custom authorizer", func(a *config.Authorization) { a.Authorizer = "mine" }, "authorizer", `"mine" is not supported`},
		{"custom claim mapper", func(a *config.Authorization) { a.ClaimMapper = "mine" }, "claimMapper", `"mine" is not supported`},
		{"authorizer without mapper", func(a *config.Authorization) { a.ClaimMapper = "" }, "claimMapper", "is empty but authorizer"},
		{"mapper without authorizer", func(a *config.Authorization) { a.Authorizer = "" }, "authorizer", "is empty but claimMapper"},
		{"no key source", func(a *config.Authorization) { a.JWTKeyProvider.KeySourceURIs = nil }, "jwtKeyProvider.keySourceURIs", "at least one JWKS URL"},
		{"key source not a URL", func(a *config.Authorization) { a.JWTKeyProvider.KeySourceURIs = []string{"/etc/jwks"} }, "jwtKeyProvider.keySourceURIs[0]", "not an http(s) URL"},
		{"bad regex", func(a *config.Authorization) { a.PermissionsRegex = "(" }, "permissionsRegex", "does not compile"},
		{"regex without groups", func(a *config.Authorization) { a.PermissionsRegex = "(.*):(.*)" }, "permissionsRegex", "named groups"},
		{"refresh without unit", func(a *config.Authorization) { a.JWTKeyProvider.RefreshInterval = 60 }, "jwtKeyProvider.refreshInterval", "too short"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := ok()
			tc.edit(a)
			_, err := FromUpstream(a, upstreamSource)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Source != upstreamSource || ce.Key != tc.key || !strings.Contains(ce.Problem, tc.msg) {
				t.Fatalf("err = %v; want key %q and %q", err, tc.key, tc.msg)
			}
		})
	}
	for _, a := range []*config.Authorization{nil, {}, {JWTKeyProvider: config.JWTKeyProvider{KeySourceURIs: []string{"https://x"}}}} {
		if cfg, err := FromUpstream(a, upstreamSource); cfg != nil || err != nil {
			t.Fatalf("no authorization configured: %v %v", cfg, err)
		}
	}
}
