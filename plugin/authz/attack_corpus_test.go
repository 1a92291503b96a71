package authz_test

// The attack-token corpus: malformed and hostile tokens, each of which must be refused
// for one specific, stated reason, through the public Service exactly as the frontend
// uses it (ClaimMapper().GetClaims, then Authorizer().Authorize). The table is mirrored in
// docs/security.md ("Attack-token corpus"); TestAttackCorpusIsDocumented keeps the two
// in step.
//
// A case is stopped at one of two stages:
//   - atToken: GetClaims refuses the token; the error must contain reason.
//   - atAuthorizer: the token is genuine but its claims are hostile or confused; GetClaims
//     accepts it, the claims must grant nothing on the target namespace, and Authorize
//     must deny with a Result.Reason containing reason.
// A case stopped at the wrong stage fails: a claim-confusion token that errors out would
// hide whether the mapper would have widened access.

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/hardened-temporal/temporal-image/plugin/authz"
	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/namespace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

type attackStage int

const (
	atToken      attackStage = iota // GetClaims must refuse the token
	atAuthorizer                    // GetClaims accepts; Authorize must deny
)

type attackCase struct {
	name       string // row key in docs/security.md
	attack     string // what the token tries
	header     string // the whole authorization header value
	extra      string // the authExtraHeaderName value, if any
	stage      attackStage
	reason     string // substring of the error (atToken) or of Result.Reason (atAuthorizer)
	api        string // atAuthorizer: method called (default DescribeNamespace)
	namespace  string // atAuthorizer: namespace called (default "default")
	restricted bool   // use the service whose tokens.algorithms is [RS256]
}

const (
	workflowAPI = "/temporal.api.workflowservice.v1.WorkflowService/"
	adminAPI    = "/temporal.server.api.adminservice.v1.AdminService/"
)

// corpusEnv is the deployment under attack: two trusted issuers (A requires audience
// "temporal"), an untrusted one, and a second service that accepts only RS256.
type corpusEnv struct {
	a, b, stranger  *testissuer.Issuer
	svc, restricted *authz.Service
	now             time.Time
}

func newCorpusEnv(t *testing.T) *corpusEnv {
	t.Helper()
	e := &corpusEnv{a: testissuer.New(t), b: testissuer.New(t), stranger: testissuer.New(t), now: time.Now()}
	e.a.AddKeyAlg(t, "rsa-noalg", testissuer.RSA, "") // a key published without alg
	e.a.AddKey(t, "ec-384", testissuer.ECP384)
	e.b.AddKey(t, "b-only", testissuer.RSA)
	cfg := &authz.Config{Issuers: []authz.IssuerConfig{
		{Issuer: e.a.URL(), Audiences: []string{"temporal"}},
		{Issuer: e.b.URL()},
	}}
	e.svc = newService(t, cfg)
	e.restricted = newService(t, &authz.Config{
		Issuers: []authz.IssuerConfig{{Issuer: e.a.URL(), Audiences: []string{"temporal"}}},
		Tokens:  authz.TokensConfig{Algorithms: []string{"RS256"}},
	})
	// Both services have keys once a valid token of each issuer maps.
	waitAccepted(t, e.svc, e.a.Issue(t, e.claims(nil)))
	waitAccepted(t, e.svc, e.b.Issue(t, map[string]any{"sub": "bob"}))
	waitAccepted(t, e.restricted, e.a.Issue(t, e.claims(nil)))
	return e
}

func newService(t *testing.T, cfg *authz.Config) *authz.Service {
	t.Helper()
	svc, err := authz.New(cfg, authz.Options{})
	if err != nil {
		t.Fatalf("authz.New: %v", err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func waitAccepted(t *testing.T, svc *authz.Service, token string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := svc.MapToken(token)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("valid token still refused: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// claims are issuer A's well-formed claims for mallory, with overrides (nil removes).
func (e *corpusEnv) claims(over map[string]any) map[string]any {
	c := map[string]any{"sub": "mallory", "aud": "temporal", "permissions": []string{"other:admin"}}
	for k, v := range over {
		c[k] = v
	}
	return c
}

// perms is a token of issuer A whose permissions claim is v.
func (e *corpusEnv) perms(t *testing.T, v any) string {
	return "Bearer " + e.a.Issue(t, e.claims(map[string]any{"permissions": v}))
}

// raw is a token of issuer A over an exact payload with the given extra members.
func (e *corpusEnv) raw(t *testing.T, members string, opts ...testissuer.Option) string {
	payload := fmt.Sprintf(`{"iss":%q,"aud":"temporal","exp":%d,%s}`, e.a.URL(), e.now.Add(time.Hour).Unix(), members)
	return e.a.IssueRaw(t, []byte(payload), opts...)
}

// compact assembles a JWS from parts, for tokens no signer would produce.
func compact(header, payload string, signature []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc(signature)
}

// rsaPublicKeyPEM is issuer A's RSA public key as PEM: the HMAC secret of the classic
// key-confusion attack (a verifier that lets the token pick HS256 would use it).
func rsaPublicKeyPEM(t *testing.T, iss *testissuer.Issuer) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(testissuer.KidRSA)
	if len(keys) != 1 {
		t.Fatalf("no %s key", testissuer.KidRSA)
	}
	der, err := x509.MarshalPKIXPublicKey(keys[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func publishedJWK(t *testing.T, iss *testissuer.Issuer, kid string) json.RawMessage {
	t.Helper()
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

func attackCorpus(t *testing.T, e *corpusEnv) []attackCase {
	a, b, stranger := e.a, e.b, e.stranger
	valid := a.Issue(t, e.claims(nil))
	parts := strings.Split(valid, ".")
	hdr, body, sig := parts[0], parts[1], parts[2]
	pemKey := rsaPublicKeyPEM(t, a)
	hour := e.now.Add(time.Hour).Unix()
	fromA := func(over map[string]any, opts ...testissuer.Option) string {
		return "Bearer " + a.Issue(t, e.claims(over), opts...)
	}
	aURL, bURL := a.URL(), b.URL()
	notAllowed := func(alg string) string { return "algorithm " + alg + " is not allowed" }
	readNone := `may not call DescribeNamespace in namespace "default": requires read or worker, has none`
	noSystem := `may not call RegisterNamespace in namespace "default": requires temporal-system:admin (creating a namespace is cluster administration), has no system role`

	return []attackCase{
		// Algorithm attacks.
		{name: "alg-none", attack: "unsigned token, alg none", header: "Bearer " + a.Issue(t, e.claims(nil), testissuer.Unsigned()), reason: notAllowed("none")},
		{name: "alg-None", attack: "alg none, capitalised", header: "Bearer " + a.Issue(t, e.claims(nil), testissuer.Unsigned(), testissuer.WithHeader("alg", "None")), reason: notAllowed("None")},
		{name: "alg-NONE-with-signature", attack: "alg NONE carrying a real signature", header: "Bearer " + compact(`{"alg":"NONE","kid":"rsa-1"}`, `{"sub":"x"}`, []byte("sig")), reason: notAllowed("NONE")},
		{name: "alg-missing", attack: "header without alg", header: "Bearer " + compact(`{"kid":"rsa-1","typ":"JWT"}`, `{"sub":"x"}`, []byte("sig")), reason: "algorithm  is not allowed"},
		{name: "hs256-key-confusion", attack: "HS256 signed with the issuer's RSA public key (PEM) as HMAC secret", header: fromA(nil, testissuer.WithHMAC(pemKey)), reason: notAllowed("HS256")},
		{name: "hs512-key-confusion", attack: "HS512 with the RSA public key as secret", header: "Bearer " + hs(t, jose.HS512, pemKey, a.URL(), hour), reason: notAllowed("HS512")},
		{name: "alg-not-allowed", attack: "valid ES256 token where tokens.algorithms is [RS256]", header: fromA(nil, testissuer.WithKey(testissuer.KidEC)), restricted: true, reason: notAllowed("ES256")},
		{name: "alg-vs-jwk-alg", attack: "ES384 signature with the kid of an RS256 key", header: fromA(nil, testissuer.WithKey("ec-384"), testissuer.WithHeader("kid", testissuer.KidRSA)),
			reason: `token algorithm ES384 does not match the algorithm RS256 of key "rsa-1"`},
		{name: "alg-vs-key-type", attack: "ES256 signature naming an RSA key published without alg", header: fromA(nil, testissuer.WithKey(testissuer.KidEC), testissuer.WithHeader("kid", "rsa-noalg")),
			reason: `token algorithm ES256 cannot be used with key "rsa-noalg"`},
		{name: "eddsa-vs-ec-key", attack: "EdDSA signature with the kid of an EC key", header: fromA(nil, testissuer.WithKey(testissuer.KidEd25519), testissuer.WithHeader("kid", testissuer.KidEC)),
			reason: `token algorithm EdDSA does not match the algorithm ES256 of key "ec-1"`},

		// Forged or inconsistent keys.
		{name: "unknown-kid", attack: "kid not in the issuer's JWKS", header: fromA(nil, testissuer.WithHeader("kid", "attacker-1")), reason: fmt.Sprintf(`unknown kid "attacker-1" for issuer %q`, aURL)},
		{name: "missing-kid", attack: "no kid while the JWKS has several keys", header: fromA(nil, testissuer.WithHeader("kid", nil)), reason: fmt.Sprintf("token has no kid and the key set of issuer %q has", aURL)},
		{name: "embedded-jwk", attack: "signed by the attacker's key, which is embedded as jwk; kid of a trusted key", header: "Bearer " + stranger.Issue(t, e.claims(map[string]any{"iss": aURL}),
			testissuer.WithHeader("jwk", publishedJWK(t, stranger, testissuer.KidRSA))), reason: fmt.Sprintf(`signature does not verify with key "rsa-1" of issuer %q`, aURL)},
		{name: "embedded-jwk-own-kid", attack: "embedded jwk with the attacker's own kid", header: "Bearer " + stranger.Issue(t, e.claims(map[string]any{"iss": aURL}),
			testissuer.WithHeader("jwk", publishedJWK(t, stranger, testissuer.KidEC)), testissuer.WithKey(testissuer.KidEC), testissuer.WithHeader("kid", "attacker-ec")),
			reason: `unknown kid "attacker-ec"`},
		{name: "jku", attack: "jku pointing at the attacker's JWKS", header: "Bearer " + stranger.Issue(t, e.claims(map[string]any{"iss": aURL}),
			testissuer.WithHeader("jku", stranger.JWKSURL())), reason: `signature does not verify with key "rsa-1"`},
		{name: "x5u", attack: "x5u pointing at the attacker's server", header: "Bearer " + stranger.Issue(t, e.claims(map[string]any{"iss": aURL}),
			testissuer.WithHeader("x5u", stranger.URL()+"/cert.pem")), reason: `signature does not verify with key "rsa-1"`},
		{name: "untrusted-issuer", attack: "valid signature by an issuer that is not configured", header: "Bearer " + stranger.Issue(t, e.claims(nil)), reason: fmt.Sprintf("issuer %q is not trusted", stranger.URL())},
		{name: "iss-spoof-colliding-kid", attack: "claims issuer A, signed by trusted issuer B's key with the same kid", header: "Bearer " + b.Issue(t, e.claims(map[string]any{"iss": aURL})),
			reason: fmt.Sprintf(`signature does not verify with key "rsa-1" of issuer %q`, aURL)},
		{name: "iss-spoof-other-kid", attack: "claims issuer A, signed by issuer B's key whose kid A lacks", header: "Bearer " + b.Issue(t, e.claims(map[string]any{"iss": aURL}), testissuer.WithKey("b-only")),
			reason: fmt.Sprintf(`unknown kid "b-only" for issuer %q`, aURL)},
		{name: "iss-missing", attack: "genuine signature, no iss claim", header: fromA(map[string]any{"iss": nil}), reason: "token has no iss claim"},
		{name: "iss-trailing-slash", attack: "iss differs from the configured issuer by a trailing slash", header: fromA(map[string]any{"iss": aURL + "/"}), reason: fmt.Sprintf("issuer %q is not trusted", aURL+"/")},
		{name: "iss-wrong-case", attack: "iss in upper case", header: fromA(map[string]any{"iss": strings.ToUpper(aURL)}), reason: fmt.Sprintf("issuer %q is not trusted", strings.ToUpper(aURL))},

		// Time claims.
		{name: "expired", attack: "exp an hour ago", header: fromA(map[string]any{"exp": e.now.Add(-time.Hour).Unix()}), reason: "token expired at"},
		{name: "nbf-future", attack: "nbf an hour ahead", header: fromA(map[string]any{"nbf": e.now.Add(time.Hour).Unix()}), reason: "token is not valid before"},
		{name: "iat-future", attack: "iat beyond the leeway", header: fromA(map[string]any{"iat": e.now.Add(5 * time.Minute).Unix()}), reason: "token is issued in the future"},
		{name: "exp-missing", attack: "no exp: a token valid forever", header: fromA(map[string]any{"exp": nil}), reason: "token has no exp claim"},
		{name: "exp-string", attack: "exp as a string", header: fromA(map[string]any{"exp": fmt.Sprint(hour)}), reason: "malformed registered claim"},
		{name: "exp-case-folded", attack: `expired "exp" plus a far-future "EXP" (case-insensitive decoders take the last)`,
			header: "Bearer " + a.IssueRaw(t, []byte(fmt.Sprintf(`{"iss":%q,"sub":"mallory","aud":"temporal","permissions":["default:admin"],"exp":%d,"EXP":%d}`,
				aURL, e.now.Add(-time.Hour).Unix(), e.now.Add(1000*time.Hour).Unix()))), reason: `claim "EXP" is not "exp" (claim names are case-sensitive)`},
		{name: "iss-case-folded", attack: `"Iss" instead of "iss" (read as iss by case-insensitive decoders)`,
			header: "Bearer " + a.IssueRaw(t, []byte(fmt.Sprintf(`{"Iss":%q,"sub":"mallory","aud":"temporal","exp":%d}`, aURL, hour))), reason: `claim "Iss" is not "iss"`},
		{name: "aud-case-folded", attack: `wrong "aud" plus our audience under "AUD"`,
			header: "Bearer " + a.IssueRaw(t, []byte(fmt.Sprintf(`{"iss":%q,"sub":"mallory","aud":"account","AUD":"temporal","exp":%d}`, aURL, hour))), reason: `claim "AUD" is not "aud"`},
		{name: "iss-long-s", attack: `"iſs" (U+017F folds to s) naming a trusted issuer`,
			header: "Bearer " + a.IssueRaw(t, []byte(fmt.Sprintf(`{"iſs":%q,"sub":"mallory","aud":"temporal","exp":%d}`, aURL, hour))), reason: `claim "iſs" is not "iss"`},
		{name: "nbf-case-folded", attack: `"nbf" in the future plus an "NBF" in the past`,
			header: "Bearer " + a.IssueRaw(t, []byte(fmt.Sprintf(`{"iss":%q,"sub":"mallory","aud":"temporal","exp":%d,"nbf":%d,"NBF":1}`, aURL, hour, hour-60))), reason: `claim "NBF" is not "nbf"`},

		// Audience.
		{name: "aud-wrong", attack: "aud of another client", header: fromA(map[string]any{"aud": "account"}), reason: `token audience ["account"] does not include any of ["temporal"]`},
		{name: "aud-array-without-ours", attack: "aud array without ours", header: fromA(map[string]any{"aud": []string{"account", "temporal-ui", "Temporal"}}), reason: `does not include any of ["temporal"]`},
		{name: "aud-missing", attack: "no aud where one is required", header: fromA(map[string]any{"aud": nil}), reason: "token has no aud claim"},
		{name: "aud-number", attack: "aud as a number", header: fromA(map[string]any{"aud": 42}), reason: "malformed registered claim"},

		// Malformed input.
		{name: "truncated-two-parts", attack: "signature segment cut off", header: "Bearer " + hdr + "." + body, reason: "compact JWS format must have three parts"},
		{name: "truncated-signature", attack: "signature cut in half", header: "Bearer " + hdr + "." + body + "." + sig[:len(sig)/2], reason: "signature does not verify"},
		{name: "empty-signature", attack: "RS256 header with an empty signature", header: "Bearer " + hdr + "." + body + ".", reason: "signature does not verify"},
		{name: "extra-segment", attack: "a fourth segment", header: "Bearer " + valid + "." + sig, reason: "compact JWS format must have three parts"},
		{name: "five-segments", attack: "JWE-shaped, five segments", header: "Bearer " + valid + ".." + sig, reason: "compact JWS format must have three parts"},
		{name: "non-base64url", attack: "'+' and '/' (standard base64) in the payload", header: "Bearer " + hdr + "." + body[:10] + "+/" + body[12:] + "." + sig, reason: fmt.Sprintf("byte '+' at offset %d is not base64url", len(hdr)+11)},
		{name: "padding", attack: "'=' padding appended to the signature", header: "Bearer " + valid + "==", reason: fmt.Sprintf("byte '=' at offset %d is not base64url", len(valid))},
		{name: "padding-payload", attack: "'=' padding on the payload segment", header: "Bearer " + hdr + "." + body + "=." + sig, reason: fmt.Sprintf("byte '=' at offset %d is not base64url", len(hdr)+1+len(body))},
		{name: "line-break", attack: "CR LF inside the payload (Go's base64 decoder would skip them)", header: "Bearer " + hdr + "." + body[:8] + "\r\n" + body[8:] + "." + sig, reason: fmt.Sprintf("byte '\\r' at offset %d is not base64url", len(hdr)+9)},
		{name: "whitespace-inside", attack: "a space between segments", header: "Bearer " + hdr + ". " + body + "." + sig, reason: fmt.Sprintf("byte ' ' at offset %d is not base64url", len(hdr)+1)},
		{name: "huge-header", attack: "64 KiB of token: rejected on size before any parsing", header: "Bearer " + strings.Repeat("A", 64<<10), reason: "more than tokens.maxTokenBytes (16384)"},
		{name: "huge-signed", attack: "genuinely signed 20 KiB token", header: fromA(map[string]any{"pad": strings.Repeat("x", 20<<10)}), reason: "more than tokens.maxTokenBytes (16384)"},
		{name: "nested-arrays", attack: "payload nested 64 arrays deep", header: "Bearer " + e.raw(t, `"sub":"m","x":`+strings.Repeat("[", 64)+strings.Repeat("]", 64)), reason: "nested deeper than 32 levels"},
		{name: "nested-objects", attack: "payload nested 64 objects deep", header: "Bearer " + e.raw(t, `"sub":"m","x":`+strings.Repeat(`{"a":`, 64)+"1"+strings.Repeat("}", 64)), reason: "nested deeper than 32 levels"},
		{name: "duplicate-permissions", attack: `two "permissions" (parsers disagree on which wins)`, header: "Bearer " + e.raw(t, `"sub":"m","permissions":["other:read"],"permissions":["default:admin"]`), reason: `duplicate key "permissions"`},
		{name: "duplicate-iss", attack: `two "iss": another issuer's, then ours`, header: "Bearer " + a.IssueRaw(t, []byte(fmt.Sprintf(`{"iss":%q,"iss":%q,"sub":"m","aud":"temporal","exp":%d}`, bURL, aURL, hour))), reason: `duplicate key "iss"`},
		{name: "duplicate-sub", attack: `two "sub"`, header: "Bearer " + e.raw(t, `"sub":"mallory","sub":"admin"`), reason: `duplicate key "sub"`},
		{name: "payload-array", attack: "payload is a JSON array", header: "Bearer " + a.IssueRaw(t, []byte(`["iss","exp"]`)), reason: "malformed token payload"},
		{name: "payload-not-json", attack: "payload is not JSON", header: "Bearer " + a.IssueRaw(t, []byte(`iss=`+aURL)), reason: "malformed token payload"},
		{name: "sub-missing", attack: "no subject", header: fromA(map[string]any{"sub": nil}), reason: `token has no "sub" claim`},

		// Claim confusion: genuine tokens whose claims must grant nothing on "default".
		{name: "permissions-object", attack: "permissions as an object", header: e.perms(t, map[string]any{"default": "admin"}), stage: atAuthorizer, reason: readNone},
		{name: "permissions-number", attack: "permissions as a number", header: e.perms(t, 42), stage: atAuthorizer, reason: readNone},
		{name: "permissions-null", attack: "permissions null", header: "Bearer " + e.raw(t, `"sub":"mallory","permissions":null`), stage: atAuthorizer, reason: readNone},
		{name: "permissions-nested-array", attack: "permissions as a nested array", header: e.perms(t, []any{[]string{"default:admin"}}), stage: atAuthorizer, reason: readNone},
		{name: "permissions-objects-in-array", attack: "array of objects", header: e.perms(t, []any{map[string]string{"namespace": "default", "role": "admin"}}), stage: atAuthorizer, reason: readNone},
		{name: "role-unknown", attack: "default:superuser", header: e.perms(t, []string{"default:superuser"}), stage: atAuthorizer, reason: readNone},
		{name: "role-ui-in-namespace", attack: "default:ui (ui exists only at system level)", header: e.perms(t, []string{"default:ui"}), stage: atAuthorizer, reason: readNone},
		{name: "role-trailing-space", attack: `"default:admin " in an array`, header: e.perms(t, []string{"default:admin "}), stage: atAuthorizer, reason: readNone},
		{name: "two-colons", attack: "default:read:admin", header: e.perms(t, []string{"default:read:admin"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-case", attack: "DEFAULT:admin (namespaces are case-sensitive)", header: e.perms(t, []string{"DEFAULT:admin"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-leading-space", attack: `" default:read" in an array`, header: e.perms(t, []string{" default:read"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-trailing-space", attack: `"default :read"`, header: e.perms(t, []string{"default :read"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-tab", attack: `"default\t:read"`, header: e.perms(t, []string{"default\t:read"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-cyrillic", attack: `"dеfault:admin" with a Cyrillic е`, header: e.perms(t, []string{"d\u0435fault:admin"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-zero-width", attack: "zero-width space inside default", header: e.perms(t, []string{"de\u200bfault:admin"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-nul", attack: "NUL after default", header: e.perms(t, []string{"default\x00:admin"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-star", attack: "*:admin from a token (never a pattern)", header: e.perms(t, []string{"*:admin"}), stage: atAuthorizer, reason: readNone},
		{name: "namespace-glob", attack: "def*:admin from a token", header: e.perms(t, []string{"def*:admin", "?efault:admin", "[d]efault:admin"}), stage: atAuthorizer, reason: readNone},
		{name: "system-title-case", attack: "Temporal-System:admin", header: e.perms(t, []string{"Temporal-System:admin"}), stage: atAuthorizer, api: workflowAPI + "RegisterNamespace", reason: noSystem},
		{name: "system-upper-case", attack: "TEMPORAL-SYSTEM:admin", header: e.perms(t, []string{"TEMPORAL-SYSTEM:admin"}), stage: atAuthorizer, api: workflowAPI + "RegisterNamespace", reason: noSystem},
		{name: "system-space", attack: `"temporal-system :admin"`, header: e.perms(t, []string{"temporal-system :admin"}), stage: atAuthorizer, api: workflowAPI + "RegisterNamespace", reason: noSystem},
		{name: "system-underscore", attack: "temporal_system:admin", header: e.perms(t, []string{"temporal_system:admin"}), stage: atAuthorizer, api: workflowAPI + "RegisterNamespace", reason: noSystem},
		{name: "system-admin-api", attack: "Temporal-System:ADMIN calling an AdminService method", header: e.perms(t, []string{"Temporal-System:ADMIN"}), stage: atAuthorizer,
			api: adminAPI + "DescribeCluster", namespace: "-", reason: "requires temporal-system:admin, has no system role"},

		// Header confusion.
		{name: "bearer-no-token", attack: `"Bearer" alone`, header: "Bearer", reason: `"Bearer" carries no token`},
		{name: "bearer-spaces", attack: `"Bearer" and spaces`, header: "Bearer   ", reason: `"Bearer" carries no token`},
		{name: "no-scheme", attack: "the token without Bearer", header: valid, reason: `authorization header must be "Bearer <token>"`},
		{name: "basic-scheme", attack: "Basic credentials", header: "Basic bWFsbG9yeTpzZWNyZXQ=", reason: `authorization header must be "Bearer <token>"`},
		{name: "tab-separator", attack: "Bearer<TAB>token", header: "Bearer\t" + valid, reason: `authorization header must be "Bearer <token>"`},
		{name: "two-values-joined", attack: "two Authorization values joined with a comma", header: "Bearer " + valid + ", Bearer " + valid, reason: fmt.Sprintf("byte ',' at offset %d is not base64url", len(valid))},
		{name: "token-in-extras-only", attack: "a valid token only in the extras header", header: "", extra: "Bearer " + valid, reason: "no bearer token: the authorization header is empty"},
	}
}

// hs signs an HMAC token over issuer A's claims, as an attacker holding secret would.
func hs(t *testing.T, alg jose.SignatureAlgorithm, secret []byte, iss string, exp int64) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: secret},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", testissuer.KidRSA))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(fmt.Sprintf(`{"iss":%q,"sub":"mallory","aud":"temporal","exp":%d,"permissions":["default:admin"]}`, iss, exp)))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAttackCorpus(t *testing.T) {
	e := newCorpusEnv(t)
	corpus := attackCorpus(t, e)
	if len(corpus) < 40 {
		t.Fatalf("corpus has %d cases, want at least 40", len(corpus))
	}
	seen := map[string]bool{}
	for _, tc := range corpus {
		if seen[tc.name] || seen["h:"+tc.header+tc.extra] {
			t.Fatalf("case %s is not distinct", tc.name)
		}
		seen[tc.name], seen["h:"+tc.header+tc.extra] = true, true
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic: %v", p)
				}
			}()
			svc := e.svc
			if tc.restricted {
				svc = e.restricted
			}
			claims, err := svc.ClaimMapper().GetClaims(&authorization.AuthInfo{AuthToken: tc.header, ExtraData: tc.extra})
			if tc.stage == atToken {
				if err == nil {
					t.Fatalf("token accepted (claims %+v); want it refused: %s", claims, tc.reason)
				}
				if !strings.Contains(err.Error(), tc.reason) {
					t.Fatalf("refused for another reason:\n got: %v\nwant: …%s…", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetClaims refused a genuine token (the authorizer must be what denies it): %v", err)
			}
			api, ns := cmpOr(tc.api, workflowAPI+"DescribeNamespace"), cmpOr(tc.namespace, "default")
			if ns == "-" {
				ns = ""
			}
			if ns != "" && claims.Namespaces[ns] != 0 {
				t.Fatalf("claims grant %v on %q: %+v", claims.Namespaces[ns], ns, claims.Namespaces)
			}
			if claims.System != 0 {
				t.Fatalf("claims grant system role %v", claims.System)
			}
			res, err := svc.Authorizer().Authorize(context.Background(), claims, &authorization.CallTarget{APIName: api, Namespace: ns})
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if res.Decision != authorization.DecisionDeny {
				t.Fatalf("allowed %s in %q", api, ns)
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("denied for another reason:\n got: %s\nwant: …%s…", res.Reason, tc.reason)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestClaimConfusionDocumentedGrants pins what odd-looking but legitimate values DO
// grant, as README documents and upstream does: role words are case-insensitive,
// namespaces are case-sensitive, temporal-system only in exactly that spelling.
func TestClaimConfusionDocumentedGrants(t *testing.T) {
	e := newCorpusEnv(t)
	for _, tc := range []struct {
		value      string
		namespaces map[string]authorization.Role
		system     authorization.Role
	}{
		{"default:WRITE", map[string]authorization.Role{"default": authorization.RoleWriter}, 0},
		{"default:Read", map[string]authorization.Role{"default": authorization.RoleReader}, 0},
		{"temporal-system:Admin", nil, authorization.RoleAdmin},
		{"Temporal-System:admin", map[string]authorization.Role{"Temporal-System": authorization.RoleAdmin}, 0},
		{"d\u0435fault:admin", map[string]authorization.Role{"d\u0435fault": authorization.RoleAdmin}, 0},
	} {
		c, err := e.svc.MapToken(e.perms(t, []string{tc.value}))
		if err != nil {
			t.Fatalf("%q: %v", tc.value, err)
		}
		if fmt.Sprint(c.Namespaces) != fmt.Sprint(tc.namespaces) || c.System != tc.system {
			t.Errorf("%q grants namespaces %v system %v; want %v system %v", tc.value, c.Namespaces, c.System, tc.namespaces, tc.system)
		}
	}
}

// TestHeaderConfusionThroughInterceptor sends the header-confusion cases through
// Temporal's own authorization interceptor, which is what reads gRPC metadata.
func TestHeaderConfusionThroughInterceptor(t *testing.T) {
	e := newCorpusEnv(t)
	interceptor := authorization.NewInterceptor(
		e.svc.ClaimMapper(), e.svc.Authorizer(), metrics.NoopMetricsHandler, log.NewNoopLogger(),
		existingNamespaces{}, nil, "", "",
		dynamicconfig.GetBoolPropertyFn(false), dynamicconfig.GetBoolPropertyFn(false),
		dynamicconfig.GetBoolPropertyFnFilteredByNamespace(false), dynamicconfig.GetBoolPropertyFn(false),
	)
	admin := "Bearer " + e.a.Issue(t, e.claims(map[string]any{"permissions": []string{"default:admin"}}))
	foreign := "Bearer " + e.a.Issue(t, e.claims(map[string]any{"permissions": []string{"other:admin"}}))
	call := func(md metadata.MD) error {
		ctx := metadata.NewIncomingContext(context.Background(), md)
		_, err := interceptor.Intercept(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"},
			&grpc.UnaryServerInfo{FullMethod: workflowAPI + "DescribeNamespace"},
			func(context.Context, any) (any, error) { return &workflowservice.DescribeNamespaceResponse{}, nil })
		return err
	}
	if err := call(metadata.Pairs("authorization", admin)); err != nil {
		t.Fatalf("control: default:admin denied: %v", err)
	}
	// Temporal answers PermissionDenied either way: with our Result.Reason when the
	// authorizer denied, with no reason when the claim mapper refused the token.
	for _, tc := range []struct {
		name   string
		md     metadata.MD
		reason string // "" means the claim mapper refused the token
	}{
		{"two values, foreign first: only the first is read", metadata.Pairs("authorization", foreign, "authorization", admin), "requires read or worker, has none"},
		{"two values, garbage first", metadata.Pairs("authorization", "Bearer x", "authorization", admin), ""},
		{"token in the extras header only", metadata.Pairs("authorization-extras", admin), "no token: DescribeNamespace requires authentication"},
		{"Bearer without token", metadata.Pairs("authorization", "Bearer "), ""},
	} {
		err := call(tc.md)
		var denied *serviceerror.PermissionDenied
		if !errors.As(err, &denied) || denied.Reason != tc.reason && (tc.reason == "" || !strings.Contains(denied.Reason, tc.reason)) {
			t.Errorf("%s: err = %v (%#v); want PermissionDenied with reason %q", tc.name, err, err, tc.reason)
		}
	}
}

type existingNamespaces struct{}

func (existingNamespaces) Exists(namespace.Name) error { return nil }

// TestAttackCorpusIsDocumented keeps docs/security.md's corpus table in step with the code.
func TestAttackCorpusIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatalf("docs/security.md: %v", err)
	}
	e := newCorpusEnv(t)
	for _, tc := range attackCorpus(t, e) {
		if !strings.Contains(string(doc), "| `"+tc.name+"` |") {
			t.Errorf("docs/security.md has no corpus row for `%s` (%s)", tc.name, tc.attack)
		}
	}
}
