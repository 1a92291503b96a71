package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// maxJSONDepth bounds nesting in a token payload; real tokens nest two or three levels.
const maxJSONDepth = 32

// trustedIssuer is one configured issuer at run time.
type trustedIssuer struct {
	name      string
	keys      *keySet
	audiences []string
	policy    *issuerPolicy
}

// verifier checks a compact JWS token: size, algorithm, issuer, signature, payload
// shape and the registered claims. Every rejection says why.
type verifier struct {
	algorithms []jose.SignatureAlgorithm
	leeway     time.Duration
	maxBytes   int
	now        func() time.Time
	byName     map[string]*trustedIssuer
	// anyIssuer (upstream compatibility only): `iss` is not checked and a kid is looked
	// up in every issuer's keys, in order.
	anyIssuer bool
	issuers   []*trustedIssuer
}

// verifiedToken is what a successful verification yields.
type verifiedToken struct {
	issuer     *trustedIssuer
	kid        string // the verifying key's kid ("" if it has none)
	thumbprint string // the verifying key's thumbprint
	claims     map[string]any
	exp        time.Time
	nbf        time.Time // zero when the token has none
}

func (v *verifier) verify(token string) (*verifiedToken, error) {
	if len(token) > v.maxBytes {
		return nil, fmt.Errorf("token is %d bytes, more than tokens.maxTokenBytes (%d)", len(token), v.maxBytes)
	}
	// A compact JWS is base64url segments joined by '.' (RFC 7515 §7.1). Go's base64
	// decoder skips '\r' and '\n', so without this check a token with line breaks would
	// verify as the same token: one token, many spellings, each a separate cache entry.
	if i := strings.IndexFunc(token, notCompactJWS); i >= 0 {
		return nil, fmt.Errorf("malformed token: byte %q at offset %d is not base64url or '.'", token[i], i)
	}
	jws, err := jose.ParseSignedCompact(token, v.algorithms)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, fmt.Errorf("algorithm %s is not allowed (allowed: %v)", algErr.Got, v.algorithms)
		}
		return nil, fmt.Errorf("malformed token: %v", err)
	}
	header := jws.Signatures[0].Header // compact serialization has exactly one
	alg := jose.SignatureAlgorithm(header.Algorithm)

	// The issuer is read before the signature is checked only to choose whose keys to
	// check it with; keys are looked up solely in that issuer's set, so a token signed by
	// issuer A that claims to be from issuer B fails verification.
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return nil, fmt.Errorf("malformed token payload: %v", err)
	}
	candidates, err := v.issuersFor(unverified.Issuer)
	if err != nil {
		return nil, err
	}
	matches, err := v.findKeys(candidates, header.KeyID)
	if err != nil {
		return nil, err
	}
	// Normally one key matches. Only in upstream-compatibility mode, where several key
	// sets are pooled, may a kid occur in more than one; the first that verifies wins.
	var (
		ti      *trustedIssuer
		key     *verificationKey
		payload []byte
		first   error
	)
	for _, m := range matches {
		payload, err = verifyWith(jws, alg, m.issuer, m.key)
		if err == nil {
			ti, key = m.issuer, m.key
			break
		}
		if first == nil {
			first = err
		}
	}
	if key == nil {
		return nil, first
	}
	if err := checkJSONShape(payload); err != nil {
		return nil, fmt.Errorf("token payload rejected: %v", err)
	}
	// Only the registered claims we check are decoded strictly; jti, sub and the rest are
	// not ours to judge.
	var registered timeAndAudience
	if err := json.Unmarshal(payload, &registered); err != nil {
		return nil, fmt.Errorf("token has a malformed registered claim: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("token payload is not a JSON object")
	}
	if got, name := registeredLookalike(claims); got != "" {
		return nil, fmt.Errorf("token payload rejected: claim %q is not %q (claim names are case-sensitive)", got, name)
	}
	vt := &verifiedToken{issuer: ti, kid: key.kid, thumbprint: key.thumbprint, claims: claims}
	if err := v.checkTimes(&registered, vt); err != nil {
		return nil, err
	}
	if len(ti.audiences) > 0 && !slices.ContainsFunc(ti.audiences, registered.Audience.Contains) {
		if len(registered.Audience) == 0 {
			return nil, fmt.Errorf("token has no aud claim; issuer %q requires one of %q", ti.name, ti.audiences)
		}
		return nil, fmt.Errorf("token audience %q does not include any of %q", []string(registered.Audience), ti.audiences)
	}
	return vt, nil
}

// issuersFor returns the issuers whose keys may verify a token claiming iss.
func (v *verifier) issuersFor(iss string) ([]*trustedIssuer, error) {
	if v.anyIssuer {
		return v.issuers, nil
	}
	if iss == "" {
		return nil, errors.New("token has no iss claim")
	}
	ti, ok := v.byName[iss]
	if !ok {
		return nil, fmt.Errorf("issuer %q is not trusted", iss)
	}
	return []*trustedIssuer{ti}, nil
}

// verifyWith checks that alg fits the key, then the signature.
func verifyWith(jws *jose.JSONWebSignature, alg jose.SignatureAlgorithm, ti *trustedIssuer, key *verificationKey) ([]byte, error) {
	if key.alg != "" && key.alg != string(alg) {
		return nil, fmt.Errorf("token algorithm %s does not match the algorithm %s of key %q of issuer %q", alg, key.alg, key.kid, ti.name)
	}
	if !algorithmFitsKey(alg, key.key) {
		return nil, fmt.Errorf("token algorithm %s cannot be used with key %q of issuer %q (key type %s)", alg, key.kid, ti.name, keyType(key))
	}
	// Verify with the bare public key: go-jose then ignores any jwk, jku, x5u or x5c
	// header the token carries.
	payload, err := jws.Verify(key.key)
	if err != nil {
		return nil, fmt.Errorf("signature does not verify with key %q of issuer %q", key.kid, ti.name)
	}
	return payload, nil
}

type keyMatch struct {
	issuer *trustedIssuer
	key    *verificationKey
}

// findKeys chooses the verification key by kid, refetching (rate-limited) once when the
// kid is unknown. A token without kid may use the only key of a one-key set.
func (v *verifier) findKeys(candidates []*trustedIssuer, kid string) ([]keyMatch, error) {
	for attempt := 0; ; attempt++ {
		var (
			lastErr error
			matches []keyMatch
		)
		for _, ti := range candidates {
			snap := ti.keys.snapshot()
			if snap == nil {
				lastErr = fmt.Errorf("no signing keys yet for issuer %q", ti.name)
				if why := ti.keys.lastError(); why != "" {
					lastErr = fmt.Errorf("%w (last fetch: %s)", lastErr, why)
				}
				continue
			}
			if kid == "" {
				if len(snap.all) == 1 {
					matches = append(matches, keyMatch{ti, snap.all[0]})
					continue
				}
				lastErr = fmt.Errorf("token has no kid and the key set of issuer %q has %d keys", ti.name, len(snap.all))
				continue
			}
			if k := snap.byKid[kid]; k != nil {
				matches = append(matches, keyMatch{ti, k})
				continue
			}
			lastErr = fmt.Errorf("unknown kid %q for issuer %q", kid, ti.name)
		}
		if len(matches) > 0 {
			return matches, nil
		}
		if attempt > 0 || kid == "" {
			return nil, lastErr
		}
		// A new kid usually means the provider rotated its keys: fetch once more.
		refetched := false
		for _, ti := range candidates {
			if ti.keys.snapshot() != nil && ti.keys.refetchForUnknownKid() {
				refetched = true
			}
		}
		if !refetched {
			return nil, lastErr
		}
	}
}

// timeAndAudience are the registered claims the verifier checks.
type timeAndAudience struct {
	Audience  jwt.Audience     `json:"aud,omitempty"`
	Expiry    *jwt.NumericDate `json:"exp,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
}

func (v *verifier) checkTimes(c *timeAndAudience, vt *verifiedToken) error {
	now := v.now()
	if c.Expiry == nil {
		return errors.New("token has no exp claim; tokens without an expiry are refused")
	}
	vt.exp = c.Expiry.Time()
	if !now.Before(vt.exp.Add(v.leeway)) {
		return fmt.Errorf("token expired at %s", vt.exp.UTC().Format(time.RFC3339))
	}
	if c.NotBefore != nil {
		vt.nbf = c.NotBefore.Time()
		if now.Before(vt.nbf.Add(-v.leeway)) {
			return fmt.Errorf("token is not valid before %s", vt.nbf.UTC().Format(time.RFC3339))
		}
	}
	if c.IssuedAt != nil {
		if iat := c.IssuedAt.Time(); now.Before(iat.Add(-v.leeway)) {
			return fmt.Errorf("token is issued in the future (iat %s)", iat.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// checkJSONShape rejects payloads that decode ambiguously: a key repeated in one object
// (parsers disagree on which value wins) or nesting deeper than maxJSONDepth.
func checkJSONShape(payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	type frame struct {
		keys     map[string]struct{} // nil for arrays
		expectKV bool                // inside an object, the next string is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not valid JSON: %v", err)
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
				}
				if top >= 0 && stack[top].keys != nil {
					stack[top].expectKV = true
				}
				f := frame{}
				if t == '{' {
					f.keys, f.expectKV = map[string]struct{}{}, true
				}
				stack = append(stack, f)
			default:
				stack = stack[:top]
			}
		case string:
			if top >= 0 && stack[top].keys != nil {
				if stack[top].expectKV {
					if _, dup := stack[top].keys[t]; dup {
						return fmt.Errorf("duplicate key %q", t)
					}
					stack[top].keys[t] = struct{}{}
					stack[top].expectKV = false
				} else {
					stack[top].expectKV = true
				}
			}
		default:
			if top >= 0 && stack[top].keys != nil {
				stack[top].expectKV = true
			}
		}
	}
}

func keyType(k *verificationKey) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", k.key), "*")
}

// registeredLookalike finds a claim whose name equals a checked registered claim's only
// up to case ("EXP", "Iss", "iſs"). encoding/json matches struct fields ignoring case, so
// such a claim would be read as exp or iss above while every case-sensitive reader (the
// IdP, an auditor, RFC 7519 §4) sees a different claim: an expired token plus an "EXP" in
// the future would pass. A token carrying one is refused rather than read two ways.
func registeredLookalike(claims map[string]any) (got, name string) {
	for k := range claims {
		for _, name := range []string{"iss", "aud", "exp", "nbf", "iat"} {
			if k != name && strings.EqualFold(k, name) {
				return k, name
			}
		}
	}
	return "", ""
}

// notCompactJWS reports a rune that cannot appear in a compact JWS.
func notCompactJWS(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
}
