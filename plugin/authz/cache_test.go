package authz

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/server/common/metrics/metricstest"
)

func counted(c *metricstest.Capture, name string) int {
	return len(c.Snapshot()[name])
}

func TestTokenCache(t *testing.T) {
	iss := testissuer.New(t)
	clock := &testClock{t: time.Now()}
	mh := metricstest.NewCaptureHandler()
	capture := mh.StartCapture()
	cfg := issuerConfig(iss)
	cfg.Keys = KeysConfig{RefreshInterval: time.Hour, MinRefetchInterval: time.Hour}
	cfg.Tokens.Leeway = 10 * time.Second
	m := startMapper(t, cfg, Options{Now: clock.now, MetricsHandler: mh})
	waitForKeys(t, m)

	exp := clock.t.Add(time.Minute)
	tok := iss.Issue(t, map[string]any{"sub": "alice", "exp": exp.Unix(), "permissions": []string{"default:read"}})
	first, err := m.GetClaims(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.GetClaims(bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatal("second call did not return the cached claims")
	}
	if counted(capture, metricCacheHits) != 1 || counted(capture, metricCacheMisses) != 1 {
		t.Fatalf("hits %d misses %d", counted(capture, metricCacheHits), counted(capture, metricCacheMisses))
	}

	// Just before exp+leeway the entry still serves; at exp+leeway it does not, and the
	// token is re-verified (and refused as expired).
	clock.t = exp.Add(9 * time.Second)
	if c, err := m.GetClaims(bearer(tok)); err != nil || c != first {
		t.Fatalf("within leeway: %v", err)
	}
	clock.t = exp.Add(10 * time.Second)
	if _, err := m.GetClaims(bearer(tok)); err == nil || !strings.Contains(err.Error(), "token expired at") {
		t.Fatalf("after exp+leeway: err = %v", err)
	}
}

func TestTokenCacheNotBefore(t *testing.T) {
	iss := testissuer.New(t)
	clock := &testClock{t: time.Now()}
	cfg := issuerConfig(iss)
	cfg.Tokens.Leeway = 10 * time.Second
	m := startMapper(t, cfg, Options{Now: clock.now})
	waitForKeys(t, m)
	nbf := clock.t.Add(5 * time.Second) // within leeway: accepted and cached
	tok := iss.Issue(t, map[string]any{"sub": "a", "nbf": nbf.Unix(), "iat": nil})
	if _, err := m.GetClaims(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	// The clock going back before nbf-leeway must not be answered from the cache.
	clock.t = nbf.Add(-11 * time.Second)
	if _, err := m.GetClaims(bearer(tok)); err == nil || !strings.Contains(err.Error(), "not valid before") {
		t.Fatalf("err = %v", err)
	}
}

// Removing the verifying key from the JWKS invalidates cached tokens it verified.
func TestTokenCacheKeyRemoval(t *testing.T) {
	iss := testissuer.New(t)
	cfg := issuerConfig(iss)
	cfg.Keys = KeysConfig{RefreshInterval: time.Hour, MinRefetchInterval: time.Millisecond}
	m := startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	tok := iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey(testissuer.KidEC))
	if _, err := m.GetClaims(bearer(tok)); err != nil {
		t.Fatal(err)
	}
	iss.RemoveKey(testissuer.KidEC)
	if err := m.keySets[0].refresh(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetClaims(bearer(tok)); err == nil || !strings.Contains(err.Error(), `unknown kid "ec-1"`) {
		t.Fatalf("cached token of a removed key: err = %v", err)
	}
	// A kid re-used for a new key also invalidates.
	iss.AddKey(t, "reused", testissuer.RSA)
	tok2 := iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey("reused"))
	if _, err := m.GetClaims(bearer(tok2)); err != nil {
		t.Fatal(err)
	}
	iss.AddKey(t, "reused", testissuer.RSA) // same kid, new key material
	if err := m.keySets[0].refresh(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetClaims(bearer(tok2)); err == nil || !strings.Contains(err.Error(), "signature does not verify") {
		t.Fatalf("cached token of a replaced key: err = %v", err)
	}
}

func TestTokenCacheDisabledAndBounded(t *testing.T) {
	iss := testissuer.New(t)
	mh := metricstest.NewCaptureHandler()
	capture := mh.StartCapture()
	cfg := issuerConfig(iss)
	cfg.Tokens.CacheSize = -1
	m := startMapper(t, cfg, Options{MetricsHandler: mh})
	waitForKeys(t, m)
	tok := iss.Issue(t, map[string]any{"sub": "a"})
	a, _ := m.GetClaims(bearer(tok))
	b, _ := m.GetClaims(bearer(tok))
	if a == nil || a == b || counted(capture, metricCacheHits)+counted(capture, metricCacheMisses) != 0 {
		t.Fatal("disabled cache was used")
	}

	cfg2 := issuerConfig(iss)
	cfg2.Tokens.CacheSize = 2
	m2 := startMapper(t, cfg2, Options{})
	waitForKeys(t, m2)
	for i := range 5 {
		_, _ = m2.GetClaims(bearer(iss.Issue(t, map[string]any{"sub": "a", "jti": fmt.Sprint(i)})))
	}
	if n := m2.cache.entries.Len(); n != 2 {
		t.Fatalf("cache holds %d entries, want 2", n)
	}
}

// A cache hit allocates nothing, and concurrent use is race-free (go test -race).
func TestTokenCacheHitPath(t *testing.T) {
	iss := testissuer.New(t)
	m := startMapper(t, issuerConfig(iss), Options{})
	waitForKeys(t, m)
	info := bearer(iss.Issue(t, map[string]any{"sub": "a", "permissions": "default:read"}))
	if _, err := m.GetClaims(info); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = m.GetClaims(info) }); allocs != 0 {
		t.Errorf("a cache hit allocates %v times", allocs)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := iss.Issue(t, map[string]any{"sub": "a", "jti": fmt.Sprint(i % 2)})
			for range 50 {
				if _, err := m.GetClaims(bearer(tok)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
