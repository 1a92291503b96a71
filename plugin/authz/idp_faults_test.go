package authz_test

// Identity-provider faults, against the test issuer fixture whose JWKS endpoint the tests
// break on purpose: down, HTTP 500, garbage, a 4 MiB body, hanging. Through every fault:
// tokens signed with keys we already hold keep working, and no forged token is ever
// accepted. The measured JWKS fetch counts are logged (go test -v) for docs/security.md.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hardened-temporal/temporal-image/plugin/authz"
	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
	"go.temporal.io/server/common/authorization"
)

// faultEnv is one trusted issuer under test and an attacker's issuer.
type faultEnv struct {
	iss, attacker *testissuer.Issuer
	svc           *authz.Service
}

// newFaultEnv starts a Service trusting iss with fast refresh settings. The token cache
// is off unless a test turns it on, so every check really verifies.
func newFaultEnv(t *testing.T, iss *testissuer.Issuer, keys authz.KeysConfig, cacheSize int) *faultEnv {
	t.Helper()
	cfg := &authz.Config{
		Issuers: []authz.IssuerConfig{{Issuer: iss.URL()}},
		Keys:    keys,
		Tokens:  authz.TokensConfig{CacheSize: cacheSize},
	}
	return &faultEnv{iss: iss, attacker: testissuer.New(t), svc: newService(t, cfg)}
}

// fresh mints a new token with kid (a new iat each time, so never a cache hit).
func (e *faultEnv) fresh(t *testing.T, kid string) string {
	return e.iss.Issue(t, map[string]any{"sub": "alice", "permissions": []string{"default:read"},
		"jti": fmt.Sprint(rand.Uint64())}, testissuer.WithKey(kid))
}

// forged is signed by the attacker with the trusted issuer's iss and a trusted kid.
func (e *faultEnv) forged(t *testing.T) string {
	return e.attacker.Issue(t, map[string]any{"iss": e.iss.URL(), "sub": "mallory",
		"permissions": []string{"default:admin"}, "jti": fmt.Sprint(rand.Uint64())})
}

func (e *faultEnv) mapErr(token string) error {
	_, err := e.svc.ClaimMapper().GetClaims(&authorization.AuthInfo{AuthToken: "Bearer " + token})
	return err
}

// mustRefuseForged checks that a forged token is refused right now.
func (e *faultEnv) mustRefuseForged(t *testing.T) {
	t.Helper()
	if err := e.mapErr(e.forged(t)); err == nil {
		t.Fatal("a forged token was accepted")
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: still not %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// faultCases are the ways the JWKS endpoint breaks, with what the denial then says.
var faultCases = []struct {
	name  string
	fault testissuer.Fault
	why   string // in the "no signing keys yet" denial while the fault lasts
}{
	{"down", testissuer.FaultDown, "EOF"},
	{"HTTP 500", testissuer.FaultStatus500, "HTTP 500"},
	{"garbage", testissuer.FaultGarbage, "not a JSON Web Key Set"},
	{"huge body", testissuer.FaultHuge, "larger than keys.maxResponseBytes (1048576)"},
	{"hanging", testissuer.FaultHang, "context deadline exceeded"},
}

// An IdP that is broken when the server starts: the Service starts anyway, denies every
// token saying why, and recovers by itself once the IdP answers.
func TestIdPFaultAtStartup(t *testing.T) {
	for _, fc := range faultCases {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			iss := testissuer.New(t)
			iss.SetFault(fc.fault)
			e := newFaultEnv(t, iss, authz.KeysConfig{RefreshInterval: 2 * time.Second, FetchTimeout: 300 * time.Millisecond}, -1)

			valid := e.fresh(t, testissuer.KidRSA)
			var err error
			waitUntil(t, 5*time.Second, "denied with the fetch error", func() bool {
				err = e.mapErr(valid)
				return err != nil && strings.Contains(err.Error(), fc.why)
			})
			if !strings.Contains(err.Error(), "no signing keys yet for issuer") {
				t.Fatalf("denial does not say why: %v", err)
			}
			e.mustRefuseForged(t)

			iss.SetFault(testissuer.FaultNone)
			start := time.Now()
			waitUntil(t, 6*time.Second, "accepting valid tokens after the IdP recovered", func() bool {
				return e.mapErr(e.fresh(t, testissuer.KidRSA)) == nil
			})
			t.Logf("%s at start-up: recovered %v after the IdP came back", fc.name, time.Since(start).Round(10*time.Millisecond))
			e.mustRefuseForged(t)
		})
	}
}

// An IdP that breaks while the server runs: the keys already fetched keep working through
// refreshes that fail, a new kid cannot be learnt, and forged tokens stay refused.
func TestIdPFaultLater(t *testing.T) {
	for _, fc := range faultCases {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			iss := testissuer.New(t)
			e := newFaultEnv(t, iss, authz.KeysConfig{
				RefreshInterval: 50 * time.Millisecond, MinRefetchInterval: 10 * time.Millisecond, FetchTimeout: 300 * time.Millisecond,
			}, -1)
			waitAccepted(t, e.svc, e.fresh(t, testissuer.KidRSA))

			iss.SetFault(fc.fault)
			iss.AddKey(t, "added-during-fault", testissuer.ECP256)
			// Every refresh starts with the discovery document (which FaultDown breaks too).
			before := iss.DiscoveryFetches()
			deadline := time.Now().Add(time.Second)
			checks := 0
			for time.Now().Before(deadline) || iss.DiscoveryFetches() < before+3 {
				for _, kid := range []string{testissuer.KidRSA, testissuer.KidEC, testissuer.KidEd25519} {
					if err := e.mapErr(e.fresh(t, kid)); err != nil {
						t.Fatalf("known key %s refused during the fault: %v", kid, err)
					}
				}
				if err := e.mapErr(e.fresh(t, "added-during-fault")); err == nil || !strings.Contains(err.Error(), `unknown kid "added-during-fault"`) {
					t.Fatalf("a key published during the fault: err = %v", err)
				}
				e.mustRefuseForged(t)
				checks++
				if time.Now().After(deadline.Add(5 * time.Second)) {
					t.Fatalf("only %d refresh attempts during the fault", iss.DiscoveryFetches()-before)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%s later: %d failed refreshes, %d rounds of checks, known keys kept", fc.name, iss.DiscoveryFetches()-before, checks)

			iss.SetFault(testissuer.FaultNone)
			waitUntil(t, 5*time.Second, "the key added during the fault is learnt", func() bool {
				return e.mapErr(e.fresh(t, "added-during-fault")) == nil
			})
		})
	}
}

// A hanging JWKS endpoint costs a request for an unknown kid at most keys.fetchTimeout,
// and never delays requests whose keys we hold.
func TestIdPHangBoundedByFetchTimeout(t *testing.T) {
	iss := testissuer.New(t)
	const fetchTimeout = 400 * time.Millisecond
	e := newFaultEnv(t, iss, authz.KeysConfig{RefreshInterval: time.Hour, MinRefetchInterval: time.Millisecond, FetchTimeout: fetchTimeout}, -1)
	waitAccepted(t, e.svc, e.fresh(t, testissuer.KidRSA))
	iss.SetFault(testissuer.FaultHang)
	iss.AddKey(t, "new", testissuer.RSA)
	start := time.Now()
	err := e.mapErr(e.fresh(t, "new"))
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), `unknown kid "new"`) {
		t.Fatalf("unknown kid during a hang: err = %v", err)
	}
	if took < fetchTimeout/2 || took > fetchTimeout+2*time.Second {
		t.Fatalf("unknown kid during a hang took %v; want about keys.fetchTimeout (%v)", took, fetchTimeout)
	}
	// Known keys do not wait, even while another caller's refetch hangs.
	go func() { _ = e.mapErr(e.fresh(t, "new")) }()
	time.Sleep(50 * time.Millisecond)
	start = time.Now()
	if err := e.mapErr(e.fresh(t, testissuer.KidRSA)); err != nil {
		t.Fatalf("known key during a hang: %v", err)
	}
	if d := time.Since(start); d > fetchTimeout/2 {
		t.Fatalf("a token with a known key waited %v for the hanging IdP", d)
	}
	t.Logf("hang: unknown kid denied after %v (fetchTimeout %v)", took.Round(time.Millisecond), fetchTimeout)
}

// Rotation: a new key is accepted on its first token (one refetch), a removed key is
// refused once a refresh has dropped it, also for tokens already in the cache.
func TestIdPKeyRotation(t *testing.T) {
	iss := testissuer.New(t)
	e := newFaultEnv(t, iss, authz.KeysConfig{RefreshInterval: 300 * time.Millisecond, MinRefetchInterval: time.Hour}, 100)
	old := e.fresh(t, testissuer.KidRSA)
	waitAccepted(t, e.svc, old) // now cached

	iss.AddKey(t, "rsa-2", testissuer.RSA)
	before := iss.JWKSFetches()
	if err := e.mapErr(e.fresh(t, "rsa-2")); err != nil {
		t.Fatalf("first token of the rotated-in key refused: %v", err)
	}
	if n := iss.JWKSFetches() - before; n != 1 {
		t.Fatalf("rotated-in key learnt with %d fetches, want exactly 1", n)
	}

	iss.RemoveKey(testissuer.KidRSA)
	waitUntil(t, 5*time.Second, "the removed key refused after a refresh", func() bool { return e.mapErr(old) != nil })
	err := e.mapErr(old)
	if !strings.Contains(err.Error(), fmt.Sprintf("unknown kid %q", testissuer.KidRSA)) {
		t.Fatalf("cached token of the removed key: %v", err)
	}
	if err := e.mapErr(e.fresh(t, "rsa-2")); err != nil {
		t.Fatalf("the new key after the old one was removed: %v", err)
	}
}

// An unknown-kid flood: 1000 tokens with random kids from 50 goroutines, spread over about
// a second and mixed with valid tokens. Fetches stay within the rate limit (one at once,
// then one per keys.minRefetchInterval); every flood token is refused; every valid token
// is accepted.
func TestIdPUnknownKidFlood(t *testing.T) {
	for _, tc := range []struct {
		name       string
		minRefetch time.Duration
	}{
		{"default 30s rate limit", 0},
		{"200ms rate limit", 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss := testissuer.New(t)
			e := newFaultEnv(t, iss, authz.KeysConfig{MinRefetchInterval: tc.minRefetch}, 100)
			waitAccepted(t, e.svc, e.fresh(t, testissuer.KidEC))
			limit := tc.minRefetch
			if limit == 0 {
				limit = 30 * time.Second
			}

			const callers, perCaller, floodPace = 50, 20, 50 * time.Millisecond
			flood := make([][]string, callers)
			for c := range flood {
				for range perCaller {
					flood[c] = append(flood[c], e.iss.Issue(t, map[string]any{"sub": "mallory", "permissions": []string{"default:admin"}},
						testissuer.WithKey(testissuer.KidEC), testissuer.WithHeader("kid", fmt.Sprintf("random-%x", rand.Uint64()))))
				}
			}
			valid := e.fresh(t, testissuer.KidEC)

			before := iss.JWKSFetches()
			var wrong atomic.Int64
			var firstWrong sync.Once
			var wg sync.WaitGroup
			start := time.Now()
			for c := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i, tok := range flood[c] {
						err := e.mapErr(tok)
						if err == nil || !strings.Contains(err.Error(), "unknown kid") {
							wrong.Add(1)
							firstWrong.Do(func() { t.Errorf("flood token: err = %v", err) })
						}
						if i%5 == 0 {
							if err := e.mapErr(valid); err != nil {
								wrong.Add(1)
								firstWrong.Do(func() { t.Errorf("valid token during the flood: %v", err) })
							}
						}
						time.Sleep(floodPace)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			fetches := iss.JWKSFetches() - before
			// One refetch may start at once, then one per rate-limit interval.
			bound := 1 + int(elapsed/limit)
			t.Logf("flood (%s): %d unknown-kid tokens from %d callers in %v caused %d JWKS fetches (bound %d)",
				tc.name, callers*perCaller, callers, elapsed.Round(time.Millisecond), fetches, bound)
			if fetches > bound {
				t.Fatalf("%d fetches for the flood, more than the rate limit allows (%d)", fetches, bound)
			}
			// And it is a rate, not a latch: each interval that passed allowed one more.
			if want := min(bound, 2); fetches < want {
				t.Fatalf("%d fetches; the rate limit allowed %d and the flood kept asking", fetches, bound)
			}
			if wrong.Load() != 0 {
				t.Fatalf("%d wrong decisions", wrong.Load())
			}
		})
	}
}
