package authz_test

// Config faults: every broken authorization.yaml is refused by authz.LoadFile with a
// *ConfigError naming the file and the key, so start-up stops before serving (the binary
// side of the same classes is plugin/integration/config_faults_binary_test.go). One test
// per class of mistake; each lists a few ways operators actually make it.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardened-temporal/temporal-image/plugin/authz"
)

type configFault struct {
	name    string
	yaml    string // the file's content; "{{dir}}" is replaced by a temp directory
	key     string // the key the error must name exactly
	problem string // substring of the problem
}

// checkConfigFaults writes each case to authorization.yaml and loads it.
func checkConfigFaults(t *testing.T, cases []configFault) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "authorization.yaml")
			if err := os.WriteFile(path, []byte(strings.ReplaceAll(tc.yaml, "{{dir}}", dir)), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := authz.LoadFile(path)
			if err == nil {
				t.Fatalf("loaded %+v; want an error at %s", cfg, tc.key)
			}
			var ce *authz.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ConfigError: %v", err, err)
			}
			if ce.Source != path || ce.Key != tc.key || !strings.Contains(ce.Problem, tc.problem) {
				t.Fatalf("error %q\nwant source %s, key %s, problem containing %q", err, path, tc.key, tc.problem)
			}
			// What the operator reads names all three.
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tc.key) {
				t.Fatalf("message %q does not name the file and the key", msg)
			}
		})
	}
}

const issuerLine = "issuers:\n  - issuer: https://idp.example.com/realms/temporal\n"

func TestConfigFaultUnknownKey(t *testing.T) {
	checkConfigFaults(t, []configFault{
		{"top-level typo", "issuer: https://idp.example.com\n", "issuer", `unknown key "issuer"`},
		{"issuer key typo", issuerLine + "    audience: [temporal]\n", "issuers[0].audience", `unknown key "audience"`},
		{"keys typo", issuerLine + "keys:\n  refresh: 1h\n", "keys.refresh", `unknown key "refresh"`},
		{"rule key typo", issuerLine + "authorizer:\n  rules:\n    - namespace: [prod]\n      deny: [TerminateWorkflowExecution]\n",
			"authorizer.rules[0].namespace", `unknown key "namespace"`},
		{"upstream key in our file", issuerLine + "permissionsClaimName: roles\n", "permissionsClaimName", `unknown key "permissionsClaimName"`},
	})
}

func TestConfigFaultWrongType(t *testing.T) {
	checkConfigFaults(t, []configFault{
		{"issuers as a string", "issuers: https://idp.example.com\n", "issuers", "cannot unmarshal"},
		{"duration without unit", issuerLine + "keys:\n  refreshInterval: 60\n", "keys.refreshInterval", "into time.Duration; write a duration with a unit"},
		{"duration as words", issuerLine + "tokens:\n  leeway: half a minute\n", "tokens.leeway", "write a duration with a unit"},
		{"number as words", issuerLine + "tokens:\n  cacheSize: lots\n", "tokens.cacheSize", "cannot unmarshal"},
		{"boolean as yes", issuerLine + "authorizer:\n  filterListNamespaces: maybe\n", "authorizer.filterListNamespaces", "cannot unmarshal"},
		{"audiences as a number", issuerLine + "    audiences: 42\n", "issuers[0].audiences", "cannot unmarshal !!int `42` into []string"},
		{"durations in ms without unit", issuerLine + "keys:\n  fetchTimeout: 0.5\n", "keys.fetchTimeout", "into time.Duration"},
	})
}

func TestConfigFaultBadRegex(t *testing.T) {
	checkConfigFaults(t, []configFault{
		{"does not compile", issuerLine + "    permissions:\n      - claim: scope\n        format: regex\n        regex: '(?P<namespace>[a-z'\n",
			"issuers[0].permissions[0].regex", "does not compile"},
		{"no named groups", issuerLine + "    permissions:\n      - claim: scope\n        format: regex\n        regex: '^([a-z]+):([a-z]+)$'\n",
			"issuers[0].permissions[0].regex", "needs the named groups"},
		{"regex without format regex", issuerLine + "    permissions:\n      - claim: scope\n        regex: '^(?P<namespace>.+):(?P<role>.+)$'\n",
			"issuers[0].permissions[0].regex", "only used with format: regex"},
		{"unknown format", issuerLine + "    permissions:\n      - claim: scope\n        format: glob\n",
			"issuers[0].permissions[0].format", `"glob" is not one of`},
	})
}

func TestConfigFaultBadGlob(t *testing.T) {
	checkConfigFaults(t, []configFault{
		{"rule namespace with a space", issuerLine + "authorizer:\n  rules:\n    - namespaces: ['team a*']\n      deny: [TerminateWorkflowExecution]\n",
			"authorizer.rules[0].namespaces[0]", `invalid namespace "team a*"`},
		{"rule namespace with ?", issuerLine + "authorizer:\n  rules:\n    - namespaces: ['prod-?']\n      deny: [TerminateWorkflowExecution]\n",
			"authorizer.rules[0].namespaces[0]", `invalid namespace "prod-?"`},
		{"method glob with ?", issuerLine + "authorizer:\n  rules:\n    - deny: ['Terminate?']\n",
			"authorizer.rules[0].deny[0]", `invalid method "Terminate?"`},
		{"method glob matching nothing", issuerLine + "authorizer:\n  rules:\n    - deny: [TerminateWorkflow]\n",
			"authorizer.rules[0].deny[0]", "matches no Temporal API method"},
		{"mapping namespace glob with a space", issuerLine + "    mappings:\n      - value: team-a\n        grants: [{namespace: 'team a-*', role: write}]\n",
			"issuers[0].mappings[0].grants[0]", "contains whitespace"},
	})
}

func TestConfigFaultUnreachableJWKSFile(t *testing.T) {
	checkConfigFaults(t, []configFault{
		{"missing file", issuerLine + "    jwksFile: {{dir}}/no-such-jwks.json\n", "issuers[0].jwksFile", "no such file or directory"},
		{"a directory", issuerLine + "    jwksFile: {{dir}}\n", "issuers[0].jwksFile", "not a regular file"},
	})
}

func TestConfigFaultIssuerWithoutKeys(t *testing.T) {
	emptySet := filepath.Join(t.TempDir(), "empty.json")
	hmacOnly := filepath.Join(t.TempDir(), "hmac.json")
	for path, content := range map[string]string{
		emptySet: `{"keys":[]}`,
		hmacOnly: `{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	checkConfigFaults(t, []configFault{
		{"two key sources", issuerLine + "    jwksURI: https://idp.example.com/jwks\n    jwksFile: /etc/jwks.json\n", "issuers[0].jwksFile",
			"set only one of discoveryURL, jwksURI and jwksFile"},
		{"issuer that is not a URL and no key source", "issuers:\n  - issuer: temporal-realm\n", "issuers[0].issuer", "keys are discovered at"},
		{"jwksURI that is not http", issuerLine + "    jwksURI: file:///etc/jwks.json\n", "issuers[0].jwksURI", "is not an http(s) URL"},
		{"empty key set file", issuerLine + "    jwksFile: " + emptySet + "\n", "issuers[0].jwksFile", "the key set is empty"},
		{"only an HMAC key", issuerLine + "    jwksFile: " + hmacOnly + "\n", "issuers[0].jwksFile", "no usable signing keys"},
		{"issuer missing", "issuers:\n  - jwksURI: https://idp.example.com/jwks\n", "issuers[0].issuer", "required"},
	})
}

func TestConfigFaultUnknownRoleWord(t *testing.T) {
	checkConfigFaults(t, []configFault{
		{"mapping role", issuerLine + "    mappings:\n      - value: ops\n        grants: [{namespace: default, role: superuser}]\n",
			"issuers[0].mappings[0].grants[0]", `unknown role "superuser"`},
		{"ui outside temporal-system", issuerLine + "    mappings:\n      - value: ops\n        grants: [{namespace: default, role: ui}]\n",
			"issuers[0].mappings[0].grants[0]", "role ui is only meaningful for namespace temporal-system"},
		{"rule role", issuerLine + "authorizer:\n  rules:\n    - roles: [owner]\n      deny: [TerminateWorkflowExecution]\n",
			"authorizer.rules[0].roles[0]", `unknown role "owner"`},
		{"uiAccess value", issuerLine + "authorizer:\n  uiAccess: everyone\n", "authorizer.uiAccess", `unknown value "everyone"`},
		{"algorithm HS256", issuerLine + "tokens:\n  algorithms: [RS256, HS256]\n", "tokens.algorithms[1]", `algorithm "HS256" is never accepted`},
	})
}

func TestConfigFaultEmptyWhileAuthRequired(t *testing.T) {
	checkConfigFaults(t, []configFault{
		{"empty file", "", "(file)", "the file is empty"},
		{"only comments", "# authorization, to do\n", "(file)", "the file is empty"},
		{"no issuers", "issuers: []\n", "issuers", "at least one issuer is required"},
		{"only the authorizer section", "authorizer:\n  uiAccess: explicit\n", "issuers", "at least one issuer is required"},
	})
}
