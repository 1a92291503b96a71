package authz

import (
	"crypto/sha256"
	"time"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/metrics"
)

// Counter names of the verified-token cache.
const (
	metricCacheHits   = "authz_token_cache_hits"
	metricCacheMisses = "authz_token_cache_misses"
)

// tokenCache remembers recently verified tokens so that a client sending the same token
// on every call pays for signature verification once. Entries are keyed by the token's
// SHA-256 (the token itself is never stored) and are only used while the token's time
// window holds and the key that verified it is still in its issuer's key set.
//
// The cached *Claims is shared by every request bearing that token: it must never be
// mutated (Temporal's interceptor and our authorizer only read it).
type tokenCache struct {
	entries *lru.Cache[[sha256.Size]byte, *cacheEntry]
	leeway  time.Duration
	hits    metrics.CounterIface
	misses  metrics.CounterIface
}

type cacheEntry struct {
	claims     *authorization.Claims
	exp, nbf   time.Time // nbf zero when absent
	issuer     *trustedIssuer
	kid        string
	thumbprint string
}

// newTokenCache returns nil (no caching) when size is negative.
func newTokenCache(size int, leeway time.Duration, mh metrics.Handler) *tokenCache {
	if size < 0 {
		return nil
	}
	entries, err := lru.New[[sha256.Size]byte, *cacheEntry](size)
	if err != nil { // only for size <= 0, which Validate rules out
		return nil
	}
	return &tokenCache{
		entries: entries,
		leeway:  leeway,
		hits:    mh.Counter(metricCacheHits),
		misses:  mh.Counter(metricCacheMisses),
	}
}

// get returns the cached claims for token, or nil.
func (c *tokenCache) get(token string, now time.Time) *authorization.Claims {
	if c == nil {
		return nil
	}
	key := tokenKey(token)
	e, ok := c.entries.Get(key)
	if ok && !c.usable(e, now) {
		c.entries.Remove(key)
		ok = false
	}
	if !ok {
		c.misses.Record(1)
		return nil
	}
	c.hits.Record(1)
	return e.claims
}

func (c *tokenCache) usable(e *cacheEntry, now time.Time) bool {
	if !now.Before(e.exp.Add(c.leeway)) {
		return false
	}
	if !e.nbf.IsZero() && now.Before(e.nbf.Add(-c.leeway)) {
		return false
	}
	snap := e.issuer.keys.snapshot()
	return snap != nil && snap.has(e.kid, e.thumbprint)
}

func (c *tokenCache) put(token string, vt *verifiedToken, claims *authorization.Claims) {
	if c == nil {
		return
	}
	c.entries.Add(tokenKey(token), &cacheEntry{
		claims: claims, exp: vt.exp, nbf: vt.nbf,
		issuer: vt.issuer, kid: vt.kid, thumbprint: vt.thumbprint,
	})
}

// tokenKey hashes the token without copying it: sha256.Sum256 only reads its input, so
// viewing the string's bytes in place is safe and keeps a cache hit allocation-free.
func tokenKey(token string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}
