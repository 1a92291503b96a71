package authz

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/server/common/authorization"
)

// TestTokenVerification feeds tokens that must be accepted or denied for one reason
// each, and checks the denial names that reason.
func TestTokenVerification(t *testing.T) {
	iss := testissuer.New(t)
	iss.AddKeyAlg(t, "ps-1", testissuer.RSA, "PS256")
	iss.AddKeyAlg(t, "rs512", testissuer.RSA, "RS512")
	iss.AddKey(t, "ec-384", testissuer.ECP384)
	iss.AddKey(t, "ec-521", testissuer.ECP521)
	iss.AddKeyAlg(t, "no-alg", testissuer.ECP256, "")
	other := testissuer.New(t) // trusted too, with its own keys
	stranger := testissuer.New(t)
	other.AddKey(t, testissuer.KidRSA+"-other", testissuer.RSA)

	clock := &testClock{t: time.Now()}
	cfg := &Config{Issuers: []IssuerConfig{
		{Issuer: iss.URL(), Audiences: []string{"temporal", "temporal-ui"}},
		{Issuer: other.URL()},
	}}
	cfg.Tokens.CacheSize = -1 // every call verifies
	m := startMapper(t, cfg, Options{Now: clock.now})
	waitForKeys(t, m)

	now := clock.t
	base := func(extra map[string]any) map[string]any {
		c := map[string]any{"sub": "alice", "aud": "temporal", "permissions": []string{"default:read"}}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	hmacSecret := []byte(strings.Repeat("k", 32))
	cases := []struct {
		name    string
		token   string
		wantErr string // "" means accepted
	}{
		{"RS256", iss.Issue(t, base(nil)), ""},
		{"ES256", iss.Issue(t, base(nil), testissuer.WithKey(testissuer.KidEC)), ""},
		{"EdDSA", iss.Issue(t, base(nil), testissuer.WithKey(testissuer.KidEd25519)), ""},
		{"PS256", iss.Issue(t, base(nil), testissuer.WithKey("ps-1")), ""},
		{"RS512", iss.Issue(t, base(nil), testissuer.WithKey("rs512")), ""},
		{"ES384", iss.Issue(t, base(nil), testissuer.WithKey("ec-384")), ""},
		{"ES512", iss.Issue(t, base(nil), testissuer.WithKey("ec-521")), ""},
		{"key without alg, by key type", iss.Issue(t, base(nil), testissuer.WithKey("no-alg")), ""},
		{"audience in array", iss.Issue(t, base(map[string]any{"aud": []string{"account", "temporal-ui"}})), ""},
		{"second trusted issuer, no audience configured", other.Issue(t, base(map[string]any{"aud": nil})), ""},
		{"exp within leeway", iss.Issue(t, base(map[string]any{"exp": now.Add(-10 * time.Second).Unix()})), ""},
		{"nbf within leeway", iss.Issue(t, base(map[string]any{"nbf": now.Add(10 * time.Second).Unix()})), ""},

		{"expired", iss.Issue(t, base(map[string]any{"exp": now.Add(-time.Minute).Unix()})),
			"token expired at " + now.Add(-time.Minute).UTC().Format(time.RFC3339)},
		{"no exp", iss.Issue(t, base(map[string]any{"exp": nil})), "token has no exp claim"},
		{"not yet valid", iss.Issue(t, base(map[string]any{"nbf": now.Add(time.Hour).Unix()})), "token is not valid before"},
		{"issued in the future", iss.Issue(t, base(map[string]any{"iat": now.Add(time.Hour).Unix()})), "token is issued in the future"},
		{"exp not a number", iss.Issue(t, base(map[string]any{"exp": "tomorrow"})), "malformed registered claim"},
		{"untrusted issuer", stranger.Issue(t, base(nil)), fmt.Sprintf("issuer %q is not trusted", stranger.URL())},
		{"no iss", iss.Issue(t, base(map[string]any{"iss": nil})), "token has no iss claim"},
		{"signed by issuer A, claims issuer B", iss.Issue(t, base(map[string]any{"iss": other.URL()})),
			fmt.Sprintf("signature does not verify with key %q of issuer %q", testissuer.KidRSA, other.URL())},
		{"signed by a stranger's key under a trusted kid", stranger.Issue(t, base(map[string]any{"iss": iss.URL()})),
			fmt.Sprintf("signature does not verify with key %q of issuer %q", testissuer.KidRSA, iss.URL())},
		{"embedded jwk is ignored", stranger.Issue(t, base(map[string]any{"iss": iss.URL()}),
			testissuer.WithHeader("jwk", json.RawMessage(publicJWK(t, stranger, testissuer.KidRSA)))),
			"signature does not verify"},
		{"jku header is ignored", stranger.Issue(t, base(map[string]any{"iss": iss.URL()}),
			testissuer.WithHeader("jku", stranger.JWKSURL())), "signature does not verify"},
		{"HS256", iss.Issue(t, base(nil), testissuer.WithHMAC(hmacSecret)), "algorithm HS256 is not allowed"},
		{"alg none", iss.Issue(t, base(nil), testissuer.Unsigned()), "algorithm none is not allowed"},
		{"alg differs from the key's alg", iss.Issue(t, base(nil), testissuer.WithAlg("RS384")),
			fmt.Sprintf("token algorithm RS384 does not match the algorithm RS256 of key %q", testissuer.KidRSA)},
		{"alg of another key type", iss.Issue(t, base(nil), testissuer.WithHeader("kid", "no-alg")),
			"token algorithm RS256 cannot be used with key \"no-alg\""},
		{"unknown kid", iss.Issue(t, base(nil), testissuer.WithHeader("kid", "k2")),
			fmt.Sprintf("unknown kid \"k2\" for issuer %q", iss.URL())},
		{"no kid, several keys", iss.Issue(t, base(nil), testissuer.WithHeader("kid", nil)),
			fmt.Sprintf("token has no kid and the key set of issuer %q has 8 keys", iss.URL())},
		{"wrong audience", iss.Issue(t, base(map[string]any{"aud": "account"})), `token audience ["account"] does not include any of ["temporal" "temporal-ui"]`},
		{"no audience", iss.Issue(t, base(map[string]any{"aud": nil})), "token has no aud claim"},
		{"duplicate key in payload", iss.IssueRaw(t, payloadWith(iss.URL(), now, `"sub":"alice","sub":"admin"`)), `duplicate key "sub"`},
		{"duplicate nested key", iss.IssueRaw(t, payloadWith(iss.URL(), now, `"sub":"a","realm_access":{"roles":[],"roles":["x"]}`)), `duplicate key "roles"`},
		{"deep nesting", iss.IssueRaw(t, payloadWith(iss.URL(), now, `"sub":"a","x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40))), "nested deeper than 32 levels"},
		{"payload not an object", iss.IssueRaw(t, []byte(`["a"]`)), "malformed token payload"},
		{"not a JWT", "abc.def", "malformed token"},
		{"too long", strings.Repeat("a", 20<<10), "more than tokens.maxTokenBytes (16384)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := m.GetClaims(bearer(tc.token))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				if c.Subject != "alice" || c.AuthType != "jwt" {
					t.Fatalf("claims = %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

// publicJWK returns the published JWK of kid.
func publicJWK(t *testing.T, iss *testissuer.Issuer, kid string) []byte {
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if strings.Contains(string(k), `"kid":"`+kid+`"`) {
			return k
		}
	}
	t.Fatalf("no key %s", kid)
	return nil
}

// payloadWith builds a raw payload with valid iss/exp and the given extra members.
func payloadWith(iss string, now time.Time, members string) []byte {
	return []byte(fmt.Sprintf(`{"iss":%q,"exp":%d,%s}`, iss, now.Add(time.Hour).Unix(), members))
}

func TestAuthorizationHeaderFormat(t *testing.T) {
	iss := testissuer.New(t)
	m := startMapper(t, issuerConfig(iss), Options{})
	waitForKeys(t, m)
	tok := iss.Issue(t, map[string]any{"sub": "alice"})
	for _, tc := range []struct {
		header, wantErr string
	}{
		{"Bearer " + tok, ""},
		{"bearer " + tok, ""},
		{"BEARER  " + tok + " ", ""},
		{"", "no bearer token"},
		{"Bearer", `"Bearer" carries no token`},
		{"Bearer    ", `"Bearer" carries no token`},
		{"Basic dXNlcjpwYXNz", `must be "Bearer <token>"`},
		{tok, `must be "Bearer <token>"`},
		{"Bearer " + strings.Repeat("x", 17<<10), "more than tokens.maxTokenBytes"},
	} {
		_, err := m.GetClaims(&authorization.AuthInfo{AuthToken: tc.header})
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("header %.30q: err = %v, want %q", tc.header, err, tc.wantErr)
		}
	}
}

func TestSubjectClaim(t *testing.T) {
	iss := testissuer.New(t)
	cfg := issuerConfig(iss)
	cfg.Issuers[0].SubjectClaim = "client_id"
	m := startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	c, err := m.GetClaims(bearer(iss.Issue(t, map[string]any{"sub": "service-account-x", "client_id": "worker-app"})))
	if err != nil || c.Subject != "worker-app" {
		t.Fatalf("claims %+v err %v", c, err)
	}
	for claims, want := range map[string]map[string]any{
		`token has no "client_id" claim`:                       {"sub": "x"},
		`token claim "client_id" is a number, not a non-empty`: {"client_id": 7},
		`token claim "client_id" is an empty string`:           {"client_id": ""},
	} {
		_, err := m.GetClaims(bearer(iss.Issue(t, want)))
		if err == nil || !strings.Contains(err.Error(), claims) {
			t.Errorf("err = %v, want %q", err, claims)
		}
	}
}

func TestAlgorithmSubset(t *testing.T) {
	iss := testissuer.New(t)
	cfg := issuerConfig(iss)
	cfg.Tokens.Algorithms = []string{"ES256"}
	m := startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	if _, err := m.GetClaims(bearer(iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey(testissuer.KidEC)))); err != nil {
		t.Fatalf("ES256 denied: %v", err)
	}
	_, err := m.GetClaims(bearer(iss.Issue(t, map[string]any{"sub": "a"})))
	if err == nil || !strings.Contains(err.Error(), "algorithm RS256 is not allowed") {
		t.Fatalf("RS256 with ES256-only config: %v", err)
	}
}

// A token without kid is accepted when the issuer's key set has exactly one key.
func TestNoKidWithSingleKey(t *testing.T) {
	iss := testissuer.New(t)
	iss.RemoveKey(testissuer.KidEC)
	iss.RemoveKey(testissuer.KidEd25519)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Issuers: []IssuerConfig{{Issuer: iss.URL(), JWKSFile: path}}}
	m := startMapper(t, cfg, Options{})
	c, err := m.GetClaims(bearer(iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithHeader("kid", nil))))
	if err != nil || c.Subject != "a" {
		t.Fatalf("claims %+v err %v", c, err)
	}
	if iss.JWKSFetches() != 0 {
		t.Fatalf("jwksFile issuer fetched over HTTP %d times", iss.JWKSFetches())
	}
}

func TestCheckJSONShape(t *testing.T) {
	for payload, want := range map[string]string{
		`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`: "",
		`{"a":{"b":1,"b":2}}`:                       `duplicate key "b"`,
		`{"a":[{"x":1,"x":1}]}`:                     `duplicate key "x"`,
		`{"a":"b","c":"a"}`:                         "",
		`{"a":"a","a":"x"}`:                         `duplicate key "a"`,
		`{"a":}`:                                    "not valid JSON",
		`{"k":` + strings.Repeat(`{"k":`, 32) + `1` + strings.Repeat("}", 33): "nested deeper",
	} {
		err := checkJSONShape([]byte(payload))
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: err = %v, want %q", payload, err, want)
		}
	}
}
