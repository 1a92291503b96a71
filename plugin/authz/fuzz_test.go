package authz

// Native Go fuzz targets. `go test ./authz` runs each on its seeds (the f.Add calls and
// testdata/fuzz/<Target>/); `go test ./authz -run '^$' -fuzz '^FuzzX$' -fuzztime 2m`
// explores. Each target checks properties that must hold for ANY input, against an
// independent reference where there is one, so a crash is not the only possible finding:
//
//   - FuzzGlob: compileGlob(p).match(s) agrees with a textbook wildcard matcher.
//   - FuzzMappingRules: claims from a token never grant a pattern, never grant on a
//     namespace the token does not spell out, and never authorize another namespace.
//   - FuzzBearerToken: any Authorization header value is either refused with a reason or
//     was really signed by the trusted key (checked again with go-jose alone).
//   - FuzzSignedPayload: any payload signed with the trusted key is accepted only when it
//     is an unambiguous JSON object from the trusted issuer, within its time window.
//   - FuzzLoadConfig: any YAML either loads into a config that validates again, or is
//     refused with a ConfigError naming the source and a key.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
)

// wildcardMatch is the reference matcher for FuzzGlob: classic dynamic programming over
// bytes, where '*' matches any run of bytes and every other byte matches itself.
func wildcardMatch(pattern, s string) bool {
	// prev[j]: pattern[:i] matches s[:j]
	prev := make([]bool, len(s)+1)
	prev[0] = true
	for i := 0; i < len(pattern); i++ {
		cur := make([]bool, len(s)+1)
		if pattern[i] == '*' {
			cur[0] = prev[0]
			for j := 1; j <= len(s); j++ {
				cur[j] = prev[j] || cur[j-1]
			}
		} else {
			for j := 1; j <= len(s); j++ {
				cur[j] = prev[j-1] && pattern[i] == s[j-1]
			}
		}
		prev = cur
	}
	return prev[len(s)]
}

func FuzzGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"team-a-*", "team-a-prod"}, {"team-a-*", "team-b-prod"}, {"*", ""}, {"*", "anything"},
		{"a*b*c", "abc"}, {"a*b*c", "aXbYc"}, {"a*b*c", "acb"}, {"ab*ba", "aba"}, {"ab*ba", "abba"},
		{"**", "x"}, {"*a*", "bab"}, {"default", "default"}, {"default", "Default"}, {"", ""},
		{"*-prod", "team-prod"}, {"*-prod", "-prod"}, {"a*a", "a"}, {"é*", "éé"}, {"\xff*", "\xff"},
		{"List*", "ListWorkflowExecutions"}, {"*Namespace", "DescribeNamespace"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		g := compileGlob(pattern)
		got, want := g.match(s), wildcardMatch(pattern, s)
		if got != want {
			t.Fatalf("compileGlob(%q).match(%q) = %v, reference says %v", pattern, s, got, want)
		}
		if !isGlob(pattern) && got != (pattern == s) {
			t.Fatalf("literal %q matched %q: %v", pattern, s, got)
		}
	})
}

// fuzzPolicy is one issuer with every kind of permission source and mapping, including
// config globs, so FuzzMappingRules can tell config-given patterns from token input.
var fuzzPolicyConfig = IssuerConfig{
	Issuer: "https://idp.example.com",
	Permissions: []PermissionSource{
		{Claim: "permissions"},
		{Claim: "realm_access.roles"},
		{ClaimPath: []string{"https://example.com/groups"}, Format: formatMapped},
		{Claim: "scope", Format: formatRegex, Regex: `^temporal\.(?P<namespace>[^.]+)\.(?P<role>[a-z]+)$`},
	},
	Mappings: []MappingConfig{
		{Value: "/temporal-admins", Grants: []GrantConfig{{Namespace: SystemNamespace, Role: "admin"}}},
		{Value: "team-a", Grants: []GrantConfig{{Namespace: "team-a-*", Role: "write"}, {Namespace: "shared", Role: "read"}}},
		{Value: "ops", Grants: []GrantConfig{{Namespace: "*", Role: "read"}}},
	},
}

// collectStrings gathers every string (keys excluded) in decoded JSON.
func collectStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, e := range v {
			collectStrings(e, out)
		}
	case map[string]any:
		for _, e := range v {
			collectStrings(e, out)
		}
	}
}

func FuzzMappingRules(f *testing.F) {
	for _, seed := range []struct{ claims, other string }{
		{`{"permissions":["default:read","temporal-system:admin"]}`, "other"},
		{`{"permissions":"default:write,prod:read"}`, "prod2"},
		{`{"permissions":["*:admin","team-*:write"," default:read","dеfault:read"]}`, "default"},
		{`{"permissions":{"default":"admin"}}`, "default"},
		{`{"permissions":[["default:admin"]],"realm_access":{"roles":["default:worker"]}}`, "default"},
		{`{"https://example.com/groups":["team-a","/temporal-admins"]}`, "team-b-prod"},
		{`{"https://example.com/groups":"ops"}`, "prod"},
		{`{"scope":"openid temporal.default.read temporal.temporal-system.admin"}`, "x"},
		{`{"permissions":["Temporal-System:admin","temporal-system :admin","temporal_system:admin"]}`, "temporal-system"},
		{`{"permissions":["default:WRITE","a:b:c",":read","default:"]}`, "b"},
		{`{"realm_access":"default:read"}`, "default"},
		{`{"permissions":["default\u0000:read","de\u200bfault:read"]}`, "default"},
	} {
		f.Add([]byte(seed.claims), seed.other)
	}
	cfg := &Config{Issuers: []IssuerConfig{fuzzPolicyConfig}, source: "fuzz.yaml"}
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	policy, err := compileIssuerPolicy(cfg.source, "issuers[0]", cfg.Issuers[0])
	if err != nil {
		f.Fatal(err)
	}
	decider, err := newAuthorizer(cfg, Options{}.withDefaults())
	if err != nil {
		f.Fatal(err)
	}
	configPatterns := map[string]bool{"team-a-*": true, "*": true}
	configExact := map[string]bool{"shared": true}
	const describeNamespace = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace"

	f.Fuzz(func(t *testing.T, claimsJSON []byte, other string) {
		var claims map[string]any
		if json.Unmarshal(claimsJSON, &claims) != nil || claims == nil {
			return // not a JSON object: the verifier refuses it before mapping
		}
		g := policy.grantsFor(claims, log.NewNoopLogger())
		var texts []string
		collectStrings(claims, &texts)
		mentioned := func(sub string) bool {
			for _, s := range texts {
				if strings.Contains(s, sub) {
					return true
				}
			}
			return false
		}

		for _, p := range g.Patterns {
			if !configPatterns[p.Pattern] {
				t.Fatalf("pattern grant %q does not come from config (claims %s)", p.Pattern, claimsJSON)
			}
		}
		for ns, role := range g.Namespaces {
			if configExact[ns] {
				continue
			}
			if !validTokenNamespace(ns) || ns == SystemNamespace {
				t.Fatalf("token granted invalid namespace %q (claims %s)", ns, claimsJSON)
			}
			if !mentioned(ns) {
				t.Fatalf("namespace %q granted but spelled nowhere in the claims %s", ns, claimsJSON)
			}
			if role == 0 || role&^(RoleWorker|RoleReader|RoleWriter|RoleAdmin) != 0 {
				t.Fatalf("namespace %q got role bits %b", ns, role)
			}
		}
		if g.System != 0 && !mentioned(SystemNamespace) && !mentioned("/temporal-admins") {
			t.Fatalf("system role %b from claims %s that name neither %s nor a mapping", g.System, claimsJSON, SystemNamespace)
		}

		// A namespace the grants do not cover is never authorized.
		covered := g.System != 0 || g.Namespaces[other] != 0
		for _, p := range g.Patterns {
			covered = covered || wildcardMatch(p.Pattern, other)
		}
		if covered {
			return
		}
		claimsOut := claimsFromGrants("fuzz", g)
		res, err := decider.Authorize(context.Background(), claimsOut,
			&authorization.CallTarget{APIName: describeNamespace, Namespace: other})
		if err != nil || res.Decision != authorization.DecisionDeny {
			t.Fatalf("DescribeNamespace in %q with grants %+v: decision %v, err %v (claims %s)",
				other, g, res.Decision, err, claimsJSON)
		}
	})
}

// fuzzIssuer is the one trusted issuer of the token targets: a fixed Ed25519 key (fast
// to sign with, so fuzzing spends its time in our code), read from a jwksFile, and a
// fixed clock, so the committed seeds stay valid forever.
const (
	fuzzIssuerURL = "https://idp.fuzz.example"
	fuzzKid       = "fuzz-ed"
)

var (
	fuzzNow     = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	fuzzPrivate = ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
)

func newFuzzMapper(f testing.TB) *claimMapper {
	f.Helper()
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: fuzzPrivate.Public(), KeyID: fuzzKid, Algorithm: string(jose.EdDSA), Use: "sig",
	}}})
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwks, 0o600); err != nil {
		f.Fatal(err)
	}
	cfg := &Config{
		Issuers: []IssuerConfig{{Issuer: fuzzIssuerURL, JWKSFile: path, Audiences: []string{"temporal"}}},
		Tokens:  TokensConfig{CacheSize: 64},
		source:  "fuzz.yaml",
	}
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	m, err := newClaimMapper(cfg, Options{Now: func() time.Time { return fuzzNow }}.withDefaults())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(m.close)
	return m
}

// signFuzz signs payload with the trusted key, header fields overridable (nil removes).
func signFuzz(payload []byte, header map[string]any) (string, error) {
	so := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", fuzzKid)
	for k, v := range header {
		if v == nil {
			delete(so.ExtraHeaders, jose.HeaderKey(k))
			continue
		}
		so.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: fuzzPrivate}, so)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// fuzzPayload is a payload the fuzz mapper accepts.
func fuzzPayload(extra string) []byte {
	return []byte(`{"iss":"` + fuzzIssuerURL + `","sub":"alice","aud":"temporal","exp":` +
		"1893542400" /* fuzzNow + 1 day */ + `,"iat":1893452400,"permissions":["default:read"]` + extra + `}`)
}

// checkAcceptedClaims are the properties of every accepted token's claims.
func checkAcceptedClaims(t *testing.T, c *authorization.Claims) {
	t.Helper()
	if c == nil || c.Subject == "" {
		t.Fatalf("accepted with claims %+v: no subject", c)
	}
	g, ok := c.Extensions.(*Grants)
	if !ok {
		t.Fatalf("accepted claims carry no Grants: %+v", c)
	}
	if len(g.Patterns) != 0 {
		t.Fatalf("token produced pattern grants %+v (this issuer has no mappings)", g.Patterns)
	}
	for ns := range c.Namespaces {
		if !validTokenNamespace(ns) {
			t.Fatalf("token granted invalid namespace %q", ns)
		}
	}
}

// The committed "valid" seeds must really be accepted, or the token targets would only
// ever explore refusals.
func TestFuzzValidSeedsAreAccepted(t *testing.T) {
	m := newFuzzMapper(t)
	for _, path := range []string{"testdata/fuzz/FuzzBearerToken/valid", "testdata/fuzz/FuzzSignedPayload/valid"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		header := ""
		if strings.Contains(path, "Bearer") {
			header = strings.TrimSuffix(strings.TrimPrefix(strings.Split(string(data), "\n")[1], `string("`), `")`)
		} else {
			tok, err := signFuzz(fuzzPayload(""), nil)
			if err != nil {
				t.Fatal(err)
			}
			header = "Bearer " + tok
			if !strings.Contains(string(data), strings.ReplaceAll(string(fuzzPayload("")), `"`, `\"`)) {
				t.Fatalf("%s is not fuzzPayload(\"\")", path)
			}
		}
		if _, err := m.GetClaims(&authorization.AuthInfo{AuthToken: header}); err != nil {
			t.Fatalf("%s refused: %v", path, err)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	m := newFuzzMapper(f)
	valid, err := signFuzz(fuzzPayload(""), nil)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		"Bearer " + valid,
		"bearer " + valid,
		"Bearer  " + valid + " ",
		"Bearer " + valid + "." + parts[2],
		"Bearer " + parts[0] + "." + parts[1] + ".",
		"Bearer " + parts[0] + "=." + parts[1] + "." + parts[2],
		"Bearer " + valid[:len(valid)/2],
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.",
		"Bearer", "Bearer ", "Basic YWxpY2U6c2VjcmV0", valid, "", "Bearer ...", "Bearer a.b.c",
		"Bearer " + strings.Repeat("A", 20000),
	} {
		f.Add(seed)
	}
	verifyAlone := func(token string) error {
		jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			return err
		}
		_, err = jws.Verify(fuzzPrivate.Public())
		return err
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := m.GetClaims(&authorization.AuthInfo{AuthToken: header})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("denied with an empty reason")
			}
			return
		}
		checkAcceptedClaims(t, c)
		scheme, token, _ := strings.Cut(header, " ")
		if !strings.EqualFold(scheme, "bearer") {
			t.Fatalf("accepted header with scheme %q", scheme)
		}
		if err := verifyAlone(strings.TrimSpace(token)); err != nil {
			t.Fatalf("accepted a token go-jose alone does not verify (%v): %q", err, header)
		}
	})
}

func FuzzSignedPayload(f *testing.F) {
	m := newFuzzMapper(f)
	for _, seed := range []struct {
		payload string
		kid     string
	}{
		{string(fuzzPayload("")), fuzzKid},
		{string(fuzzPayload(`,"permissions":["default:admin"]`)), fuzzKid},
		{string(fuzzPayload(`,"iss":"https://evil.example"`)), fuzzKid},
		{string(fuzzPayload(`,"nbf":1999999999`)), fuzzKid},
		{string(fuzzPayload(`,"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`)), fuzzKid},
		{`{"iss":"` + fuzzIssuerURL + `","sub":"alice","aud":["account"],"exp":1893542400}`, fuzzKid},
		{`{"iss":"` + fuzzIssuerURL + `","sub":"alice","aud":"temporal"}`, fuzzKid},
		{`{"iss":"` + fuzzIssuerURL + `","sub":7,"aud":"temporal","exp":1893542400}`, fuzzKid},
		{`{"iss":"` + fuzzIssuerURL + `","sub":"a","aud":"temporal","exp":1e400}`, fuzzKid},
		{`{"iss":"` + fuzzIssuerURL + `","sub":"a","aud":"temporal","exp":-1}`, fuzzKid},
		{`{"iss":"` + fuzzIssuerURL + `","sub":"a","aud":"temporal","exp":"1893542400"}`, fuzzKid},
		{`["not","an","object"]`, fuzzKid},
		{`null`, fuzzKid},
		{``, fuzzKid},
		{string(fuzzPayload("")), ""},
		{string(fuzzPayload("")), "other-kid"},
	} {
		f.Add([]byte(seed.payload), seed.kid)
	}
	f.Fuzz(func(t *testing.T, payload []byte, kid string) {
		header := map[string]any{"kid": kid}
		if kid == "" {
			header["kid"] = nil
		}
		token, err := signFuzz(payload, header)
		if err != nil {
			return // go-jose refuses to sign it (e.g. an unserializable header)
		}
		c, err := m.GetClaims(&authorization.AuthInfo{AuthToken: "Bearer " + token})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("denied with an empty reason")
			}
			return
		}
		checkAcceptedClaims(t, c)
		if kid != fuzzKid && kid != "" {
			t.Fatalf("accepted a token whose kid %q is not in the key set", kid)
		}
		// Re-derive, independently of the verifier, what an accepted payload must be.
		if err := checkJSONShape(payload); err != nil {
			t.Fatalf("accepted an ambiguous payload (%v): %s", err, payload)
		}
		// A map keeps keys exactly as written (struct decoding would fold their case).
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
			t.Fatalf("accepted a payload that is not a JSON object (%v): %s", err, payload)
		}
		if claims["iss"] != fuzzIssuerURL {
			t.Fatalf("accepted iss %v: %s", claims["iss"], payload)
		}
		if exp, ok := claims["exp"].(float64); !ok || float64(fuzzNow.Add(-defaultLeeway).Unix()) >= exp {
			t.Fatalf("accepted a payload without a current exp: %s", payload)
		}
		switch aud := claims["aud"].(type) {
		case string:
			if aud != "temporal" {
				t.Fatalf("accepted aud %q", aud)
			}
		case []any:
			found := false
			for _, a := range aud {
				found = found || a == "temporal"
			}
			if !found {
				t.Fatalf("accepted aud %v", aud)
			}
		default:
			t.Fatalf("accepted aud %v: %s", aud, payload)
		}
	})
}

func FuzzLoadConfig(f *testing.F) {
	for _, seed := range []string{
		"issuers:\n  - issuer: https://idp.example.com/realms/temporal\n",
		"issuers:\n  - issuer: https://idp.example.com\n    jwksURI: https://idp.example.com/jwks\n    audiences: [temporal]\n" +
			"    permissions:\n      - claim: resource_access.temporal.roles\n      - claimPath: [\"https://example.com/roles\"]\n        format: mapped\n" +
			"    mappings:\n      - value: /temporal-admins\n        grants: [{namespace: temporal-system, role: admin}, {namespace: \"team-*\", role: write}]\n" +
			"keys: {refreshInterval: 1h, minRefetchInterval: 30s, fetchTimeout: 10s, maxResponseBytes: 65536}\n" +
			"tokens: {leeway: 30s, algorithms: [RS256, ES256], maxTokenBytes: 8192, cacheSize: 100}\n" +
			"authorizer:\n  uiAccess: explicit\n  filterListNamespaces: false\n  rules:\n" +
			"    - {name: prod, namespaces: [\"prod*\"], roles: [write], deny: [\"Terminate*\", \"ResetWorkflowExecution\"]}\n" +
			"    - {namespaces: [\"*\"], roles: [read], allow: [\"List*\", \"Count*\", \"Describe*\"]}\n",
		"issuers:\n  - issuer: https://a\n    permissions:\n      - claim: scope\n        format: regex\n        regex: '^(?P<namespace>[^:]+):(?P<role>.+)$'\n",
		"issuers:\n  - issuer: https://a\n    permissions: [{claim: scope, format: regex, regex: '(unclosed'}]\n",
		"issuers:\n  - issuer: https://a\n    mappings: [{value: x, grants: [{namespace: 'team a', role: read}]}]\n",
		"issuers:\n  - issuer: https://a\n    mappings: [{value: x, grants: [{namespace: default, role: superuser}]}]\n",
		"issuers:\n  - issuer: https://a\n    jwksURI: https://a/jwks\n    jwksFile: /nonexistent/jwks.json\n",
		"issuers:\n  - issuer: https://a\n    issuerr: typo\n",
		"issuers: https://a\n",
		"issuers:\n  - issuer: https://a\ntokens: {algorithms: [none, HS256]}\n",
		"issuers:\n  - issuer: https://a\nkeys: {refreshInterval: 60}\n",
		"issuers:\n  - issuer: https://a\nauthorizer: {rules: [{roles: [owner], deny: [\"*\"]}]}\n",
		"issuers:\n  - issuer: https://a\nauthorizer: {rules: [{deny: [TerminateWorkflow]}]}\n",
		"a: &a [1,2]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\n",
		"", "---\n", "null", "issuers: []\n", "issuers:\n  - issuer: https://a\n---\nissuers: []\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// jwksFile is read at validation: keep the fuzzer off device files, which would
		// block (a FIFO, /dev/zero) rather than exercise the loader.
		if strings.Contains(string(data), "/dev") || strings.Contains(string(data), "/proc") || strings.Contains(string(data), "/sys") {
			return
		}
		cfg, err := parseYAML("fuzz.yaml", data)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error is %T, not *ConfigError: %v", err, err)
			}
			if ce.Source != "fuzz.yaml" || ce.Key == "" || ce.Problem == "" {
				t.Fatalf("ConfigError without source, key or problem: %+v", ce)
			}
			return
		}
		// Accepted: validation is idempotent and the result is safe to serve with.
		if err := cfg.Validate(); err != nil {
			t.Fatalf("second Validate failed: %v", err)
		}
		if len(cfg.Issuers) == 0 {
			t.Fatal("accepted a config without issuers")
		}
		for _, a := range cfg.Tokens.Algorithms {
			if strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS") {
				t.Fatalf("accepted algorithm %q", a)
			}
		}
		for i, is := range cfg.Issuers {
			n := 0
			for _, s := range []string{is.DiscoveryURL, is.JWKSURI, is.JWKSFile} {
				if s != "" {
					n++
				}
			}
			if n > 1 {
				t.Fatalf("issuers[%d] accepted with %d key sources", i, n)
			}
			for _, m := range is.Mappings {
				for _, g := range m.Grants {
					if strings.IndexFunc(g.Namespace, unicode.IsSpace) >= 0 {
						t.Fatalf("accepted grant namespace %q with whitespace", g.Namespace)
					}
				}
			}
		}
		if _, err := newAuthorizer(cfg, Options{}.withDefaults()); err != nil {
			t.Fatalf("validated config does not compile its authorizer: %v", err)
		}
	})
}
