package testissuer

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func get(t *testing.T, url string) (int, []byte, error) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func TestIssuedTokensVerifyWithPublishedKeys(t *testing.T) {
	iss := New(t)
	iss.AddKeyAlg(t, "ps-1", RSA, "PS384")
	iss.AddKey(t, "ec-384", ECP384)
	iss.AddKey(t, "ec-521", ECP521)

	code, body, err := get(t, iss.URL()+"/.well-known/openid-configuration")
	if err != nil || code != 200 {
		t.Fatalf("discovery: %d %v", code, err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.JWKSURI != iss.JWKSURL() {
		t.Fatalf("jwks_uri = %q, want %q", doc.JWKSURI, iss.JWKSURL())
	}
	_, body, err = get(t, doc.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kid, alg string }{
		{KidRSA, "RS256"}, {KidEC, "ES256"}, {KidEd25519, "EdDSA"},
		{"ps-1", "PS384"}, {"ec-384", "ES384"}, {"ec-521", "ES512"},
	} {
		tok := iss.Issue(t, map[string]any{"sub": "alice"}, WithKey(tc.kid))
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
		if err != nil {
			t.Fatalf("%s: parse: %v", tc.kid, err)
		}
		if got := jws.Signatures[0].Header.KeyID; got != tc.kid {
			t.Fatalf("kid header = %q, want %q", got, tc.kid)
		}
		payload, err := jws.Verify(set.Key(tc.kid)[0])
		if err != nil {
			t.Fatalf("%s: verify: %v", tc.kid, err)
		}
		var claims map[string]any
		_ = json.Unmarshal(payload, &claims)
		if claims["iss"] != iss.URL() || claims["sub"] != "alice" || claims["exp"] == nil {
			t.Fatalf("claims = %v", claims)
		}
	}
	if iss.JWKSFetches() != 1 || iss.DiscoveryFetches() != 1 {
		t.Fatalf("fetch counts = %d, %d", iss.JWKSFetches(), iss.DiscoveryFetches())
	}
}

func TestIssueOptions(t *testing.T) {
	iss := New(t)
	none := iss.Issue(t, map[string]any{"exp": nil})
	if _, err := jose.ParseSignedCompact(none, []jose.SignatureAlgorithm{jose.RS256}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mustPayload(t, none)), "exp") {
		t.Fatal("exp: nil should leave exp out")
	}
	noKid := iss.Issue(t, nil, WithHeader("kid", nil))
	jws, _ := jose.ParseSignedCompact(noKid, []jose.SignatureAlgorithm{jose.RS256})
	if jws.Signatures[0].Header.KeyID != "" {
		t.Fatal("kid should be absent")
	}
	if tok := iss.Issue(t, nil, Unsigned()); !strings.HasSuffix(tok, ".") {
		t.Fatalf("unsigned token %q should have an empty signature", tok)
	}
	hs := iss.Issue(t, nil, WithHMAC([]byte(strings.Repeat("s", 32))))
	if _, err := jose.ParseSignedCompact(hs, []jose.SignatureAlgorithm{jose.HS256}); err != nil {
		t.Fatal(err)
	}
}

func mustPayload(t *testing.T, tok string) []byte {
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.UnsafePayloadWithoutVerification()
}

func TestFaultsAndRotation(t *testing.T) {
	iss := New(t)
	iss.RemoveKey(KidEC)
	if strings.Contains(string(iss.JWKS()), KidEC) {
		t.Fatal("removed key still published")
	}
	for _, tc := range []struct {
		fault    Fault
		wantCode int
		wantErr  bool
	}{
		{FaultStatus500, 500, false},
		{FaultGarbage, 200, false},
		{FaultHuge, 200, false},
		{FaultDown, 0, true},
	} {
		iss.SetFault(tc.fault)
		code, body, err := get(t, iss.JWKSURL())
		if (err != nil) != tc.wantErr || code != tc.wantCode {
			t.Fatalf("fault %d: code %d err %v", tc.fault, code, err)
		}
		if tc.fault == FaultHuge && len(body) < 4<<20 {
			t.Fatalf("huge body only %d bytes", len(body))
		}
	}
	iss.SetFault(FaultHang)
	c := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := c.Get(iss.JWKSURL()); err == nil {
		t.Fatal("hanging JWKS answered")
	}
	iss.SetFault(FaultNone)
	iss.SetDiscoveryIssuer("https://elsewhere")
	_, body, _ := get(t, iss.URL()+"/.well-known/openid-configuration")
	if !strings.Contains(string(body), "https://elsewhere") {
		t.Fatalf("discovery = %s", body)
	}
}
