package authz

import (
	"fmt"
	"strings"
)

// claimValues follows path through nested JSON objects and returns the string values
// found there: each string of an array, or a single string split at spaces and commas
// (as OAuth's `scope`). A missing claim yields nothing. Anything else (numbers, objects,
// null, non-string array elements) is skipped and described in problem, for a debug log:
// a malformed claim can only ever grant less.
func claimValues(claims map[string]any, path []string) (values []string, problem string) {
	var cur any = claims
	for i, seg := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Sprintf("%q is %s, not an object", strings.Join(path[:i], "."), jsonKind(cur))
		}
		if cur, ok = obj[seg]; !ok {
			return nil, ""
		}
	}
	switch v := cur.(type) {
	case string:
		return splitValues(v), ""
	case []any:
		values = make([]string, 0, len(v))
		skipped := 0
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				values = append(values, s)
			} else {
				skipped++
			}
		}
		if skipped > 0 {
			problem = fmt.Sprintf("%d array elements are not non-empty strings", skipped)
		}
		return values, problem
	default:
		return nil, fmt.Sprintf("the value is %s, not a string or an array of strings", jsonKind(cur))
	}
}

// splitValues splits a space- or comma-delimited claim value.
func splitValues(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// stringClaim reads a top-level string claim such as sub or client_id.
func stringClaim(claims map[string]any, name string) (string, error) {
	v, ok := claims[name]
	if !ok {
		return "", fmt.Errorf("token has no %q claim (the issuer's subjectClaim)", name)
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("token claim %q is %s, not a non-empty string", name, jsonKind(v))
	}
	return s, nil
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if v == "" {
			return "an empty string"
		}
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
