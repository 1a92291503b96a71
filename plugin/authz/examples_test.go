package authz

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
)

// TestProviderExamples loads each config/authz/<provider>.yaml as shipped and feeds it a
// token shaped like that provider's real access tokens, signed by a local issuer that
// stands in for the provider (only the issuer URL is swapped).
func TestProviderExamples(t *testing.T) {
	now := time.Now()
	cases := []struct {
		file string
		// claims the provider would put in the token, iss/exp/iat aside
		claims map[string]any
		want   []string // DescribeGrants of the result
		sub    string
	}{
		{
			file: "keycloak.yaml",
			claims: map[string]any{
				"jti": "onrtac:3b6a1f0e-4d0e-4b5b-9b1e-7f0c5c8e2a11", "typ": "Bearer", "azp": "temporal-cli",
				"aud": []string{"temporal", "account"}, "sub": "f7c2a4a8-2f1d-4c55-8e0f-2b6b6b0f6a9e",
				"sid": "a1b2", "acr": "1", "allowed-origins": []string{"https://temporal-ui.example.com"},
				"realm_access": map[string]any{"roles": []string{"offline_access", "uma_authorization", "default-roles-temporal", "temporal-admin"}},
				"resource_access": map[string]any{
					"temporal": map[string]any{"roles": []string{"default:write", "billing:read"}},
					"account":  map[string]any{"roles": []string{"manage-account", "view-profile"}},
				},
				"scope": "openid profile email", "email_verified": true, "preferred_username": "alice",
				"permissions": []string{"default:write", "billing:read"},
				"groups":      []string{"/temporal/team-a"},
			},
			sub:  "f7c2a4a8-2f1d-4c55-8e0f-2b6b6b0f6a9e",
			want: []string{"billing: read", "default: write", "team-a-* (pattern): write", "temporal-system: admin"},
		},
		{
			file: "authentik.yaml",
			claims: map[string]any{
				"aud": "temporal", "sub": "8d0c5b5e4f0c2b6f1e1a9d7c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a",
				"auth_time": now.Add(-time.Minute).Unix(), "acr": "goauthentik.io/providers/oauth2/default",
				"amr": []string{"pwd"}, "sid": "5a4b", "email": "bob@example.com", "email_verified": true,
				"name": "Bob", "given_name": "Bob", "preferred_username": "bob", "nickname": "bob",
				"groups": []string{"authentik Admins", "team-a", "temporal-ui", "billing:read"},
				"azp":    "temporal",
			},
			sub:  "bob",
			want: []string{"billing: read", "shared: read", "team-a-* (pattern): write", "temporal-system: ui"},
		},
		{
			file: "okta.yaml",
			claims: map[string]any{
				"ver": 1, "jti": "AT.x1y2z3", "aud": "api://temporal", "cid": "0oa1b2c3d4e5f6g7h8",
				"uid": "00u1a2b3c4d5e6f7g8", "scp": []string{"openid", "profile", "default:write"},
				"auth_time": now.Add(-time.Minute).Unix(), "sub": "carol@example.com",
				"groups": []string{"Everyone", "temporal-readers", "temporal-team-a"},
			},
			sub:  "carol@example.com",
			want: []string{"default: write", "* (pattern): read", "team-a-* (pattern): write"},
		},
		{
			file: "auth0.yaml",
			claims: map[string]any{
				"sub": "auth0|64f1c2d3e4b5a6978877", "aud": []string{"https://temporal.example.com/api", "https://example.us.auth0.com/userinfo"},
				"azp": "AbCdEf123", "scope": "openid profile email", "permissions": []string{"default:read", "billing:write"},
				"https://example.com/roles": []string{"Team A Developer"},
			},
			sub:  "auth0|64f1c2d3e4b5a6978877",
			want: []string{"billing: write", "default: read", "team-a-* (pattern): write"},
		},
		{
			file: "auth0.yaml", // a machine-to-machine (client credentials) token
			claims: map[string]any{
				"sub": "AbCdEf123@clients", "aud": "https://temporal.example.com/api", "azp": "AbCdEf123",
				"gty": "client-credentials", "scope": "default:write temporal-system:read",
				"permissions": []string{"default:write", "temporal-system:read"},
			},
			sub:  "AbCdEf123@clients",
			want: []string{"default: write", "temporal-system: read"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			cfg, err := LoadFile(filepath.Join("..", "..", "config", "authz", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			idp := testissuer.New(t)
			cfg.Issuers[0].Issuer = idp.URL()
			m := startMapper(t, cfg, Options{})
			waitForKeys(t, m)
			claims := map[string]any{}
			for k, v := range tc.claims {
				claims[k] = v
			}
			c, err := m.GetClaims(bearer(idp.Issue(t, claims)))
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tc.sub {
				t.Errorf("subject = %q, want %q", c.Subject, tc.sub)
			}
			if got := DescribeGrants(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("grants = %q\nwant     %q", got, tc.want)
			}
			// The audience setting is live: a token for another API is refused.
			claims["aud"] = "some-other-api"
			if _, err := m.GetClaims(bearer(idp.Issue(t, claims))); err == nil {
				t.Error("token for another audience accepted")
			}
		})
	}
}
