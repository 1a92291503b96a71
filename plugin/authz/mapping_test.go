package authz

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
)

// mapJSON compiles issuer settings and maps the given claims JSON (no signature).
func mapJSON(t *testing.T, is IssuerConfig, claimsJSON string) *Grants {
	t.Helper()
	cfg := &Config{Issuers: []IssuerConfig{is}}
	cfg.Issuers[0].Issuer = "https://idp.example.com"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	p, err := compileIssuerPolicy("test", "issuers[0]", cfg.Issuers[0])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal([]byte(claimsJSON), &claims); err != nil {
		t.Fatalf("bad test claims: %v", err)
	}
	return p.grantsFor(claims, log.NewNoopLogger())
}

type ns = map[string]authorization.Role

// TestClaimShapes maps real-world claim shapes and checks the grants that result.
func TestClaimShapes(t *testing.T) {
	const (
		R = authorization.RoleReader
		W = authorization.RoleWriter
		K = authorization.RoleWorker
		A = authorization.RoleAdmin
	)
	src := func(claim string) []PermissionSource { return []PermissionSource{{Claim: claim}} }
	cases := []struct {
		name       string
		is         IssuerConfig
		claims     string
		namespaces ns
		system     authorization.Role
	}{
		{"default permissions array", IssuerConfig{}, `{"permissions":["default:read","temporal-system:admin"]}`, ns{"default": R}, A},
		{"roles OR together", IssuerConfig{}, `{"permissions":["a:read","a:write","a:worker"]}`, ns{"a": R | W | K}, 0},
		{"role word case-insensitive, namespace case-sensitive", IssuerConfig{}, `{"permissions":["Prod:ADMIN","prod:Read"]}`, ns{"Prod": A, "prod": R}, 0},
		{"Temporal-System is not system", IssuerConfig{}, `{"permissions":["Temporal-System:admin"]}`, ns{"Temporal-System": A}, 0},
		{"ui only at system level", IssuerConfig{}, `{"permissions":["temporal-system:ui","default:ui"]}`, nil, RoleUI},
		{"single string", IssuerConfig{}, `{"permissions":"default:write"}`, ns{"default": W}, 0},
		{"space-delimited", IssuerConfig{Permissions: src("scope")}, `{"scope":"openid profile default:read billing:write"}`, ns{"default": R, "billing": W}, 0},
		{"comma-delimited", IssuerConfig{}, `{"permissions":"a:read,b:write, c:admin"}`, ns{"a": R, "b": W, "c": A}, 0},
		{"nested realm roles", IssuerConfig{Permissions: src("realm_access.roles")},
			`{"realm_access":{"roles":["offline_access","default:read"]}}`, ns{"default": R}, 0},
		{"nested client roles", IssuerConfig{Permissions: src("resource_access.temporal.roles")},
			`{"resource_access":{"account":{"roles":["x:admin"]},"temporal":{"roles":["default:write"]}}}`, ns{"default": W}, 0},
		{"claimPath with URL key", IssuerConfig{Permissions: []PermissionSource{{ClaimPath: []string{"https://example.com/roles"}}}},
			`{"https://example.com/roles":["default:read"],"https://example":{"com/roles":["evil:admin"]}}`, ns{"default": R}, 0},
		{"dotted claim does not read a literal dotted key", IssuerConfig{Permissions: src("a.b")}, `{"a.b":["x:admin"]}`, nil, 0},
		{"several sources", IssuerConfig{Permissions: []PermissionSource{{Claim: "permissions"}, {Claim: "scope"}}},
			`{"permissions":["a:read"],"scope":"a:write"}`, ns{"a": R | W}, 0},
		{"regex format", IssuerConfig{Permissions: []PermissionSource{{Claim: "groups", Format: "regex", Regex: `^(?P<role>\w+)@(?P<namespace>[\w-]+)$`}}},
			`{"groups":["write@billing","admin@temporal-system","other","read@team-*"]}`, ns{"billing": W}, A},
		{"mapped format ignores unmapped values", IssuerConfig{Permissions: []PermissionSource{{Claim: "groups", Format: "mapped"}}},
			`{"groups":["default:admin"]}`, nil, 0},
		// Tokens never carry patterns or odd names.
		{"glob in token is ignored", IssuerConfig{}, `{"permissions":["team-*:admin","*:read"]}`, nil, 0},
		{"whitespace namespace ignored", IssuerConfig{}, `{"permissions":["my ns:admin","\tx:read"]}`, nil, 0},
		{"control character ignored", IssuerConfig{}, `{"permissions":["a\u0000b:admin"]}`, nil, 0},
		{"two colons ignored", IssuerConfig{}, `{"permissions":["a:b:admin"]}`, nil, 0},
		{"empty namespace ignored", IssuerConfig{}, `{"permissions":[":admin"]}`, nil, 0},
		{"unknown role word ignored", IssuerConfig{}, `{"permissions":["default:owner","default:read"]}`, ns{"default": R}, 0},
		// Malformed claims grant nothing and never fail.
		{"number", IssuerConfig{}, `{"permissions":42}`, nil, 0},
		{"null", IssuerConfig{}, `{"permissions":null}`, nil, 0},
		{"object", IssuerConfig{}, `{"permissions":{"default":"admin"}}`, nil, 0},
		{"mixed array", IssuerConfig{}, `{"permissions":[1,null,{"a":"b"},["x:admin"],"",true,"default:read"]}`, ns{"default": R}, 0},
		{"path through a non-object", IssuerConfig{Permissions: src("realm_access.roles")}, `{"realm_access":"admin"}`, nil, 0},
		{"missing claim", IssuerConfig{}, `{"sub":"x"}`, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := mapJSON(t, tc.is, tc.claims)
			if !reflect.DeepEqual(map[string]authorization.Role(g.Namespaces), map[string]authorization.Role(tc.namespaces)) && !(len(g.Namespaces) == 0 && len(tc.namespaces) == 0) {
				t.Errorf("namespaces = %v, want %v", g.Namespaces, tc.namespaces)
			}
			if g.System != tc.system {
				t.Errorf("system = %v, want %v", g.System, tc.system)
			}
			if len(g.Patterns) != 0 {
				t.Errorf("patterns from a token: %v", g.Patterns)
			}
		})
	}
}

func TestMappings(t *testing.T) {
	is := IssuerConfig{
		Permissions: []PermissionSource{{Claim: "groups", Format: "mapped"}, {Claim: "permissions"}},
		Mappings: []MappingConfig{
			{Value: "/temporal-admins", Grants: []GrantConfig{{Namespace: "temporal-system", Role: "admin"}}},
			{Value: "team-a", Grants: []GrantConfig{{Namespace: "team-a-*", Role: "write"}, {Namespace: "shared", Role: "read"}}},
			{Value: "team-a-ops", Grants: []GrantConfig{{Namespace: "team-a-*", Role: "admin"}}},
			{Value: "ui-users", Grants: []GrantConfig{{Namespace: "temporal-system", Role: "UI"}}},
			// a mapping wins over the source's format for the same value
			{Value: "default:admin", Grants: []GrantConfig{{Namespace: "default", Role: "read"}}},
		},
	}
	g := mapJSON(t, is, `{"groups":["team-a","team-a-ops","ui-users","unrelated"],"permissions":["default:admin","x:worker"]}`)
	want := ns{"shared": RoleReader, "default": RoleReader, "x": RoleWorker}
	if !reflect.DeepEqual(map[string]authorization.Role(g.Namespaces), map[string]authorization.Role(want)) {
		t.Fatalf("namespaces = %v, want %v", g.Namespaces, want)
	}
	if g.System != RoleUI {
		t.Fatalf("system = %v", g.System)
	}
	if len(g.Patterns) != 1 || g.Patterns[0].Pattern != "team-a-*" || g.Patterns[0].Role != RoleWriter|RoleAdmin {
		t.Fatalf("patterns = %+v", g.Patterns)
	}
	if !g.Patterns[0].match("team-a-prod") || g.Patterns[0].match("team-b-prod") {
		t.Fatal("pattern grant does not match as a glob")
	}
	g = mapJSON(t, is, `{"groups":["/temporal-admins"]}`)
	if g.System != RoleAdmin || len(g.Namespaces) != 0 {
		t.Fatalf("admins: %+v", g)
	}
}

func TestDescribeGrants(t *testing.T) {
	g := &Grants{
		Namespaces: ns{"default": RoleWriter, "alpha": RoleReader | RoleWorker},
		Patterns:   []PatternGrant{newPatternGrant("team-a-*", RoleReader)},
		System:     RoleAdmin | RoleUI,
	}
	got := DescribeGrants(claimsFromGrants("alice", g))
	want := []string{"alpha: read, worker", "default: write", "team-a-* (pattern): read", "temporal-system: admin, ui"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DescribeGrants = %q, want %q", got, want)
	}
	// Claims from elsewhere (no Grants extension) are described too.
	plain := &authorization.Claims{Namespaces: ns{"x": 0}}
	if got := strings.Join(DescribeGrants(plain), ";"); got != "x: none" {
		t.Fatalf("plain = %q", got)
	}
	if DescribeGrants(nil) != nil {
		t.Fatal("nil claims")
	}
}
