package authz

import (
	"encoding/json"
	"fmt"
	"sort"

	"go.temporal.io/server/common/authorization"
)

// MapToken verifies token (with or without the "Bearer " prefix) exactly as a request
// would be, and returns its claims: the operator tool's "what does this token grant?".
func (s *Service) MapToken(token string) (*authorization.Claims, error) {
	m := s.claimMapper
	if _, err := bearerToken(token, m.verifier.maxBytes); err != nil {
		token = "Bearer " + token
	}
	return m.GetClaims(&authorization.AuthInfo{AuthToken: token})
}

// MapClaims maps a token's claims given as a JSON object, WITHOUT any signature, time or
// audience check: the operator tool's "what would a token with these claims grant?".
// The issuer's settings are chosen by the object's `iss`.
func (s *Service) MapClaims(claimsJSON []byte) (*authorization.Claims, error) {
	if err := checkJSONShape(claimsJSON); err != nil {
		return nil, fmt.Errorf("claims: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(claimsJSON, &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("claims must be a JSON object")
	}
	m := s.claimMapper
	iss, _ := claims["iss"].(string)
	candidates, err := m.verifier.issuersFor(iss)
	if err != nil {
		return nil, err
	}
	return m.claimsFor(&verifiedToken{issuer: candidates[0], claims: claims})
}

// DescribeGrants lists what claims allow, one line per grant, sorted:
// "default: write", "team-a-* (pattern): read", "temporal-system: admin".
func DescribeGrants(c *authorization.Claims) []string {
	if c == nil {
		return nil
	}
	var out []string
	g, _ := c.Extensions.(*Grants)
	namespaces, system := c.Namespaces, c.System
	if g != nil {
		namespaces, system = g.Namespaces, g.System
	}
	for ns, r := range namespaces {
		out = append(out, fmt.Sprintf("%s: %s", ns, roleNames(r)))
	}
	sort.Strings(out)
	if g != nil {
		var patterns []string
		for _, p := range g.Patterns {
			patterns = append(patterns, fmt.Sprintf("%s (pattern): %s", p.Pattern, roleNames(p.Role)))
		}
		sort.Strings(patterns)
		out = append(out, patterns...)
	}
	if system != 0 {
		out = append(out, fmt.Sprintf("%s: %s", SystemNamespace, roleNames(system)))
	}
	return out
}

// roleNames spells out role bits, strongest first: "admin, read".
func roleNames(r authorization.Role) string {
	names := ""
	for _, n := range []struct {
		bit  authorization.Role
		name string
	}{{RoleAdmin, "admin"}, {RoleWriter, "write"}, {RoleReader, "read"}, {RoleWorker, "worker"}, {RoleUI, "ui"}} {
		if r&n.bit != 0 {
			if names != "" {
				names += ", "
			}
			names += n.name
		}
	}
	if names == "" {
		return "none"
	}
	return names
}
