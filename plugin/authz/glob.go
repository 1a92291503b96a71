package authz

import "strings"

// glob is a pattern compiled once at config load: '*' matches any run of characters
// (including none) and every other character matches itself. Matching allocates
// nothing, so it is safe on the request hot path.
type glob struct {
	pattern string
	parts   []string // pattern split at '*'; len(parts) == 1 means no '*'
}

func compileGlob(pattern string) glob {
	return glob{pattern: pattern, parts: strings.Split(pattern, "*")}
}

// isGlob reports whether s would be read as a pattern rather than a literal.
func isGlob(s string) bool { return strings.Contains(s, "*") }

func (g glob) match(s string) bool {
	if len(g.parts) == 1 {
		return s == g.pattern
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, part := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}
