package integration

// Config faults through the real binary: for each class of broken authorization.yaml,
// `temporal-server --config DIR start` exits non-zero before serving, and stderr names the
// file and the key. plugin/authz/config_faults_test.go covers more variants of each class
// through authz.LoadFile; this proves the binary stops on them.

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestBinaryConfigFaults(t *testing.T) {
	const issuer = "issuers:\n  - issuer: https://idp.example.com/realms/temporal\n"
	cases := []struct {
		class, yaml, key, problem string
	}{
		{"unknown key", issuer + "    audience: [temporal]\n", "issuers[0].audience", `unknown key "audience"`},
		{"wrong type", issuer + "tokens:\n  cacheSize: lots\n", "tokens.cacheSize", "cannot unmarshal"},
		{"bad regex", issuer + "    permissions:\n      - claim: scope\n        format: regex\n        regex: '(?P<namespace>[a-z'\n",
			"issuers[0].permissions[0].regex", "does not compile"},
		{"bad glob", issuer + "authorizer:\n  rules:\n    - namespaces: ['prod-?']\n      deny: [TerminateWorkflowExecution]\n",
			"authorizer.rules[0].namespaces[0]", `invalid namespace "prod-?"`},
		{"unreachable JWKS file", issuer + "    jwksFile: /nonexistent/jwks.json\n", "issuers[0].jwksFile", "no such file or directory"},
		{"issuer without keys", issuer + "    jwksURI: https://idp.example.com/jwks\n    jwksFile: /etc/jwks.json\n",
			"issuers[0].jwksFile", "set only one of discoveryURL, jwksURI and jwksFile"},
		{"unknown role word", issuer + "    mappings:\n      - value: ops\n        grants: [{namespace: default, role: superuser}]\n",
			"issuers[0].mappings[0].grants[0]", `unknown role "superuser"`},
		{"empty config while auth is required", "", "(file)", "the file is empty"},
	}
	// Build first: runBinary's 60s timeout starts before binary() builds, so a first build
	// on a busy machine would otherwise eat the run's time.
	binary(t)
	for _, tc := range cases {
		t.Run(tc.class, func(t *testing.T) {
			t.Parallel()
			dir := serverConfigDir(t, "")
			path := filepath.Join(dir, "authorization.yaml")
			writeFile(t, path, tc.yaml)
			r := runBinary(t, nil, "--config", dir, "start")
			if r.code == 0 {
				t.Fatalf("exit code 0 for a broken config; stderr:\n%s", r.stderr)
			}
			for _, want := range []string{path, tc.key, tc.problem} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			// Stopped before serving: nothing was started.
			if strings.Contains(r.stdout+r.stderr, "Starting server for services") {
				t.Errorf("the server began starting:\n%s", r.stdout+r.stderr)
			}
		})
	}
}
