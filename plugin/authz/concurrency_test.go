package authz

// Concurrency: many goroutines mapping and authorizing a mix of valid, expired, foreign,
// forged and tampered tokens at once, through a tiny token cache and while the key set is
// being refreshed underneath, each decision checked. Run it with -race (nox does). And a
// bound: thousands of distinct tokens through a small cache keep the cache and the heap
// small.

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/server/common/authorization"
)

type mixToken struct {
	kind   string
	header string
	// refused: GetClaims must fail with this in the error. Otherwise the token maps and
	// DescribeNamespace in "default" must be allowed exactly when allowDefault.
	refused      string
	allowDefault bool
}

func TestConcurrentTokenMix(t *testing.T) {
	trusted, second, stranger := testissuer.New(t), testissuer.New(t), testissuer.New(t)
	cfg := &Config{
		Issuers: []IssuerConfig{{Issuer: trusted.URL()}, {Issuer: second.URL()}},
		// Refreshes every 20ms swap the key snapshot while tokens are being verified.
		Keys:   KeysConfig{RefreshInterval: 20 * time.Millisecond, MinRefetchInterval: 10 * time.Millisecond},
		Tokens: TokensConfig{CacheSize: 8}, // far fewer than the tokens: constant eviction
	}
	m := startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	a, err := newAuthorizer(cfg, Options{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}

	issue := func(iss *testissuer.Issuer, kid string, claims map[string]any) string {
		claims["jti"] = fmt.Sprint(rand.Uint64())
		return "Bearer " + iss.Issue(t, claims, testissuer.WithKey(kid))
	}
	var mix []mixToken
	for i := range 6 {
		kid := []string{testissuer.KidRSA, testissuer.KidEC, testissuer.KidEd25519}[i%3]
		sub := fmt.Sprintf("user-%d", i)
		valid := issue(trusted, kid, map[string]any{"sub": sub, "permissions": []string{"default:read"}})
		parts := strings.Split(valid, ".")
		mix = append(mix,
			mixToken{kind: "valid default:read", header: valid, allowDefault: true},
			mixToken{kind: "valid other:write", header: issue(trusted, kid, map[string]any{"sub": sub, "permissions": []string{"other:write"}})},
			mixToken{kind: "second issuer, system admin", header: issue(second, kid, map[string]any{"sub": sub, "permissions": []string{"temporal-system:admin"}}), allowDefault: true},
			mixToken{kind: "expired", header: issue(trusted, kid, map[string]any{"sub": sub, "permissions": []string{"default:admin"},
				"exp": time.Now().Add(-time.Hour).Unix()}), refused: "token expired at"},
			mixToken{kind: "foreign issuer", header: issue(stranger, kid, map[string]any{"sub": sub, "permissions": []string{"default:admin"}}),
				refused: "is not trusted"},
			mixToken{kind: "forged: stranger's key, trusted iss and kid", header: issue(stranger, kid, map[string]any{"iss": trusted.URL(), "sub": sub,
				"permissions": []string{"default:admin"}}), refused: "signature does not verify"},
			mixToken{kind: "tampered payload", header: parts[0] + "." + tamperedPayload(t, valid) + "." + parts[2], refused: "signature does not verify"},
		)
	}

	const goroutines, perGoroutine = 64, 150
	target := &authorization.CallTarget{APIName: "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace", Namespace: "default"}
	var wrong atomic.Int64
	var report sync.Once
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range perGoroutine {
				tok := mix[r.IntN(len(mix))]
				bad := checkMixDecision(m, a, target, tok)
				if bad != "" {
					wrong.Add(1)
					report.Do(func() { t.Errorf("%s: %s", tok.kind, bad) })
				}
			}
		}()
	}
	wg.Wait()
	if n := wrong.Load(); n != 0 {
		t.Fatalf("%d of %d decisions wrong", n, goroutines*perGoroutine)
	}
}

func checkMixDecision(m *claimMapper, a *authorizer, target *authorization.CallTarget, tok mixToken) string {
	claims, err := m.GetClaims(&authorization.AuthInfo{AuthToken: tok.header})
	if tok.refused != "" {
		if err == nil || !strings.Contains(err.Error(), tok.refused) {
			return fmt.Sprintf("GetClaims err = %v, want %q", err, tok.refused)
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("valid token refused: %v", err)
	}
	res, err := a.Authorize(context.Background(), claims, target)
	if err != nil {
		return fmt.Sprintf("Authorize: %v", err)
	}
	if got := res.Decision == authorization.DecisionAllow; got != tok.allowDefault {
		return fmt.Sprintf("DescribeNamespace(default) allowed=%v, want %v (%s)", got, tok.allowDefault, res.Reason)
	}
	return ""
}

// tamperedPayload re-encodes token's payload with default:read widened to default:admin.
func tamperedPayload(t *testing.T, header string) string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(header, "Bearer "), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	widened := strings.Replace(string(payload), "default:read", "default:admin", 1)
	if widened == string(payload) {
		t.Fatal("nothing to tamper with")
	}
	return base64.RawURLEncoding.EncodeToString([]byte(widened))
}

// Thousands of distinct tokens through a small cache: the cache never holds more than its
// size, and the live heap does not grow with the number of tokens seen.
func TestTokenCacheBoundedUnderDistinctTokens(t *testing.T) {
	const tokens, cacheSize = 5000, 100
	iss := testissuer.New(t)
	m := startMapper(t, &Config{Issuers: []IssuerConfig{{Issuer: iss.URL()}}, Tokens: TokensConfig{CacheSize: cacheSize}}, Options{})
	waitForKeys(t, m)

	mapOne := func(i int) {
		// Ed25519 signs and verifies fast, so 5000 tokens take about a second.
		tok := iss.Issue(t, map[string]any{"sub": fmt.Sprintf("user-%d", i), "permissions": []string{"default:read"}},
			testissuer.WithKey(testissuer.KidEd25519))
		if _, err := m.GetClaims(bearer(tok)); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	for i := range cacheSize { // warm up: the cache full, every allocation path taken
		mapOne(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	maxLen := 0
	for i := cacheSize; i < tokens; i++ {
		mapOne(i)
		maxLen = max(maxLen, m.cache.entries.Len())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d distinct tokens, cache size %d: largest cache length %d, live heap %+d KiB", tokens, cacheSize, maxLen, growth>>10)
	if maxLen > cacheSize {
		t.Fatalf("cache held %d entries, more than its size %d", maxLen, cacheSize)
	}
	// A full cache of 100 entries is tens of KiB; 4 MiB would mean per-token growth.
	if growth > 4<<20 {
		t.Fatalf("live heap grew by %d KiB over %d distinct tokens", growth>>10, tokens-cacheSize)
	}
}
