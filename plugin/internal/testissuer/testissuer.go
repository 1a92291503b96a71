// Package testissuer is a small OpenID Connect issuer for tests: an httptest server on
// 127.0.0.1 that serves a discovery document and a JWKS, and mints signed JWTs with
// its keys. It is a fixture, not a mock: tokens are real JWS objects verified with the
// published keys, and the JWKS is fetched over real HTTP.
//
// Typical use:
//
//	iss := testissuer.New(t)                  // keys "rsa-1" (RS256), "ec-1" (ES256), "ed-1" (EdDSA)
//	tok := iss.Issue(t, map[string]any{"sub": "alice", "permissions": []string{"default:read"}})
//	iss.RemoveKey("rsa-1")                    // next JWKS fetch no longer lists it
//	iss.SetFault(testissuer.FaultStatus500)   // JWKS requests now fail
//	n := iss.JWKSFetches()                    // how often /jwks was requested
//
// Issue fills in iss (the issuer URL), iat (now) and exp (now + 1h) unless the claims
// set them; a claim set to nil is left out of the token (e.g. "exp": nil).
package testissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key IDs of the keys every new Issuer starts with.
const (
	KidRSA     = "rsa-1" // RSA 2048, signs RS256 by default
	KidEC      = "ec-1"  // EC P-256, signs ES256
	KidEd25519 = "ed-1"  // Ed25519, signs EdDSA
)

// KeyType selects the kind of key AddKey generates.
type KeyType int

const (
	RSA     KeyType = iota // RSA 2048, RS256
	ECP256                 // ES256
	ECP384                 // ES384
	ECP521                 // ES512
	Ed25519                // EdDSA
)

// Fault makes the JWKS endpoint misbehave, for fault-tolerance tests. The discovery
// document is unaffected unless the fault says otherwise.
type Fault int

const (
	FaultNone      Fault = iota
	FaultDown            // the connection is closed without a response (discovery too)
	FaultStatus500       // HTTP 500
	FaultGarbage         // HTTP 200 with a body that is not JSON
	FaultHuge            // HTTP 200 with a 4 MiB body
	FaultHang            // no response until the client gives up or the server closes
)

type signingKey struct {
	kid       string
	alg       jose.SignatureAlgorithm // signs with this by default
	published string                  // the JWK's "alg" ("" leaves it out)
	private   crypto.Signer
}

// Issuer is a running test issuer. All methods are safe for concurrent use.
type Issuer struct {
	server *httptest.Server
	done   chan struct{} // closed by Close, releases hanging handlers

	mu              sync.Mutex
	keys            map[string]signingKey
	fault           Fault
	discoveryIssuer string // "" means the real URL
	jwksFetches     int
	discoveryHits   int
}

// New starts an issuer with one RSA, one EC P-256 and one Ed25519 key and stops it when
// the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{keys: map[string]signingKey{}, done: make(chan struct{})}
	for kid, kt := range map[string]KeyType{KidRSA: RSA, KidEC: ECP256, KidEd25519: Ed25519} {
		i.keys[kid] = newKey(t, kid, kt)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("/jwks", i.serveJWKS)
	i.server = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(i.Close)
	return i
}

// URL is the issuer identifier (the `iss` of its tokens), e.g. "http://127.0.0.1:43211".
func (i *Issuer) URL() string { return i.server.URL }

// JWKSURL is where the key set is served.
func (i *Issuer) JWKSURL() string { return i.server.URL + "/jwks" }

// Close stops the server. It is called automatically at the end of the test.
func (i *Issuer) Close() {
	select {
	case <-i.done:
		return
	default:
		close(i.done)
	}
	i.server.CloseClientConnections()
	i.server.Close()
}

// AddKey generates a new key under kid and publishes it with the type's default alg;
// use it to rotate keys. An existing kid is replaced.
func (i *Issuer) AddKey(t testing.TB, kid string, kt KeyType) {
	t.Helper()
	i.AddKeyAlg(t, kid, kt, "default")
}

// AddKeyAlg is AddKey with the JWK's published "alg" chosen: "" publishes none (so
// verifiers must go by key type), "default" the type's default, anything else as given
// (Issue then signs with it too, e.g. "PS256" for an RSA key).
func (i *Issuer) AddKeyAlg(t testing.TB, kid string, kt KeyType, alg string) {
	t.Helper()
	k := newKey(t, kid, kt)
	switch alg {
	case "default":
	case "":
		k.published = ""
	default:
		k.alg, k.published = jose.SignatureAlgorithm(alg), alg
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[kid] = k
}

// RemoveKey stops publishing kid. Issue can no longer sign with it.
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.keys, kid)
}

// SetFault changes how the JWKS endpoint behaves from the next request on.
func (i *Issuer) SetFault(f Fault) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.fault = f
}

// SetDiscoveryIssuer makes the discovery document claim another issuer (to test that
// a mismatch is refused). "" restores the real URL.
func (i *Issuer) SetDiscoveryIssuer(iss string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.discoveryIssuer = iss
}

// JWKSFetches counts requests to the JWKS endpoint, failed ones included.
func (i *Issuer) JWKSFetches() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.jwksFetches
}

// DiscoveryFetches counts requests to the discovery document.
func (i *Issuer) DiscoveryFetches() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.discoveryHits
}

// JWKS returns the public key set as currently published, e.g. to write a jwksFile.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.jwksLocked()
}

func (i *Issuer) jwksLocked() []byte {
	set := jose.JSONWebKeySet{}
	kids := make([]string, 0, len(i.keys))
	for kid := range i.keys {
		kids = append(kids, kid)
	}
	sort.Strings(kids)
	for _, kid := range kids {
		k := i.keys[kid]
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: k.private.Public(), KeyID: kid, Algorithm: k.published, Use: "sig",
		})
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err) // public keys always marshal
	}
	return b
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	i.discoveryHits++
	fault, iss := i.fault, i.discoveryIssuer
	i.mu.Unlock()
	if fault == FaultDown {
		hangUp(w)
		return
	}
	if iss == "" {
		iss = i.URL()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              i.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	i.jwksFetches++
	fault := i.fault
	body := i.jwksLocked()
	i.mu.Unlock()
	switch fault {
	case FaultDown:
		hangUp(w)
	case FaultStatus500:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case FaultGarbage:
		_, _ = w.Write([]byte("<html>this is not a key set</html>"))
	case FaultHuge:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 4<<20) + `"}`))
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-i.done:
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

// hangUp closes the connection without writing a response.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Option changes how Issue builds a token.
type Option func(*issueOptions)

type issueOptions struct {
	kid        string // signing key
	alg        jose.SignatureAlgorithm
	header     map[string]any // extra or overriding protected header fields
	unsigned   bool
	hmacSecret []byte
}

// WithKey signs with the key kid (default KidRSA); the kid header names it.
func WithKey(kid string) Option { return func(o *issueOptions) { o.kid = kid } }

// WithAlg signs with alg instead of the key's default (e.g. PS256 or RS512 with an RSA key).
func WithAlg(alg string) Option {
	return func(o *issueOptions) { o.alg = jose.SignatureAlgorithm(alg) }
}

// WithHeader sets a protected header field, overriding what Issue would write.
// WithHeader("kid", nil) leaves the kid header out.
func WithHeader(name string, value any) Option {
	return func(o *issueOptions) {
		if o.header == nil {
			o.header = map[string]any{}
		}
		o.header[name] = value
	}
}

// Unsigned produces an `alg: none` token with an empty signature.
func Unsigned() Option { return func(o *issueOptions) { o.unsigned = true } }

// WithHMAC signs HS256 with secret (at least 32 bytes), as a misconfigured IdP would.
func WithHMAC(secret []byte) Option { return func(o *issueOptions) { o.hmacSecret = secret } }

// Issue mints a compact JWS over claims (see the package doc for the defaults added).
func (i *Issuer) Issue(t testing.TB, claims map[string]any, opts ...Option) string {
	t.Helper()
	full := map[string]any{
		"iss": i.URL(),
		"iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Hour).Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(full, k)
			continue
		}
		full[k] = v
	}
	payload, err := json.Marshal(full)
	if err != nil {
		t.Fatalf("testissuer: marshal claims: %v", err)
	}
	return i.IssueRaw(t, payload, opts...)
}

// IssueRaw signs payload exactly as given (for malformed or duplicate-key payloads).
func (i *Issuer) IssueRaw(t testing.TB, payload []byte, opts ...Option) string {
	t.Helper()
	o := issueOptions{kid: KidRSA}
	for _, opt := range opts {
		opt(&o)
	}
	if o.unsigned {
		header := map[string]any{"alg": "none", "typ": "JWT"}
		for k, v := range o.header {
			header[k] = v
		}
		h, err := json.Marshal(header)
		if err != nil {
			t.Fatalf("testissuer: marshal header: %v", err)
		}
		return b64(h) + "." + b64(payload) + "."
	}

	var sk jose.SigningKey
	kid := o.kid
	if o.hmacSecret != nil {
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: o.hmacSecret}
	} else {
		i.mu.Lock()
		k, ok := i.keys[o.kid]
		i.mu.Unlock()
		if !ok {
			t.Fatalf("testissuer: no key %q", o.kid)
		}
		alg := k.alg
		if o.alg != "" {
			alg = o.alg
		}
		sk = jose.SigningKey{Algorithm: alg, Key: k.private}
	}
	so := &jose.SignerOptions{}
	so.WithType("JWT")
	so.WithHeader("kid", kid)
	for name, v := range o.header {
		if v == nil {
			delete(so.ExtraHeaders, jose.HeaderKey(name))
			continue
		}
		so.WithHeader(jose.HeaderKey(name), v)
	}
	signer, err := jose.NewSigner(sk, so)
	if err != nil {
		t.Fatalf("testissuer: signer: %v", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("testissuer: sign: %v", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatalf("testissuer: serialize: %v", err)
	}
	return tok
}

func newKey(t testing.TB, kid string, kt KeyType) signingKey {
	t.Helper()
	var (
		priv crypto.Signer
		alg  jose.SignatureAlgorithm
		err  error
	)
	switch kt {
	case RSA:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
		alg = jose.RS256
	case ECP256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		alg = jose.ES256
	case ECP384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		alg = jose.ES384
	case ECP521:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		alg = jose.ES512
	case Ed25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
		alg = jose.EdDSA
	default:
		t.Fatalf("testissuer: unknown key type %d", kt)
	}
	if err != nil {
		t.Fatalf("testissuer: generate key: %v", err)
	}
	return signingKey{kid: kid, alg: alg, published: string(alg), private: priv}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
