package authz

import (
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/log"
)

// claimMapper is Temporal's ClaimMapper for our tokens: it verifies the bearer token
// (verifier), maps its claims to grants (issuerPolicy) and remembers the result
// (tokenCache).
type claimMapper struct {
	verifier *verifier
	cache    *tokenCache
	logger   log.Logger
	keySets  []*keySet
}

var _ authorization.ClaimMapper = (*claimMapper)(nil)

// newClaimMapper compiles cfg (already validated) and starts fetching every issuer's keys
// in the background; it does not wait for them.
func newClaimMapper(cfg *Config, opts Options) (*claimMapper, error) {
	src := cfg.source
	if src == "" {
		src = "authorization config"
	}
	v := &verifier{
		leeway:    cfg.Tokens.Leeway,
		maxBytes:  cfg.Tokens.MaxTokenBytes,
		now:       opts.Now,
		byName:    map[string]*trustedIssuer{},
		anyIssuer: cfg.anyIssuer,
	}
	for _, a := range cfg.Tokens.Algorithms {
		v.algorithms = append(v.algorithms, jose.SignatureAlgorithm(a))
	}
	m := &claimMapper{verifier: v, logger: opts.Logger}
	for i, is := range cfg.Issuers {
		key := fmt.Sprintf("issuers[%d]", i)
		policy, err := compileIssuerPolicy(src, key, is)
		if err != nil {
			m.abandon()
			return nil, err
		}
		ks, err := newKeySet(is, cfg.Keys, opts)
		if err != nil {
			m.abandon()
			return nil, &ConfigError{Source: src, Key: key + ".jwksFile", Problem: err.Error()}
		}
		ti := &trustedIssuer{name: is.Issuer, keys: ks, audiences: is.Audiences, policy: policy}
		v.byName[is.Issuer] = ti
		v.issuers = append(v.issuers, ti)
		m.keySets = append(m.keySets, ks)
	}
	m.cache = newTokenCache(cfg.Tokens.CacheSize, cfg.Tokens.Leeway, opts.MetricsHandler)
	for _, ks := range m.keySets {
		ks.start()
	}
	return m, nil
}

// AuthInfoRequired makes Temporal's interceptor treat a call without any credentials as
// anonymous (nil claims, denied by the authorizer) instead of calling GetClaims.
func (m *claimMapper) AuthInfoRequired() bool { return true }

// GetClaims verifies the "Bearer <jwt>" in authInfo.AuthToken and returns the grants
// it carries. The returned Claims may be shared with other calls bearing the same
// token: callers must not modify it.
func (m *claimMapper) GetClaims(authInfo *authorization.AuthInfo) (*authorization.Claims, error) {
	token, err := bearerToken(authInfo.AuthToken, m.verifier.maxBytes)
	if err != nil {
		return nil, err
	}
	now := m.verifier.now()
	if c := m.cache.get(token, now); c != nil {
		return c, nil
	}
	vt, err := m.verifier.verify(token)
	if err != nil {
		return nil, err
	}
	claims, err := m.claimsFor(vt)
	if err != nil {
		return nil, err
	}
	m.cache.put(token, vt, claims)
	return claims, nil
}

// claimsFor maps a verified token to Temporal claims carrying our Grants.
func (m *claimMapper) claimsFor(vt *verifiedToken) (*authorization.Claims, error) {
	p := vt.issuer.policy
	subject, err := stringClaim(vt.claims, p.subjectClaim)
	if err != nil {
		return nil, err
	}
	return claimsFromGrants(subject, p.grantsFor(vt.claims, m.logger)), nil
}

func claimsFromGrants(subject string, g *Grants) *authorization.Claims {
	return &authorization.Claims{
		Subject: subject,
		// RoleUI is our bit (16): upstream code compares roles as numbers, where it
		// would outrank admin, so it never leaves Grants.
		System:     g.System &^ RoleUI,
		Namespaces: g.Namespaces,
		Extensions: g,
		AuthType:   "jwt",
	}
}

// bearerToken extracts the JWT from an authorization header value.
func bearerToken(header string, maxBytes int) (string, error) {
	if header == "" {
		return "", errors.New("no bearer token: the authorization header is empty")
	}
	// The bound applies to the whole header, before any parsing.
	if len(header) > maxBytes+len("Bearer ") {
		return "", fmt.Errorf("authorization header is %d bytes, more than tokens.maxTokenBytes (%d)", len(header), maxBytes)
	}
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "bearer") {
		return "", errors.New(`authorization header must be "Bearer <token>"`)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", errors.New(`authorization header "Bearer" carries no token`)
	}
	return token, nil
}

// abandon releases key sets whose refreshers were never started.
func (m *claimMapper) abandon() {
	for _, ks := range m.keySets {
		ks.cancel()
	}
}

// close stops every background key refresh and waits for them to end.
func (m *claimMapper) close() {
	for _, ks := range m.keySets {
		if ks.ctx.Err() == nil {
			ks.stop()
		}
	}
}
