package authz

import (
	"testing"

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
