package authz

import (
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/server/common/authorization"
)

// testClock is a settable clock for opts.Now.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// issuerConfig is a minimal config trusting iss through discovery.
func issuerConfig(iss *testissuer.Issuer) *Config {
	return &Config{Issuers: []IssuerConfig{{Issuer: iss.URL()}}, source: "test.yaml"}
}

// startMapper validates cfg, starts a claim mapper and waits until every issuer whose
// keys are reachable has them.
func startMapper(t *testing.T, cfg *Config, opts Options) *claimMapper {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	m, err := newClaimMapper(cfg, opts.withDefaults())
	if err != nil {
		t.Fatalf("newClaimMapper: %v", err)
	}
	t.Cleanup(m.close)
	return m
}

// waitForKeys waits until the mapper holds keys for every issuer.
func waitForKeys(t *testing.T, m *claimMapper) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, ks := range m.keySets {
		for ks.snapshot() == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no keys for %s: %s", ks.issuer, ks.lastError())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func bearer(tok string) *authorization.AuthInfo {
	return &authorization.AuthInfo{AuthToken: "Bearer " + tok}
}
