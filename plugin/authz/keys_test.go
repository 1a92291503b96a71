package authz

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
)

// fastKeys are key settings that make refresh tests quick.
func fastKeys(cfg *Config, refresh, minRefetch time.Duration) *Config {
	cfg.Keys = KeysConfig{RefreshInterval: refresh, MinRefetchInterval: minRefetch, FetchTimeout: time.Second}
	cfg.Tokens.CacheSize = -1
	return cfg
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func claimsErr(m *claimMapper, tok string) error {
	_, err := m.GetClaims(bearer(tok))
	return err
}

// A rotated-in key is fetched on first sight of its kid, once per minRefetchInterval.
func TestUnknownKidRefetch(t *testing.T) {
	iss := testissuer.New(t)
	m := startMapper(t, fastKeys(issuerConfig(iss), time.Hour, time.Hour), Options{})
	waitForKeys(t, m)
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("fetches after start = %d", n)
	}

	iss.AddKey(t, "rotated", testissuer.RSA)
	tok := iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey("rotated"))
	if err := claimsErr(m, tok); err != nil {
		t.Fatalf("token with rotated-in key denied: %v", err)
	}
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("fetches after unknown kid = %d, want 2", n)
	}

	// Within minRefetchInterval an unknown kid is denied without fetching.
	iss.AddKey(t, "rotated-2", testissuer.ECP256)
	tok2 := iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey("rotated-2"))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := claimsErr(m, tok2); err == nil || !strings.Contains(err.Error(), `unknown kid "rotated-2"`) {
				t.Errorf("err = %v", err)
			}
		}()
	}
	wg.Wait()
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("fetches after rate-limited kids = %d, want 2", n)
	}
}

// Concurrent requests with the same new kid share one fetch.
func TestUnknownKidConcurrentCallersShareOneFetch(t *testing.T) {
	iss := testissuer.New(t)
	clock := &testClock{t: time.Now()}
	m := startMapper(t, fastKeys(issuerConfig(iss), time.Hour, time.Minute), Options{Now: clock.now})
	waitForKeys(t, m)
	iss.AddKey(t, "new", testissuer.ECP256)
	tok := iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey("new"))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = claimsErr(m, tok)
		}()
	}
	wg.Wait()
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (start + one shared refetch)", n)
	}
	if err := claimsErr(m, tok); err != nil {
		t.Fatal(err)
	}
	// After minRefetchInterval a new unknown kid may fetch again.
	clock.t = clock.t.Add(2 * time.Minute)
	_ = claimsErr(m, iss.Issue(t, map[string]any{"sub": "a", "exp": clock.t.Add(time.Hour).Unix()}, testissuer.WithHeader("kid", "never")))
	if n := iss.JWKSFetches(); n != 3 {
		t.Fatalf("fetches after the interval = %d, want 3", n)
	}
}

// Failed refreshes keep the keys we have; a key removed from the JWKS stops verifying
// after the refresh that removes it.
func TestRefreshKeepsOldKeysOnFailureAndDropsRemovedKeys(t *testing.T) {
	iss := testissuer.New(t)
	cfg := fastKeys(issuerConfig(iss), 20*time.Millisecond, time.Hour)
	cfg.Keys.FetchTimeout = 100 * time.Millisecond
	cfg.Keys.MaxResponseBytes = 64 << 10
	m := startMapper(t, cfg, Options{})
	waitForKeys(t, m)
	tok := iss.Issue(t, map[string]any{"sub": "a"})
	ecTok := iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey(testissuer.KidEC))
	requests := func() int { return iss.JWKSFetches() + iss.DiscoveryFetches() }

	for _, tc := range []struct {
		fault testissuer.Fault
		why   string
	}{
		{testissuer.FaultStatus500, "HTTP 500"},
		{testissuer.FaultGarbage, "not a JSON Web Key Set"},
		{testissuer.FaultHuge, "larger than keys.maxResponseBytes (65536)"},
		{testissuer.FaultHang, "context deadline exceeded"},
		{testissuer.FaultDown, "discovery: "},
	} {
		before := requests()
		iss.SetFault(tc.fault)
		eventually(t, "a failed refresh is recorded: "+tc.why, func() bool {
			return requests() > before+2 && strings.Contains(m.keySets[0].lastError(), tc.why)
		})
		if err := claimsErr(m, tok); err != nil {
			t.Fatalf("fault %s: old key no longer verifies: %v", tc.why, err)
		}
	}
	iss.SetFault(testissuer.FaultNone)
	iss.RemoveKey(testissuer.KidEC)
	eventually(t, "the removed key stops verifying", func() bool {
		err := claimsErr(m, ecTok)
		return err != nil && strings.Contains(err.Error(), `unknown kid "ec-1"`)
	})
	if err := claimsErr(m, tok); err != nil {
		t.Fatalf("remaining key: %v", err)
	}
}

// The IdP being down at start does not block start-up; tokens are denied until the
// background retries reach it.
func TestIdPDownAtStartRecovers(t *testing.T) {
	iss := testissuer.New(t)
	iss.SetFault(testissuer.FaultStatus500)
	cfg := fastKeys(issuerConfig(iss), 200*time.Millisecond, time.Hour)
	start := time.Now()
	m := startMapper(t, cfg, Options{})
	if time.Since(start) > 100*time.Millisecond {
		t.Fatalf("start-up waited %v for the IdP", time.Since(start))
	}
	tok := iss.Issue(t, map[string]any{"sub": "a"})
	eventually(t, "the first fetch failed", func() bool { return iss.JWKSFetches() >= 1 && m.keySets[0].lastError() != "" })
	err := claimsErr(m, tok)
	if err == nil || !strings.Contains(err.Error(), "no signing keys yet for issuer") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("err = %v", err)
	}
	eventually(t, "retries happen", func() bool { return iss.JWKSFetches() >= 3 })
	iss.SetFault(testissuer.FaultNone)
	eventually(t, "tokens verify after recovery", func() bool { return claimsErr(m, tok) == nil })
}

// The IdP completely unreachable (connection refused) at start.
func TestIdPUnreachableAtStart(t *testing.T) {
	iss := testissuer.New(t)
	url := iss.URL()
	iss.Close()
	cfg := fastKeys(&Config{Issuers: []IssuerConfig{{Issuer: url}}}, time.Hour, time.Hour)
	m := startMapper(t, cfg, Options{})
	eventually(t, "the fetch failed", func() bool { return m.keySets[0].lastError() != "" })
	if !strings.Contains(m.keySets[0].lastError(), "connection refused") {
		t.Fatalf("lastError = %q", m.keySets[0].lastError())
	}
}

func TestDiscovery(t *testing.T) {
	iss := testissuer.New(t)
	t.Run("explicit discoveryURL and jwksURI", func(t *testing.T) {
		cfg := &Config{Issuers: []IssuerConfig{{Issuer: iss.URL(), DiscoveryURL: iss.URL() + "/.well-known/openid-configuration"}}}
		m := startMapper(t, cfg, Options{})
		waitForKeys(t, m)
		cfg2 := &Config{Issuers: []IssuerConfig{{Issuer: iss.URL(), JWKSURI: iss.JWKSURL()}}}
		before := iss.DiscoveryFetches()
		m2 := startMapper(t, cfg2, Options{})
		waitForKeys(t, m2)
		if iss.DiscoveryFetches() != before {
			t.Fatal("jwksURI issuer fetched the discovery document")
		}
	})
	t.Run("issuer mismatch", func(t *testing.T) {
		iss.SetDiscoveryIssuer("https://evil.example.com")
		defer iss.SetDiscoveryIssuer("")
		m := startMapper(t, issuerConfig(iss), Options{})
		eventually(t, "discovery failed", func() bool { return m.keySets[0].lastError() != "" })
		want := `names issuer "https://evil.example.com", expected "` + iss.URL() + `"`
		if !strings.Contains(m.keySets[0].lastError(), want) {
			t.Fatalf("lastError = %q, want %q", m.keySets[0].lastError(), want)
		}
	})
	t.Run("discovery down", func(t *testing.T) {
		iss.SetFault(testissuer.FaultDown)
		defer iss.SetFault(testissuer.FaultNone)
		m := startMapper(t, issuerConfig(iss), Options{})
		eventually(t, "discovery failed", func() bool { return strings.HasPrefix(m.keySets[0].lastError(), "discovery: ") })
	})
}

func TestJWKSFileReloadsAndSkipsUnusableKeys(t *testing.T) {
	iss := testissuer.New(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	// An encryption key and a symmetric key beside the signing keys are skipped.
	withExtras := strings.Replace(string(iss.JWKS()), `{"keys":[`,
		`{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0","kid":"hmac"},{"kty":"RSA","use":"enc","kid":"enc","alg":"RSA-OAEP","n":"sXch","e":"AQAB"},`, 1)
	if err := os.WriteFile(path, []byte(withExtras), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fastKeys(&Config{Issuers: []IssuerConfig{{Issuer: iss.URL(), JWKSFile: path}}}, 20*time.Millisecond, time.Hour)
	m := startMapper(t, cfg, Options{})
	snap := m.keySets[0].snapshot()
	if snap == nil || len(snap.all) != 3 || snap.byKid["hmac"] != nil || snap.byKid["enc"] != nil {
		t.Fatalf("snapshot = %+v", snap)
	}
	if err := claimsErr(m, iss.Issue(t, map[string]any{"sub": "a"}, testissuer.WithKey(testissuer.KidEd25519))); err != nil {
		t.Fatal(err)
	}
	// The file is re-read on refresh; a broken file keeps the old keys.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the broken file is noticed", func() bool { return m.keySets[0].lastError() != "" })
	if err := claimsErr(m, iss.Issue(t, map[string]any{"sub": "a"})); err != nil {
		t.Fatalf("old keys dropped: %v", err)
	}
	iss.RemoveKey(testissuer.KidRSA)
	if err := os.WriteFile(path, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new file is read", func() bool { return len(m.keySets[0].snapshot().all) == 2 })
}

func TestParseJWKS(t *testing.T) {
	for body, want := range map[string]string{
		`{"keys":[]}`:                       "the key set is empty",
		`[]`:                                "not a JSON Web Key Set",
		`{"keys":[{"kty":"nope"}]}`:         "no usable signing keys (key 0:",
		`{"keys":[{"kty":"oct","k":"AA"}]}`: "not a public RSA, EC or Ed25519 key",
	} {
		_, err := parseJWKS([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", body, err, want)
		}
	}
	// A key whose alg does not fit its type, and duplicate kids.
	iss := testissuer.New(t)
	set := strings.Replace(string(iss.JWKS()), `"alg":"ES256"`, `"alg":"RS256"`, 1)
	set = strings.Replace(set, `"kid":"rsa-1"`, `"kid":"ed-1"`, 1)
	snap, err := parseJWKS([]byte(set))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.all) != 1 || snap.byKid["ed-1"] == nil || snap.byKid["ec-1"] != nil {
		t.Fatalf("kept %d keys: %v", len(snap.all), snap.byKid)
	}
}

// close stops every refresher: nothing fetches afterwards.
func TestCloseStopsRefreshing(t *testing.T) {
	iss := testissuer.New(t)
	cfg := fastKeys(issuerConfig(iss), 10*time.Millisecond, time.Hour)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := newClaimMapper(cfg, Options{HTTPClient: http.DefaultClient}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "refreshes happen", func() bool { return iss.JWKSFetches() >= 3 })
	m.close()
	n := iss.JWKSFetches()
	time.Sleep(50 * time.Millisecond)
	if iss.JWKSFetches() != n {
		t.Fatalf("fetched %d times after close", iss.JWKSFetches()-n)
	}
	m.close() // idempotent
}
