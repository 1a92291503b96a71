package authz

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// validJWKS is a one-key set (an EC P-256 public key).
const validJWKS = `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256",
 "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`

func TestLoadFileDefaults(t *testing.T) {
	path := writeFile(t, "authorization.yaml", `
issuers:
  - issuer: https://idp.example.com/realms/temporal
`)
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	is := cfg.Issuers[0]
	if is.SubjectClaim != "sub" || len(is.Permissions) != 1 || is.Permissions[0].Claim != "permissions" || is.Permissions[0].Format != "namespace-role" {
		t.Fatalf("issuer defaults = %+v", is)
	}
	k, tk := cfg.Keys, cfg.Tokens
	if k.RefreshInterval != time.Hour || k.MinRefetchInterval != 30*time.Second || k.FetchTimeout != 10*time.Second || k.MaxResponseBytes != 1<<20 {
		t.Fatalf("keys defaults = %+v", k)
	}
	if tk.Leeway != 30*time.Second || len(tk.Algorithms) != 10 || tk.MaxTokenBytes != 16<<10 || tk.CacheSize != 10000 {
		t.Fatalf("tokens defaults = %+v", tk)
	}
	if cfg.source != path {
		t.Fatalf("source = %q", cfg.source)
	}
	// Validate is idempotent.
	if err := cfg.Validate(); err != nil || len(cfg.Tokens.Algorithms) != 10 {
		t.Fatalf("second Validate: %v, %v", err, cfg.Tokens.Algorithms)
	}
}

// TestLoadFileErrors checks that each broken config is refused with the key at fault.
func TestLoadFileErrors(t *testing.T) {
	jwks := writeFile(t, "jwks.json", validJWKS)
	badJWKS := writeFile(t, "bad.json", `{"keys": "nope"}`)
	encOnly := writeFile(t, "enc.json", `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}`)
	issuer := "issuers:\n  - issuer: https://idp.example.com\n"
	cases := []struct {
		name, yaml string
		wantKey    string
		wantText   string
	}{
		{"empty file", "", "(file)", "the file is empty"},
		{"only comments", "# nothing\n", "(file)", "the file is empty"},
		{"not YAML", "issuers: [\n", "(file)", "not valid YAML"},
		{"two documents", issuer + "---\n" + issuer, "(file)", "more than one YAML document"},
		{"unknown top-level key", issuer + "issuer: x\n", "issuer", `line 3: unknown key "issuer"`},
		{"unknown nested key", issuer + "    jwksFil: /x\n", "issuers[0].jwksFil", `unknown key "jwksFil"`},
		{"wrong type", issuer + "tokens:\n  cacheSize: lots\n", "tokens.cacheSize", "cannot unmarshal"},
		{"bad duration", issuer + "keys:\n  refreshInterval: soon\n", "keys.refreshInterval", "cannot unmarshal"},
		{"duration without unit", issuer + "keys:\n  refreshInterval: 60\n", "keys.refreshInterval", "write a duration with a unit"},
		{"no issuers", "tokens:\n  leeway: 1s\n", "issuers", "at least one issuer is required"},
		{"issuer missing", "issuers:\n  - jwksURI: https://x/jwks\n", "issuers[0].issuer", "required"},
		{"issuer not a URL for discovery", "issuers:\n  - issuer: my-idp\n", "issuers[0].issuer", "not an http(s) URL"},
		{"two key sources", issuer + "    jwksURI: https://x/jwks\n    jwksFile: " + jwks + "\n", "issuers[0].jwksFile", "set only one of discoveryURL, jwksURI and jwksFile (found jwksURI and jwksFile)"},
		{"discovery and jwksURI", issuer + "    discoveryURL: https://x/.well-known/openid-configuration\n    jwksURI: https://x/jwks\n", "issuers[0].jwksURI", "set only one"},
		{"jwksURI not http", issuer + "    jwksURI: file:///etc/jwks\n", "issuers[0].jwksURI", "not an http(s) URL"},
		{"discoveryURL garbage", issuer + "    discoveryURL: \"http://[::1\"\n", "issuers[0].discoveryURL", "not a URL"},
		{"unreadable JWKS file", issuer + "    jwksFile: /nonexistent/jwks.json\n", "issuers[0].jwksFile", "no such file"},
		{"invalid JWKS file", issuer + "    jwksFile: " + badJWKS + "\n", "issuers[0].jwksFile", "not a JSON Web Key Set"},
		{"JWKS file without signing keys", issuer + "    jwksFile: " + encOnly + "\n", "issuers[0].jwksFile", "no usable signing keys"},
		{"duplicate issuer", issuer + issuer[len("issuers:\n"):], "issuers[1].issuer", "already configured as issuers[0]"},
		{"empty audience", issuer + "    audiences: ['']\n", "issuers[0].audiences[0]", "empty audience"},
		{"claim and claimPath", issuer + "    permissions:\n      - {claim: a, claimPath: [b]}\n", "issuers[0].permissions[0]", "not both"},
		{"no claim", issuer + "    permissions:\n      - {format: mapped}\n", "issuers[0].permissions[0]", "claim or claimPath is required"},
		{"empty claim segment", issuer + "    permissions:\n      - {claim: a..b}\n", "issuers[0].permissions[0].claim", "empty path segment"},
		{"empty claimPath segment", issuer + "    permissions:\n      - {claimPath: ['https://x/roles', '']}\n", "issuers[0].permissions[0].claimPath[1]", "empty path segment"},
		{"unknown format", issuer + "    permissions:\n      - {claim: a, format: csv}\n", "issuers[0].permissions[0].format", `"csv" is not one of`},
		{"regex missing", issuer + "    permissions:\n      - {claim: a, format: regex}\n", "issuers[0].permissions[0].regex", "required with format: regex"},
		{"bad regex", issuer + "    permissions:\n      - {claim: a, format: regex, regex: '(?P<namespace>['}\n", "issuers[0].permissions[0].regex", "does not compile"},
		{"regex without groups", issuer + "    permissions:\n      - {claim: a, format: regex, regex: '^(\\w+):(\\w+)$'}\n", "issuers[0].permissions[0].regex", "needs the named groups"},
		{"regex with other format", issuer + "    permissions:\n      - {claim: a, regex: 'x'}\n", "issuers[0].permissions[0].regex", "only used with format: regex"},
		{"mapping without value", issuer + "    mappings:\n      - grants: [{namespace: default, role: read}]\n", "issuers[0].mappings[0].value", "required"},
		{"mapping without grants", issuer + "    mappings:\n      - value: ops\n", "issuers[0].mappings[0].grants", "at least one grant"},
		{"unknown role word", issuer + "    mappings:\n      - value: ops\n        grants: [{namespace: default, role: owner}]\n", "issuers[0].mappings[0].grants[0]", `unknown role "owner"`},
		{"ui outside system", issuer + "    mappings:\n      - value: ops\n        grants: [{namespace: default, role: ui}]\n", "issuers[0].mappings[0].grants[0]", "only meaningful for namespace temporal-system"},
		{"grant without namespace", issuer + "    mappings:\n      - value: ops\n        grants: [{role: read}]\n", "issuers[0].mappings[0].grants[0]", "namespace is required"},
		{"grant without role", issuer + "    mappings:\n      - value: ops\n        grants: [{namespace: x}]\n", "issuers[0].mappings[0].grants[0]", "role is required"},
		{"grant namespace with space", issuer + "    mappings:\n      - value: ops\n        grants: [{namespace: 'a b', role: read}]\n", "issuers[0].mappings[0].grants[0]", "whitespace"},
		{"HS256 allowed", issuer + "tokens:\n  algorithms: [RS256, HS256]\n", "tokens.algorithms[1]", `"HS256" is never accepted`},
		{"none allowed", issuer + "tokens:\n  algorithms: [none]\n", "tokens.algorithms[0]", `"none" is never accepted`},
		{"unknown algorithm", issuer + "tokens:\n  algorithms: [RS1]\n", "tokens.algorithms[0]", `"RS1" is not supported`},
		{"negative leeway", issuer + "tokens:\n  leeway: -1s\n", "tokens.leeway", "negative"},
		{"tiny token limit", issuer + "tokens:\n  maxTokenBytes: 10\n", "tokens.maxTokenBytes", "too small"},
		{"tiny response limit", issuer + "keys:\n  maxResponseBytes: 10\n", "keys.maxResponseBytes", "too small"},
		{"negative fetch timeout", issuer + "keys:\n  fetchTimeout: -5s\n", "keys.fetchTimeout", "too short"},
		{"issuer with whitespace", "issuers:\n  - issuer: 'https://x '\n", "issuers[0].issuer", "whitespace"},
		{"empty subject claim", issuer + "    subjectClaim: ' '\n", "issuers[0].subjectClaim", "empty claim name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "authorization.yaml", tc.yaml)
			_, err := LoadFile(path)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *ConfigError", err, err)
			}
			if ce.Source != path || ce.Key != tc.wantKey || !strings.Contains(ce.Problem, tc.wantText) {
				t.Fatalf("got %q\nwant key %q and problem containing %q", err, tc.wantKey, tc.wantText)
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "absent.yaml"))
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "absent.yaml") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateWithoutSource(t *testing.T) {
	err := (&Config{}).Validate()
	if err == nil || err.Error() != "authorization config: issuers: at least one issuer is required" {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadFileRelativeJWKSFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), []byte(validJWKS), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "authorization.yaml")
	if err := os.WriteFile(path, []byte("issuers:\n  - issuer: https://idp.example.com\n    jwksFile: jwks.json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "jwks.json"); cfg.Issuers[0].JWKSFile != want {
		t.Fatalf("jwksFile = %q, want %q", cfg.Issuers[0].JWKSFile, want)
	}
}
