package authz

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"golang.org/x/sync/singleflight"
)

// keySet holds one issuer's signing keys and keeps them fresh: a scheduled refresh
// every keys.refreshInterval (retried with backoff while failing), plus a rate-limited
// refetch when a token names a kid we do not know (key rotation). A failed fetch never
// drops the keys we have.
type keySet struct {
	issuer string // for messages and logs
	// exactly one of these is the source
	discoveryURL, jwksURI, jwksFile string

	cfg    KeysConfig
	client *http.Client
	logger log.Logger
	now    func() time.Time

	current atomic.Pointer[keySnapshot] // nil until the first successful fetch
	lastErr atomic.Pointer[string]      // why the last fetch failed, "" after success

	fetches singleflight.Group // one fetch in flight per key set
	mu      sync.Mutex
	lastKid time.Time // when the last unknown-kid refetch started

	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
	done   chan struct{} // closed when the refresher goroutine has exited
}

// keySnapshot is an immutable set of usable signing keys.
type keySnapshot struct {
	byKid map[string]*verificationKey
	all   []*verificationKey // every usable key, for tokens without kid
}

// verificationKey is a public key from a JWKS that may verify tokens.
type verificationKey struct {
	kid        string
	alg        string // the JWK's "alg", "" when it names none
	key        crypto.PublicKey
	thumbprint string // RFC 7638 SHA-256, so a cache entry notices a kid re-used for a new key
}

// has reports whether the snapshot still holds the key (kid and key material) that
// verified a cached token.
func (s *keySnapshot) has(kid, thumbprint string) bool {
	if kid != "" {
		k := s.byKid[kid]
		return k != nil && k.thumbprint == thumbprint
	}
	for _, k := range s.all {
		if k.kid == "" && k.thumbprint == thumbprint {
			return true
		}
	}
	return false
}

// newKeySet prepares the key set of one issuer. A jwksFile is read now (an error is
// returned to stop start-up); network sources are fetched by start, in the background.
func newKeySet(is IssuerConfig, cfg KeysConfig, opts Options) (*keySet, error) {
	k := &keySet{
		issuer:   is.Issuer,
		jwksURI:  is.JWKSURI,
		jwksFile: is.JWKSFile,
		cfg:      cfg,
		client:   opts.HTTPClient,
		logger:   opts.Logger,
		now:      opts.Now,
		done:     make(chan struct{}),
	}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	switch {
	case is.DiscoveryURL != "":
		k.discoveryURL = is.DiscoveryURL
	case is.JWKSURI == "" && is.JWKSFile == "":
		k.discoveryURL = strings.TrimSuffix(is.Issuer, "/") + "/.well-known/openid-configuration"
	}
	if k.jwksFile != "" {
		if err := k.refresh(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// start launches the background refresher.
func (k *keySet) start() { go k.run() }

// stop ends the refresher and any fetch in flight, and waits for it to exit.
func (k *keySet) stop() {
	k.cancel()
	<-k.done
}

// run refreshes on schedule. While fetches fail it retries sooner, with a backoff that
// starts at one second and doubles up to refreshInterval.
func (k *keySet) run() {
	defer close(k.done)
	const firstRetry = time.Second
	delay, backoff := time.Duration(0), min(firstRetry, k.cfg.RefreshInterval)
	if k.current.Load() != nil { // jwksFile, already read
		delay = k.cfg.RefreshInterval
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-k.ctx.Done():
			return
		case <-timer.C:
		}
		if err := k.refresh(); err != nil {
			if k.ctx.Err() != nil {
				return
			}
			k.logger.Warn("authz: fetching signing keys failed; keeping the keys we have",
				tag.NewStringTag("issuer", k.issuer), tag.Error(err), tag.NewDurationTag("retry-in", backoff))
			timer.Reset(backoff)
			backoff = min(backoff*2, k.cfg.RefreshInterval)
			continue
		}
		backoff = min(firstRetry, k.cfg.RefreshInterval)
		timer.Reset(k.cfg.RefreshInterval)
	}
}

// snapshot returns the current keys, or nil before the first successful fetch.
func (k *keySet) snapshot() *keySnapshot { return k.current.Load() }

// lastError says why the most recent fetch failed ("" if it succeeded).
func (k *keySet) lastError() string {
	if p := k.lastErr.Load(); p != nil {
		return *p
	}
	return ""
}

// refetchForUnknownKid fetches the keys again because a token named a kid we do not
// have, unless such a refetch started less than minRefetchInterval ago. Concurrent
// callers share one fetch. It reports whether a fetch happened.
func (k *keySet) refetchForUnknownKid() bool {
	v, _, _ := k.fetches.Do("unknown-kid", func() (any, error) {
		k.mu.Lock()
		now := k.now()
		if !k.lastKid.IsZero() && now.Sub(k.lastKid) < k.cfg.MinRefetchInterval {
			k.mu.Unlock()
			return false, nil
		}
		k.lastKid = now
		k.mu.Unlock()
		if err := k.refresh(); err != nil {
			k.logger.Warn("authz: refetching signing keys for an unknown kid failed",
				tag.NewStringTag("issuer", k.issuer), tag.Error(err))
		}
		return true, nil
	})
	return v.(bool)
}

// refresh fetches and installs the key set; on failure the old keys stay.
func (k *keySet) refresh() error {
	_, err, _ := k.fetches.Do("fetch", func() (any, error) {
		snap, err := k.fetch()
		if err != nil {
			msg := err.Error()
			k.lastErr.Store(&msg)
			return nil, err
		}
		k.current.Store(snap)
		empty := ""
		k.lastErr.Store(&empty)
		return nil, nil
	})
	return err
}

func (k *keySet) fetch() (*keySnapshot, error) {
	if k.jwksFile != "" {
		return readJWKSFile(k.jwksFile, k.cfg.MaxResponseBytes)
	}
	jwksURI := k.jwksURI
	if k.discoveryURL != "" {
		body, err := k.get(k.discoveryURL)
		if err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, fmt.Errorf("discovery document from %s is not JSON: %v", k.discoveryURL, err)
		}
		// OpenID Connect Discovery 1.0 §4.3: the document must name the issuer we asked.
		if doc.Issuer != k.issuer {
			return nil, fmt.Errorf("discovery document from %s names issuer %q, expected %q", k.discoveryURL, doc.Issuer, k.issuer)
		}
		if err := checkHTTPURL(doc.JWKSURI); err != nil {
			return nil, fmt.Errorf("discovery document from %s: jwks_uri: %v", k.discoveryURL, err)
		}
		jwksURI = doc.JWKSURI
	}
	body, err := k.get(jwksURI)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	snap, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("JWKS from %s: %w", jwksURI, err)
	}
	return snap, nil
}

// get fetches url with the per-request timeout and size bound.
func (k *keySet) get(url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(k.ctx, k.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, k.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading body: %v", url, err)
	}
	if int64(len(body)) > k.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("GET %s: response is larger than keys.maxResponseBytes (%d)", url, k.cfg.MaxResponseBytes)
	}
	return body, nil
}

// readJWKSFile reads a key set from disk (air-gapped deployments).
// readJWKSFile reads a JWKS file with the same size bound as a fetched one. Only regular
// files are read: a FIFO or a device such as /dev/zero would block start-up or grow
// memory without end.
func readJWKSFile(path string, maxBytes int64) (*keySnapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	body, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%s: larger than keys.maxResponseBytes (%d)", path, maxBytes)
	}
	snap, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return snap, nil
}

// parseJWKS keeps the keys that can verify signatures with an allowed algorithm; keys it
// cannot use (encryption keys, symmetric keys, unknown types) are skipped, so one odd
// key does not make a provider's whole set unusable.
func parseJWKS(body []byte) (*keySnapshot, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %v", err)
	}
	snap := &keySnapshot{byKid: map[string]*verificationKey{}}
	var skipped []string
	for i, r := range raw.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(r); err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		vk, why := usableKey(jwk)
		if vk == nil {
			skipped = append(skipped, fmt.Sprintf("key %d (kid %q): %s", i, jwk.KeyID, why))
			continue
		}
		if vk.kid != "" {
			if _, dup := snap.byKid[vk.kid]; dup {
				skipped = append(skipped, fmt.Sprintf("key %d: duplicate kid %q", i, vk.kid))
				continue
			}
			snap.byKid[vk.kid] = vk
		}
		snap.all = append(snap.all, vk)
	}
	if len(snap.all) == 0 {
		if len(skipped) > 0 {
			return nil, fmt.Errorf("no usable signing keys (%s)", strings.Join(skipped, "; "))
		}
		return nil, errors.New("no usable signing keys: the key set is empty")
	}
	return snap, nil
}

func usableKey(jwk jose.JSONWebKey) (*verificationKey, string) {
	if jwk.Use != "" && jwk.Use != "sig" {
		return nil, fmt.Sprintf("use is %q, not sig", jwk.Use)
	}
	pub := jwk.Public() // drops private parts if a careless IdP published them
	if !pub.Valid() {
		return nil, "not a public RSA, EC or Ed25519 key"
	}
	if jwk.Algorithm != "" && !algorithmFitsKey(jose.SignatureAlgorithm(jwk.Algorithm), pub.Key) {
		return nil, fmt.Sprintf("alg %q is not an allowed signature algorithm for this key type", jwk.Algorithm)
	}
	switch pub.Key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, fmt.Sprintf("unsupported key type %T", pub.Key)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Sprintf("thumbprint: %v", err)
	}
	return &verificationKey{kid: jwk.KeyID, alg: jwk.Algorithm, key: pub.Key, thumbprint: string(tp)}, ""
}

// algorithmFitsKey reports whether alg is an allowed algorithm that key can verify:
// RSA for RS*/PS*, EC on the matching curve for ES*, Ed25519 for EdDSA.
func algorithmFitsKey(alg jose.SignatureAlgorithm, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return k.Curve == elliptic.P256()
		case jose.ES384:
			return k.Curve == elliptic.P384()
		case jose.ES512:
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}
