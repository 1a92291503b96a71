package authz

import (
	"strings"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/server/common/authorization"
)

func TestSeedShapedTokenMapsWithDefaults(t *testing.T) {
	iss := testissuer.New(t)
	m := startMapper(t, issuerConfig(iss), Options{})
	waitForKeys(t, m)
	tok := iss.Issue(t, map[string]any{"sub": "alice", "permissions": []string{"default:read", "temporal-system:admin", "Default:WRITE"}})
	c, err := m.GetClaims(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" || c.System != authorization.RoleAdmin || c.Namespaces["default"] != authorization.RoleReader || c.Namespaces["Default"] != authorization.RoleWriter {
		t.Fatalf("claims = %+v", c)
	}
}

func TestAuthInfoRequired(t *testing.T) {
	if !(&claimMapper{}).AuthInfoRequired() {
		t.Fatal("AuthInfoRequired must be true: calls without credentials must reach the authorizer as anonymous")
	}
}

// The operator tool's helpers, through a full Service.
func TestServiceMapTokenAndClaims(t *testing.T) {
	iss := testissuer.New(t)
	cfg := issuerConfig(iss)
	cfg.Issuers[0].Permissions = []PermissionSource{{Claim: "groups", Format: "mapped"}, {Claim: "permissions"}}
	cfg.Issuers[0].Mappings = []MappingConfig{{Value: "ops", Grants: []GrantConfig{{Namespace: "team-*", Role: "admin"}}}}
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitForKeys(t, s.claimMapper)

	tok := iss.Issue(t, map[string]any{"sub": "alice", "groups": []string{"ops"}, "permissions": []string{"default:read"}})
	for _, in := range []string{tok, "Bearer " + tok} {
		c, err := s.MapToken(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(DescribeGrants(c), "; "); got != "default: read; team-* (pattern): admin" {
			t.Fatalf("MapToken grants = %q", got)
		}
	}
	if _, err := s.MapToken(iss.Issue(t, map[string]any{"sub": "a", "exp": time.Now().Add(-time.Hour).Unix()})); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}

	// MapClaims: no signature and no time checks; the issuer picks the settings.
	c, err := s.MapClaims([]byte(`{"iss":"` + iss.URL() + `","sub":"bob","exp":1,"permissions":"temporal-system:admin"}`))
	if err != nil || c.Subject != "bob" || c.System != authorization.RoleAdmin {
		t.Fatalf("MapClaims = %+v, %v", c, err)
	}
	for in, want := range map[string]string{
		`{"iss":"https://elsewhere","sub":"x"}`: `issuer "https://elsewhere" is not trusted`,
		`{"sub":"x"}`:                           "token has no iss claim",
		`["x"]`:                                 "claims must be a JSON object",
		`{"iss":"a","iss":"b"}`:                 `duplicate key "iss"`,
		`{"iss":"` + iss.URL() + `","permissions":["a:read"]}`: `token has no "sub" claim`,
	} {
		if _, err := s.MapClaims([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("MapClaims(%s) err = %v, want %q", in, err, want)
		}
	}
}
