package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardened-temporal/temporal-image/plugin/internal/testissuer"
)

// check runs `temporal-server authz check args...` in-process, with an empty environment.
func check(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"temporal-server", "authz", "check"}, args...), &out, &errOut,
		func(string) string { return "" })
	return code, out.String(), errOut.String()
}

func TestAuthzCheck(t *testing.T) {
	issuer := testissuer.New(t)
	dir := t.TempDir()
	authzFile := filepath.Join(dir, "authorization.yaml")
	writeFile(t, authzFile, "issuers:\n  - issuer: "+issuer.URL()+"\n    audiences: [temporal]\n"+
		"authorizer:\n  rules:\n    - name: no-terminate-in-prod\n      namespaces: [prod]\n      deny: [TerminateWorkflowExecution]\n")
	configDir := t.TempDir() // a server config directory with authorization.yaml beside staging.yaml
	writeFile(t, filepath.Join(configDir, "staging.yaml"), minimalServerConfig)
	writeFile(t, filepath.Join(configDir, "authorization.yaml"), "issuers:\n  - issuer: "+issuer.URL()+"\n    audiences: [temporal]\n")
	badFile := filepath.Join(dir, "bad.yaml")
	writeFile(t, badFile, "issuers:\n  - issuer: "+issuer.URL()+"\n    audiences: temporal\n")

	writer := issuer.Issue(t, map[string]any{"sub": "alice", "aud": "temporal", "permissions": []string{"default:write", "prod:write"}})
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, "Bearer "+writer+"\n")
	claimsFile := filepath.Join(dir, "claims.json")
	writeFile(t, claimsFile, `{"iss": "`+issuer.URL()+`", "sub": "bob", "permissions": ["default:read"]}`)
	wrongAudience := issuer.Issue(t, map[string]any{"sub": "alice", "aud": "other", "permissions": []string{"default:write"}})

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // each must appear in stdout+stderr
	}{
		{name: "valid config only", args: []string{"--authz-config", authzFile},
			wantCode: exitAllowed, want: []string{"config:    ok", authzFile}},
		{name: "invalid config names file and key", args: []string{"--authz-config", badFile},
			wantCode: exitError, want: []string{badFile, "issuers[0].audiences"}},
		{name: "authorization.yaml found beside the server config, as start finds it", args: []string{"--config", configDir, "--env", "staging", "--token", writer},
			wantCode: exitAllowed, want: []string{"beside the server config", "subject:   alice"}},
		{name: "a config directory without the environment's file", args: []string{"--config", configDir},
			wantCode: exitError, want: []string{"no config files found", configDir}},
		{name: "token grants without a decision", args: []string{"--authz-config", authzFile, "--token", writer},
			wantCode: exitAllowed, want: []string{"subject:   alice", "default: write", "prod: write"}},
		{name: "allowed call", args: []string{"--authz-config", authzFile, "--token", writer, "--api", "StartWorkflowExecution", "--namespace", "default"},
			wantCode: exitAllowed, want: []string{"/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution", "decision:  allow"}},
		{name: "call denied by a rule", args: []string{"--authz-config", authzFile, "--token-file", tokenFile, "--api", "TerminateWorkflowExecution", "--namespace", "prod"},
			wantCode: exitDenied, want: []string{"decision:  deny", "reason:", "alice", "no-terminate-in-prod"}},
		{name: "call in a namespace without grants", args: []string{"--authz-config", authzFile, "--token", writer, "--api", "ListWorkflowExecutions", "--namespace", "other"},
			wantCode: exitDenied, want: []string{"decision:  deny", "alice", "other"}},
		{name: "claims file, not verified", args: []string{"--authz-config", authzFile, "--claims", claimsFile, "--api", "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution", "-n", "default"},
			wantCode: exitDenied, want: []string{"subject:   bob", "default: read", "decision:  deny"}},
		{name: "token with the wrong audience is rejected", args: []string{"--authz-config", authzFile, "--token", wrongAudience, "--api", "StartWorkflowExecution", "--namespace", "default"},
			wantCode: exitDenied, want: []string{"token:     rejected"}},
		{name: "unknown API", args: []string{"--authz-config", authzFile, "--token", writer, "--api", "StartWorkflow", "--namespace", "default"},
			wantCode: exitError, want: []string{"--api", "unknown API \"StartWorkflow\""}},
		{name: "namespace API without --namespace", args: []string{"--authz-config", authzFile, "--token", writer, "--api", "StartWorkflowExecution"},
			wantCode: exitError, want: []string{"--namespace is required"}},
		{name: "two token sources", args: []string{"--authz-config", authzFile, "--token", writer, "--claims", claimsFile},
			wantCode: exitError, want: []string{"only one of"}},
		{name: "no authorization anywhere", args: []string{},
			wantCode: exitError, want: []string{"no authorization is configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := check(t, tt.args...)
			all := stdout + stderr
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tt.wantCode, all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestAuthzCheckReadsGlobalFlags: `temporal-server --config DIR authz check` (flags
// before the subcommand, as with start) finds the same config as `authz check --config DIR`.
func TestAuthzCheckReadsGlobalFlags(t *testing.T) {
	configDir := t.TempDir()
	writeFile(t, filepath.Join(configDir, "staging.yaml"), minimalServerConfig)
	writeFile(t, filepath.Join(configDir, "authorization.yaml"), "issuers:\n  - issuer: https://idp.example.com\n")
	var out bytes.Buffer
	code := run([]string{"temporal-server", "--config", configDir, "--env", "staging", "authz", "check"}, &out, &out,
		func(string) string { return "" })
	if code != exitAllowed || !strings.Contains(out.String(), filepath.Join(configDir, "authorization.yaml")) {
		t.Errorf("exit code %d, output:\n%s\nwant 0 and the authorization.yaml of %s", code, out.String(), configDir)
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"temporal-server", "--version"}, &out, &out, func(string) string { return "" }); code != 0 {
		t.Fatalf("--version exited %d: %s", code, out.String())
	}
	for _, want := range []string{"temporal-server dev", "commit:", "built:", "temporal server: 1.", "go:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--version output lacks %q:\n%s", want, out.String())
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// minimalServerConfig passes upstream's validation; nothing is started from it here.
const minimalServerConfig = `
persistence:
  defaultStore: sqlite-default
  visibilityStore: sqlite-visibility
  numHistoryShards: 1
  datastores:
    sqlite-default:
      sql: {pluginName: sqlite, databaseName: default, connectAddr: localhost, connectProtocol: tcp, connectAttributes: {mode: memory, cache: private}}
    sqlite-visibility:
      sql: {pluginName: sqlite, databaseName: visibility, connectAddr: localhost, connectProtocol: tcp, connectAttributes: {mode: memory, cache: private}}
services:
  frontend:
    rpc: {grpcPort: 7233, membershipPort: 6933, bindOnIP: 127.0.0.1}
`
