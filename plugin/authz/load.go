package authz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"gopkg.in/yaml.v3"
)

// LoadFile reads an authorization.yaml strictly (unknown keys and wrong types are
// errors naming the key and line) and validates it.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Source: path, Key: "(file)", Problem: err.Error()}
	}
	cfg, err := parseYAML(path, data)
	if err != nil {
		return nil, err
	}
	// A relative jwksFile is relative to the config file, so the two can be mounted
	// together wherever the config directory lives.
	for i := range cfg.Issuers {
		if f := cfg.Issuers[i].JWKSFile; f != "" && !filepath.IsAbs(f) {
			cfg.Issuers[i].JWKSFile = filepath.Join(filepath.Dir(path), f)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseYAML decodes data into a Config without validating it.
func parseYAML(source string, data []byte) (*Config, error) {
	// The document is read twice: as a node tree, to turn yaml's line numbers into key
	// paths for error messages, and strictly into the Config.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ConfigError{Source: source, Key: "(file)", Problem: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if root.Kind == 0 || len(root.Content) == 0 || root.Content[0].Kind == yaml.ScalarNode && root.Content[0].Tag == "!!null" {
		return nil, &ConfigError{Source: source, Key: "(file)", Problem: "the file is empty: at least one issuer is required"}
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	cfg := &Config{}
	if err := dec.Decode(cfg); err != nil {
		return nil, yamlConfigError(source, &root, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &ConfigError{Source: source, Key: "(file)", Problem: "more than one YAML document; write a single document"}
	}
	cfg.source = source
	return cfg, nil
}

// yamlLine matches the "line N: problem" entries of yaml.TypeError.
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// fieldNotFound matches yaml's wording for unknown keys.
var fieldNotFound = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// yamlConfigError reports the first decoding problem with the key path at its line.
func yamlConfigError(source string, root *yaml.Node, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return &ConfigError{Source: source, Key: "(file)", Problem: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var problems []string
	key := ""
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			problems = append(problems, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		problem := m[2]
		if f := fieldNotFound.FindStringSubmatch(problem); f != nil {
			problem = fmt.Sprintf("unknown key %q", f[1])
		}
		if strings.Contains(problem, "into time.Duration") {
			problem += "; write a duration with a unit, e.g. 30s or 1h"
		}
		path := keyPathAtLine(root, line)
		if key == "" {
			key = path
			problems = append(problems, fmt.Sprintf("line %s: %s", m[1], problem))
			continue
		}
		problems = append(problems, fmt.Sprintf("line %s: %s (%s)", m[1], problem, path))
	}
	if key == "" {
		key = "(file)"
	}
	return &ConfigError{Source: source, Key: key, Problem: strings.Join(problems, "; ")}
}

// keyPathAtLine returns the dotted key path ("issuers[0].jwksFile") of the last key or
// sequence item that starts on line, or "line N" when none does.
func keyPathAtLine(root *yaml.Node, line int) string {
	found := ""
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line {
					found = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Line == line && found == "" {
					found = p
				}
				walk(c, p)
			}
		}
	}
	walk(root, "")
	if found == "" {
		return fmt.Sprintf("line %d", line)
	}
	return found
}

// Defaults for zero values; documented on the Config fields.
const (
	defaultRefreshInterval    = time.Hour
	defaultMinRefetchInterval = 30 * time.Second
	defaultFetchTimeout       = 10 * time.Second
	defaultMaxResponseBytes   = 1 << 20
	defaultLeeway             = 30 * time.Second
	defaultMaxTokenBytes      = 16 << 10
	defaultCacheSize          = 10000
	defaultSubjectClaim       = "sub"
	defaultPermissionsClaim   = "permissions"

	formatNamespaceRole = "namespace-role"
	formatRegex         = "regex"
	formatMapped        = "mapped"

	// minDuration catches durations written without a unit: yaml reads "60" as 60ns.
	minDuration = time.Millisecond
)

// allowedAlgorithms are the only signature algorithms a token may use. "none" and the
// HMAC family are never accepted: an HMAC secret shared with the IdP would let anyone
// who holds it mint tokens, and public JWKS must never be usable as an HMAC key.
var allowedAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// Validate fills in defaults and checks every setting, returning a *ConfigError that
// names the first problem. It is idempotent and is called by LoadFile, FromUpstream and
// New.
func (c *Config) Validate() error {
	src := c.source
	if src == "" {
		src = "authorization config"
	}
	c.applyDefaults()
	if len(c.Issuers) == 0 {
		return &ConfigError{Source: src, Key: "issuers", Problem: "at least one issuer is required"}
	}
	seen := map[string]int{}
	for i := range c.Issuers {
		if err := c.validateIssuer(src, i); err != nil {
			return err
		}
		iss := c.Issuers[i].Issuer
		if j, dup := seen[iss]; dup && !c.anyIssuer {
			return &ConfigError{Source: src, Key: fmt.Sprintf("issuers[%d].issuer", i),
				Problem: fmt.Sprintf("issuer %q is already configured as issuers[%d]", iss, j)}
		}
		seen[iss] = i
	}
	if err := c.validateKeys(src); err != nil {
		return err
	}
	if err := c.validateTokens(src); err != nil {
		return err
	}
	return c.Authorizer.validate(src)
}

func (c *Config) applyDefaults() {
	k := &c.Keys
	if k.RefreshInterval == 0 {
		k.RefreshInterval = defaultRefreshInterval
	}
	if k.MinRefetchInterval == 0 {
		k.MinRefetchInterval = defaultMinRefetchInterval
	}
	if k.FetchTimeout == 0 {
		k.FetchTimeout = defaultFetchTimeout
	}
	if k.MaxResponseBytes == 0 {
		k.MaxResponseBytes = defaultMaxResponseBytes
	}
	t := &c.Tokens
	if t.Leeway == 0 {
		t.Leeway = defaultLeeway
	}
	if len(t.Algorithms) == 0 {
		for _, a := range allowedAlgorithms {
			t.Algorithms = append(t.Algorithms, string(a))
		}
	}
	if t.MaxTokenBytes == 0 {
		t.MaxTokenBytes = defaultMaxTokenBytes
	}
	if t.CacheSize == 0 {
		t.CacheSize = defaultCacheSize
	}
	for i := range c.Issuers {
		is := &c.Issuers[i]
		if is.SubjectClaim == "" {
			is.SubjectClaim = defaultSubjectClaim
		}
		if len(is.Permissions) == 0 {
			is.Permissions = []PermissionSource{{Claim: defaultPermissionsClaim}}
		}
		for j := range is.Permissions {
			if is.Permissions[j].Format == "" {
				is.Permissions[j].Format = formatNamespaceRole
			}
		}
	}
}

func (c *Config) validateIssuer(src string, i int) error {
	is := c.Issuers[i]
	key := fmt.Sprintf("issuers[%d]", i)
	bad := func(sub, problem string, args ...any) error {
		return &ConfigError{Source: src, Key: key + sub, Problem: fmt.Sprintf(problem, args...)}
	}
	if strings.TrimSpace(is.Issuer) == "" {
		return bad(".issuer", "required: the exact `iss` value of the provider's tokens")
	}
	if is.Issuer != strings.TrimSpace(is.Issuer) {
		return bad(".issuer", "%q has leading or trailing whitespace; it must equal `iss` exactly", is.Issuer)
	}
	var sources []string
	for _, s := range []struct{ name, value string }{
		{"discoveryURL", is.DiscoveryURL}, {"jwksURI", is.JWKSURI}, {"jwksFile", is.JWKSFile},
	} {
		if s.value != "" {
			sources = append(sources, s.name)
		}
	}
	if len(sources) > 1 {
		return bad("."+sources[1], "set only one of discoveryURL, jwksURI and jwksFile (found %s)", strings.Join(sources, " and "))
	}
	switch {
	case is.DiscoveryURL != "":
		if err := checkHTTPURL(is.DiscoveryURL); err != nil {
			return bad(".discoveryURL", "%v", err)
		}
	case is.JWKSURI != "":
		if err := checkHTTPURL(is.JWKSURI); err != nil {
			return bad(".jwksURI", "%v", err)
		}
	case is.JWKSFile != "":
		if _, err := readJWKSFile(is.JWKSFile, c.Keys.MaxResponseBytes); err != nil {
			return bad(".jwksFile", "%v", err)
		}
	default:
		if err := checkHTTPURL(is.Issuer); err != nil {
			return bad(".issuer", "keys are discovered at <issuer>/.well-known/openid-configuration when no discoveryURL, jwksURI or jwksFile is set, but %v", err)
		}
	}
	for j, a := range is.Audiences {
		if strings.TrimSpace(a) == "" {
			return bad(fmt.Sprintf(".audiences[%d]", j), "empty audience")
		}
	}
	if strings.TrimSpace(is.SubjectClaim) == "" {
		return bad(".subjectClaim", "empty claim name")
	}
	_, err := compileIssuerPolicy(src, key, is)
	return err
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL with a host", raw)
	}
	return nil
}

func (c *Config) validateKeys(src string) error {
	k := c.Keys
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"keys.refreshInterval", k.RefreshInterval},
		{"keys.minRefetchInterval", k.MinRefetchInterval},
		{"keys.fetchTimeout", k.FetchTimeout},
	} {
		if d.v < minDuration {
			return &ConfigError{Source: src, Key: d.key, Problem: fmt.Sprintf("%v is too short: write a duration with a unit, e.g. 30s", d.v)}
		}
	}
	if k.MaxResponseBytes < 1024 {
		return &ConfigError{Source: src, Key: "keys.maxResponseBytes", Problem: fmt.Sprintf("%d is too small (at least 1024)", k.MaxResponseBytes)}
	}
	return nil
}

func (c *Config) validateTokens(src string) error {
	t := c.Tokens
	if t.Leeway < 0 {
		return &ConfigError{Source: src, Key: "tokens.leeway", Problem: fmt.Sprintf("%v is negative", t.Leeway)}
	}
	if t.Leeway > 0 && t.Leeway < minDuration {
		return &ConfigError{Source: src, Key: "tokens.leeway", Problem: fmt.Sprintf("%v is too short: write a duration with a unit, e.g. 30s", t.Leeway)}
	}
	for i, a := range t.Algorithms {
		if !slices.Contains(allowedAlgorithms, jose.SignatureAlgorithm(a)) {
			problem := fmt.Sprintf("algorithm %q is not supported; allowed: %v", a, allowedAlgorithms)
			if strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS") {
				problem = fmt.Sprintf("algorithm %q is never accepted (unsigned and shared-secret tokens are refused); allowed: %v", a, allowedAlgorithms)
			}
			return &ConfigError{Source: src, Key: fmt.Sprintf("tokens.algorithms[%d]", i), Problem: problem}
		}
	}
	if t.MaxTokenBytes < 256 {
		return &ConfigError{Source: src, Key: "tokens.maxTokenBytes", Problem: fmt.Sprintf("%d is too small (at least 256)", t.MaxTokenBytes)}
	}
	return nil
}
