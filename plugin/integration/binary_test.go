package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Values stamped into the test build of the binary, as the image build stamps them.
const (
	stampVersion = "1.31.2-42"
	stampCommit  = "0123456789abcdef0123456789abcdef01234567"
	stampDate    = "2026-12-03T12:34:56Z"
)

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
	buildDir  string
)

// TestMain removes the shared build of the binary once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds cmd/temporal-server once per test run, stamped with -ldflags -X.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "temporal-server-build-")
		if buildErr != nil {
			return
		}
		builtPath = filepath.Join(buildDir, "temporal-server")
		pkg := "github.com/hardened-temporal/temporal-image/plugin/internal/buildinfo"
		ldflags := "-X " + pkg + ".Version=" + stampVersion +
			" -X " + pkg + ".Commit=" + stampCommit +
			" -X " + pkg + ".Date=" + stampDate
		cmd := exec.Command("go", "build", "-ldflags", ldflags, "-o", builtPath, "../cmd/temporal-server")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = errors.New("go build ./cmd/temporal-server: " + err.Error() + "\n" + out.String())
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

// result of one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs the binary with args and only the environment given (plus PATH), so
// that the developer's TEMPORAL_* variables never leak into a test.
func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	path := binary(t) // built once and shared; the build must not eat the run's deadline
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// serverConfigDir writes a valid server config (in-memory SQLite; nothing listens, the
// tests here stop before the server starts) and returns its directory.
func serverConfigDir(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "development.yaml"), minimalServerConfig+extra)
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBinaryVersionPrintsStampedValues(t *testing.T) {
	r := runBinary(t, nil, "--version")
	if r.code != 0 {
		t.Fatalf("--version exited %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{stampVersion, stampCommit, stampDate, "temporal server: 1.", "go1."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--version output %q lacks %q", r.stdout, want)
		}
	}
}

func TestBinaryRefusesToStart(t *testing.T) {
	noAuthz := serverConfigDir(t, "")

	badKey := serverConfigDir(t, "")
	writeFile(t, filepath.Join(badKey, "authorization.yaml"), "issuers:\n  - issuer: https://idp.example.com\n    audience: [temporal]\n")

	badRegex := serverConfigDir(t, "")
	writeFile(t, filepath.Join(badRegex, "authorization.yaml"),
		"issuers:\n  - issuer: https://idp.example.com\n    permissions:\n      - claim: permissions\n        format: regex\n        regex: '(?P<namespace>[a-z'\n")

	twice := serverConfigDir(t, upstreamAuthorization)
	writeFile(t, filepath.Join(twice, "authorization.yaml"), "issuers:\n  - issuer: https://idp.example.com\n")

	missingExplicit := filepath.Join(t.TempDir(), "no-such-authorization.yaml")

	noInternalFrontend := serverConfigDir(t, "") // authorization on, services.internal-frontend missing
	writeFile(t, filepath.Join(noInternalFrontend, "authorization.yaml"), "issuers:\n  - issuer: https://idp.example.com\n")

	tests := []struct {
		name string
		env  []string
		args []string
		want []string // every one must appear in stderr
	}{
		{
			name: "no authorization configured",
			args: []string{"--config", noAuthz, "start"},
			want: []string{"refusing to start", "no authorization is configured", filepath.Join(noAuthz, "authorization.yaml"), "--allow-no-auth", "TEMPORAL_ALLOW_NO_AUTH=true"},
		},
		{
			name: "no authorization configured, config dir from TEMPORAL_CONFIG_DIR",
			env:  []string{"TEMPORAL_CONFIG_DIR=" + noAuthz},
			args: []string{"start"},
			want: []string{"refusing to start", "TEMPORAL_CONFIG_DIR"},
		},
		{
			name: "TEMPORAL_ALLOW_NO_AUTH that is not a boolean",
			env:  []string{"TEMPORAL_CONFIG_DIR=" + noAuthz, "TEMPORAL_ALLOW_NO_AUTH=yes-please"},
			args: []string{"start"},
			want: []string{"TEMPORAL_ALLOW_NO_AUTH", "yes-please"},
		},
		{
			name: "unknown key in authorization.yaml",
			args: []string{"--config", badKey, "start"},
			want: []string{filepath.Join(badKey, "authorization.yaml"), "issuers[0].audience"},
		},
		{
			name: "bad regex in authorization.yaml",
			args: []string{"--config", badRegex, "start"},
			want: []string{filepath.Join(badRegex, "authorization.yaml"), "issuers[0].permissions[0].regex"},
		},
		{
			name: "authorization.yaml and global.authorization both set",
			args: []string{"--config", twice, "start"},
			want: []string{"authorization configured twice", filepath.Join(twice, "authorization.yaml"), "global.authorization"},
		},
		{
			name: "--authz-config naming a missing file",
			args: []string{"--config", noAuthz, "--authz-config", missingExplicit, "start"},
			want: []string{"--authz-config", missingExplicit},
		},
		{
			name: "TEMPORAL_AUTHZ_CONFIG_FILE naming a missing file",
			env:  []string{"TEMPORAL_AUTHZ_CONFIG_FILE=" + missingExplicit},
			args: []string{"--config", noAuthz, "start"},
			want: []string{"TEMPORAL_AUTHZ_CONFIG_FILE", missingExplicit},
		},
		{
			name: "authorization on without services.internal-frontend",
			args: []string{"--config", noInternalFrontend, "start"},
			want: []string{"services.internal-frontend is not configured", "schedules"},
		},
		{
			name: "--config-file combined with --env",
			args: []string{"--config-file", filepath.Join(noAuthz, "development.yaml"), "--env", "production", "start"},
			want: []string{"--config-file can not be combined"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, tt.env, tt.args...)
			if r.code == 0 {
				t.Fatalf("exit code 0, want non-zero; stderr:\n%s", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

// TestBinaryOptOutIsLoud starts the binary with --allow-no-auth and checks the warning
// is printed before the server runs; the process is then stopped.
func TestBinaryOptOutIsLoud(t *testing.T) {
	dir := serverConfigDir(t, "")
	cmd := exec.Command(binary(t), "--config", dir, "--allow-no-auth", "start")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Dir = t.TempDir()
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill() // by PID: the process this test started
		<-done
	}()
	eventually(t, 30*time.Second, "the no-authorization warning", func() error {
		if !strings.Contains(stderr.String(), "AUTHORIZATION IS OFF") {
			return errors.New("not printed yet")
		}
		return nil
	})
}

// syncBuffer is a bytes.Buffer safe for the process's writers and the test's reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// minimalServerConfig passes upstream's validation; its ports are never opened by the
// refusal tests.
const minimalServerConfig = `
log:
  stdout: true
  level: warn
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
    rpc: {grpcPort: 17233, membershipPort: 16933, bindOnIP: 127.0.0.1}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:17233
`

// upstreamAuthorization is the seed deployment's way of turning authorization on.
const upstreamAuthorization = `
global:
  authorization:
    authorizer: default
    claimMapper: default
    jwtKeyProvider:
      keySourceURIs: [https://idp.example.com/jwks]
`
